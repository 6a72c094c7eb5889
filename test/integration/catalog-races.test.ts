/**
 * Concurrent issuance whose creation statements create a shared object when
 * it is missing (a group role, a schema, a table): every caller sees it
 * missing, all but the first to commit fail with a unique violation on a
 * catalog index (23505), duplicate_object (42710) or duplicate_table or
 * duplicate_schema (42P07, 42P06), and the engine must
 * retry them so that every read succeeds. A real duplicate (a row in a
 * table of the operator's, the user's own name) is not retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Pool } from 'pg';
import { createUser } from '../../src/postgres/users/create-user';
import { engineBackend, expectOk, pgConnection } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CONCURRENCY = 16;
const ROUNDS = 3;
const USER = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`;

/** Statements that create shared object number `n` if it is missing, then use it. */
const SHARED_OBJECT_STATEMENTS: Array<[string, (n: string) => string[]]> = [
  [
    'a group role made in a DO block that checks pg_roles',
    (n) => [`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grp_if_${n}') THEN CREATE ROLE grp_if_${n}; END IF; END $$`, USER, `GRANT grp_if_${n} TO "{{name}}"`],
  ],
  [
    'a group role made in a DO block with an EXCEPTION WHEN duplicate_object handler',
    (n) => [`DO $$ BEGIN CREATE ROLE grp_exc_${n}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`, USER, `GRANT grp_exc_${n} TO "{{name}}"`],
  ],
  ['CREATE SCHEMA IF NOT EXISTS', (n) => [`CREATE SCHEMA IF NOT EXISTS s_${n}`, USER, `GRANT USAGE ON SCHEMA s_${n} TO "{{name}}"`]],
  ['CREATE TABLE IF NOT EXISTS', (n) => [`CREATE TABLE IF NOT EXISTS t_${n} (id int)`, USER, `GRANT SELECT ON t_${n} TO "{{name}}"`]],
];

describe('catalog races in concurrent issuance', () => {
  let pg: PostgresServer;
  let su: Client;

  before(async () => {
    pg = await startPostgres();
    su = new Client({ connectionString: pg.url });
    await su.connect();
  });
  after(async () => {
    await su?.end();
    await pg?.stop();
  });

  for (const [what, statements] of SHARED_OBJECT_STATEMENTS) {
    it(`${what}: ${CONCURRENCY} concurrent creds reads all succeed, ${ROUNDS} rounds`, async () => {
      const e = await engineBackend();
      // As many connections as readers, so that they really race.
      expectOk(await e.call('update', 'config/main', pgConnection(pg, { max_open_connections: CONCURRENCY })), 'config');
      // Open every connection first: new ones log in one after the other, which staggers the readers.
      expectOk(await e.call('update', 'roles/warm', { db_name: 'main', creation_statements: [USER] }), 'role warm');
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => expectOk(await e.call('read', 'creds/warm'), 'warm-up read')));
      for (let round = 0; round < ROUNDS; round++) {
        // A fresh object each round, so that each round starts with it missing.
        const n = `${SHARED_OBJECT_STATEMENTS.findIndex(([w]) => w === what)}_${round}`;
        expectOk(await e.call('update', `roles/r${n}`, { db_name: 'main', creation_statements: statements(n) }), 'role');
        const replies = await Promise.allSettled(Array.from({ length: CONCURRENCY }, () => e.call('read', `creds/r${n}`)));
        const failures = replies.map((r) => (r.status === 'rejected' ? String(r.reason) : r.value?.data?.['error'])).filter((m) => m !== undefined);
        assert.deepEqual(failures, [], `round ${round}: every read succeeds`);
        const names = replies.map((r) => (r.status === 'rejected' ? '' : String(r.value?.data?.['username'])));
        const live = await su.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [names]);
        assert.equal(live.rows[0]?.n, CONCURRENCY, `round ${round}: ${CONCURRENCY} users exist`);
      }
    });
  }

  describe('a real duplicate is not retried', () => {
    let pool: Pool;
    const attempts = async () => Number((await su.query<{ v: string }>('SELECT last_value AS v FROM attempts')).rows[0]?.v);
    const user = (username: string) => ({ username, passwordValue: 'pw-0123456789', expiration: '2099-01-01 00:00:00+0000' });

    before(async () => {
      // A sequence counts attempts: nextval survives the rollback of a failed one.
      await su.query('CREATE SEQUENCE attempts; CREATE TABLE registry (name text PRIMARY KEY)');
      pool = new Pool({ connectionString: pg.url, max: 2 });
      pool.on('error', () => undefined);
    });
    after(async () => {
      await pool?.end();
    });

    it('a unique violation on a table of the operator\'s fails at the first attempt', async () => {
      const statements = ["SELECT nextval('attempts')", USER, "INSERT INTO registry VALUES ('only-once')"];
      await createUser(pool, statements, user('v-registry-1'));
      const before = await attempts();
      await assert.rejects(createUser(pool, statements, user('v-registry-2')), { code: '23505', constraint: 'registry_pkey' });
      assert.equal(await attempts(), before + 1, 'one attempt');
    });

    it('the user\'s own name taken (42710) fails at the first attempt: only a new name could succeed', async () => {
      const statements = ["SELECT nextval('attempts')", USER];
      await createUser(pool, statements, user('v-taken'));
      const before = await attempts();
      await assert.rejects(createUser(pool, statements, user('v-taken')), { code: '42710' });
      assert.equal(await attempts(), before + 1, 'one attempt');
    });
  });
});
