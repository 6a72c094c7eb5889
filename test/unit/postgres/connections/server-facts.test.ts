import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Pool } from 'pg';
import { createLogger } from '../../../../src/log';
import { PoolRegistry } from '../../../../src/postgres/connections/pools';
import { membershipGrant } from '../../../../src/postgres/connections/server-facts';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('membershipGrant', () => {
  const cases: Array<[string, { major: number; superuser: boolean }, string | undefined]> = [
    ['a superuser needs none (13)', { major: 13, superuser: true }, undefined],
    ['a superuser needs none (18)', { major: 18, superuser: true }, undefined],
    ['CREATEROLE on 13', { major: 13, superuser: false }, 'GRANT "v-a""b" TO CURRENT_USER'],
    ['CREATEROLE on 15', { major: 15, superuser: false }, 'GRANT "v-a""b" TO CURRENT_USER'],
    ['CREATEROLE on 16: INHERIT, not SET', { major: 16, superuser: false }, 'GRANT "v-a""b" TO CURRENT_USER WITH INHERIT TRUE, SET FALSE'],
    ['CREATEROLE on 18', { major: 18, superuser: false }, 'GRANT "v-a""b" TO CURRENT_USER WITH INHERIT TRUE, SET FALSE'],
  ];
  for (const [what, facts, expected] of cases) {
    it(what, () => assert.equal(membershipGrant(facts, 'v-a"b'), expected));
  }
});

describe('server facts per pool', () => {
  /** A pool whose connections answer the probe, counting the probes; the first `failures` fail. */
  function fakePool(failures = 0): { pool: Pool; probes: () => number } {
    let probes = 0;
    const client = {
      query: async () => {
        probes++;
        if (probes <= failures) throw Object.assign(new Error('the database system is starting up'), { code: '57P03' });
        return { rows: [{ version: 160004, superuser: false }] };
      },
      release: () => undefined,
    };
    const pool = { connect: async () => client, on: () => pool, end: async () => undefined };
    // A stand-in with only what PoolRegistry.facts uses.
    return { pool: pool as unknown as Pool, probes: () => probes };
  }

  it('asks once per pool, however many revocations ask at once', async () => {
    const { pool, probes } = fakePool();
    const registry = new PoolRegistry(silent, async () => pool);
    const p = await registry.get('main', 'v1', () => ({}));
    const all = await Promise.all(Array.from({ length: 5 }, () => registry.facts(p)));
    assert.deepEqual(all[0], { major: 16, superuser: false });
    assert.equal(probes(), 1);
  });

  it('asks again after a failed probe', async () => {
    const { pool, probes } = fakePool(1);
    const registry = new PoolRegistry(silent, async () => pool);
    await assert.rejects(registry.facts(pool), { code: '57P03' });
    assert.deepEqual(await registry.facts(pool), { major: 16, superuser: false });
    assert.equal(probes(), 2);
  });
});
