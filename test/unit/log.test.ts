import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, hclogTimestamp } from '../../src/log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, destination };
}

describe('log', () => {
  it('writes hclog JSON: string level, six-digit timestamp, message, module', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination, module: 'test-module' });
    log.info({ role: 'app' }, 'issued credentials');
    log.fatal('boom');
    assert.equal(lines.length, 2);
    const [info, fatal] = lines;
    assert.equal(info?.['@level'], 'info');
    assert.equal(info?.['@message'], 'issued credentials');
    assert.equal(info?.['@module'], 'test-module');
    assert.equal(info?.['role'], 'app');
    assert.match(String(info?.['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(fatal?.['@level'], 'error', 'hclog has no fatal level');
  });

  it('redacts passwords and connection URLs', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    log.info({ password: 'hunter2', config: { connection_url: 'postgres://u:hunter2@h/db', private_key: 'KEY' } }, 'x');
    const text = JSON.stringify(lines);
    assert.equal(text.includes('hunter2'), false);
    assert.equal(text.includes('KEY'), false);
  });

  it('formats timestamps with microseconds', () => {
    assert.equal(hclogTimestamp(new Date('2024-05-01T12:34:56.123Z')), '2024-05-01T12:34:56.123000Z');
  });
});
