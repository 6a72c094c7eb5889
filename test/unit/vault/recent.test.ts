import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Recent } from '../../../src/vault/recent';

/** A question that counts how often it was asked and answers with the count. */
function counter(fail = false) {
  let calls = 0;
  let clock = 0;
  const recent = new Recent(1_000, () => clock, async () => {
    calls++;
    if (fail) throw new Error(`failure ${calls}`);
    return calls;
  });
  return { recent, calls: () => calls, advance: (ms: number) => (clock += ms) };
}

describe('Recent', () => {
  it('reuses an answer within its time, asks again after it', async () => {
    const q = counter();
    assert.equal(await q.recent.get(), 1);
    q.advance(999);
    assert.equal(await q.recent.get(), 1);
    assert.equal(q.calls(), 1);
    q.advance(1);
    assert.equal(await q.recent.get(), 2);
    assert.equal(q.calls(), 2);
  });

  it('shares one call among concurrent callers', async () => {
    const q = counter();
    const answers = await Promise.all([q.recent.get(), q.recent.get(), q.recent.get()]);
    assert.deepEqual(answers, [1, 1, 1]);
    assert.equal(q.calls(), 1);
  });

  it('does not reuse a failure', async () => {
    const q = counter(true);
    await assert.rejects(q.recent.get(), /failure 1/);
    await assert.rejects(q.recent.get(), /failure 2/);
    assert.equal(q.calls(), 2);
  });
});
