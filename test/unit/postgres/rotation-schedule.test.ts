import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronError, parseCron } from '../../../src/postgres/cron';
import { nextRotation, NO_ROTATION, rootRotationTiming, staticRoleTiming, windowEnd } from '../../../src/postgres/rotation-schedule';

const NOW = new Date('2030-01-01T00:00:30Z');

describe('parseCron', () => {
  it('reads five-field schedules in UTC, names included', () => {
    const cases: [string, string][] = [
      ['*/5 * * * *', '2030-01-01T00:05:00.000Z'],
      ['0 3 * * SAT', '2030-01-05T03:00:00.000Z'],
      ['30 1 1 feb *', '2030-02-01T01:30:00.000Z'],
      ['0 0 13 * 5', '2030-01-04T00:00:00.000Z'], // day of month OR day of week, as cron does
      ['15 * * * ?', '2030-01-01T00:15:00.000Z'],
    ];
    for (const [text, next] of cases) assert.equal(parseCron(text).next(NOW)?.toISOString(), next, text);
  });

  it('refuses what Vault refuses, naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['', /exactly 5 fields.*found 0/],
      ['* * * *', /found 4/],
      ['0 * * * * *', /found 6/],
      ['@daily', /found 1/],
      ['0 0 L * *', /"L" is not a month or day-of-week name/],
      ['0 0 * * 5#2', /only numbers/],
      ['60 * * * *', /60/],
      ['0 0 * foo *', /"foo"/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseCron(text), (err: unknown) => err instanceof CronError && message.test(err.message), text);
  });
});

describe('rotation timing', () => {
  it('nextRotation: period from the given time, schedule strictly after it; windowEnd only for a schedule with a window', () => {
    assert.equal(nextRotation({ period: 60, schedule: '', window: 0 }, NOW)?.toISOString(), '2030-01-01T00:01:30.000Z');
    assert.equal(nextRotation({ period: 0, schedule: '0 * * * *', window: 3600 }, NOW)?.toISOString(), '2030-01-01T01:00:00.000Z');
    assert.equal(nextRotation(NO_ROTATION, NOW), undefined);
    assert.equal(windowEnd({ period: 0, schedule: '0 * * * *', window: 3600 }, NOW)?.toISOString(), '2030-01-01T01:00:30.000Z');
    assert.equal(windowEnd({ period: 60, schedule: '', window: 0 }, NOW), undefined);
  });

  it('static roles: one of period and schedule, limits, a window only with a schedule', () => {
    assert.deepEqual(staticRoleTiming({ period: 5 }, undefined, NOW), { timing: { period: 5, schedule: '', window: 0 } });
    assert.deepEqual(staticRoleTiming({ schedule: '0 0 * * *', window: 3600 }, undefined, NOW), { timing: { period: 0, schedule: '0 0 * * *', window: 3600 } });
    // On update, a schedule replaces a period and a window sent alone applies to the stored schedule.
    assert.deepEqual(staticRoleTiming({ schedule: '0 0 * * *' }, { period: 60, schedule: '', window: 0 }, NOW), { timing: { period: 0, schedule: '0 0 * * *', window: 0 } });
    assert.deepEqual(staticRoleTiming({ window: 7200 }, { period: 0, schedule: '0 0 * * *', window: 0 }, NOW), { timing: { period: 0, schedule: '0 0 * * *', window: 7200 } });
    const problems: [Parameters<typeof staticRoleTiming>[0], RegExp][] = [
      [{}, /one of rotation_schedule or rotation_period/],
      [{ period: 4 }, /5 seconds or more/],
      [{ period: 60, schedule: '* * * * *' }, /mutually exclusive/],
      [{ period: 60, window: 3600 }, /rotation_window is invalid with use of rotation_period/],
      [{ schedule: '0 0 * * *', window: 3599 }, /3600 seconds or more/],
      [{ schedule: '0 0 31 2 *' }, /rotation_schedule/],
      [{ period: 1e20 }, /rotation_period must be 9223372036 seconds .* or less/],
      [{ period: 9_223_372_037 }, /rotation_period must be 9223372036 seconds .* or less/],
      [{ schedule: '0 0 * * *', window: 1e20 }, /rotation_window must be 9223372036 seconds .* or less/],
    ];
    for (const [sent, message] of problems) {
      const outcome = staticRoleTiming(sent, undefined, NOW);
      assert.ok('problem' in outcome && message.test(outcome.problem), JSON.stringify(sent));
    }
  });

  it('connections: 0 and "" turn rotation off; both set is refused', () => {
    const period = { period: 3600, schedule: '', window: 0 };
    assert.deepEqual(rootRotationTiming({ period: 0 }, period, NOW), { timing: NO_ROTATION });
    assert.deepEqual(rootRotationTiming({ schedule: '0 * * * *' }, period, NOW), { timing: { period: 0, schedule: '0 * * * *', window: 0 } });
    assert.deepEqual(rootRotationTiming({}, period, NOW), { timing: period });
    const both = rootRotationTiming({ period: 60, schedule: '0 * * * *' }, NO_ROTATION, NOW);
    assert.ok('problem' in both && /mutually exclusive/.test(both.problem));
    const window = rootRotationTiming({ window: 7200 }, period, NOW);
    assert.ok('problem' in window && /rotation_window/.test(window.problem));
    const long = rootRotationTiming({ period: 1e20 }, NO_ROTATION, NOW);
    assert.ok('problem' in long && /rotation_period must be 9223372036 seconds .* or less/.test(long.problem));
    assert.deepEqual(rootRotationTiming({ period: 9_223_372_036 }, NO_ROTATION, NOW), { timing: { period: 9_223_372_036, schedule: '', window: 0 } });
  });

  it('nextRotation: a period past the dates a clock can name (stored before the limit) has no next time', () => {
    assert.equal(nextRotation({ period: 1e20, schedule: '', window: 0 }, NOW), undefined);
    assert.equal(nextRotation({ period: 9_223_372_036, schedule: '', window: 0 }, NOW)?.toISOString(), '2322-04-12T23:47:46.000Z');
  });
});
