/**
 * How production databases are set up, end to end through the Vault under
 * test (a real Vault or OpenBao named by VAULT_ADDR, else the conformance
 * host): a connection user that has CREATEROLE but is no superuser, as on
 * AWS RDS, Cloud SQL and Azure; and creation statements that create a shared
 * group role when it is missing, read by many clients at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { registerPlugin, startVault, stopVaultFirst, type VaultUnderTest } from '../helpers/vault-host';

const ADMIN = 'vaultadmin';
const ADMIN_PASSWORD = 'admin-password-0123456789';
const CONCURRENCY = 16;

describe('managed PostgreSQL', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let su: Client;
  const sessions: Client[] = [];

  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);
  const exists = async (name: string) => (await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;

  before(async () => {
    pg = await startPostgres();
    su = new Client({ connectionString: pg.url });
    await su.connect();
    await su.query(
      [
        `CREATE ROLE ${ADMIN} LOGIN CREATEROLE PASSWORD '${ADMIN_PASSWORD}'`,
        `CREATE ROLE app_readers NOLOGIN`,
        `GRANT app_readers TO ${ADMIN} WITH ADMIN OPTION`,
        `CREATE SCHEMA app AUTHORIZATION ${ADMIN}`,
        `SET ROLE ${ADMIN}`,
        'CREATE TABLE app.t (id int)',
        'RESET ROLE',
      ].join(';\n'),
    );
    vault = await startVault();
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    ok(await vault.request('POST', 'sys/mounts/pg', { type: PLUGIN_NAME }), 'mount pg');
    // The CREATEROLE admin, and as many connections as concurrent readers so that they really race.
    const config = { ...connectionConfig(pg, '*'), username: ADMIN, password: ADMIN_PASSWORD, max_open_connections: CONCURRENCY };
    ok(await vault.request('POST', 'pg/config/main', config), 'config');
  });
  after(() =>
    stopVaultFirst(
      vault,
      async () => Promise.all(sessions.map((s) => s.end().catch(() => undefined))),
      async () => su?.end(),
      async () => pg?.stop(),
    ),
  );

  it('a CREATEROLE admin (no superuser) revokes a user that owns a table and holds a session', async () => {
    ok(
      await vault.request('POST', 'pg/roles/app', {
        db_name: 'main',
        creation_statements: [
          `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
          'GRANT app_readers TO "{{name}}"',
          'GRANT SELECT ON app.t TO "{{name}}"',
          'GRANT USAGE, CREATE ON SCHEMA app TO "{{name}}"',
        ],
      }),
      'role app',
    );
    const creds = await vault.request('GET', 'pg/creds/app');
    assert.equal(creds.status, 200, creds.text);
    const { username, password } = creds.body.data as { username: string; password: string };
    const session = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: 'postgres' });
    session.on('error', () => undefined);
    sessions.push(session);
    await session.connect();
    await session.query('CREATE TABLE app.made_by_lease (v int)');

    ok(await vault.request('PUT', 'sys/leases/renew', { lease_id: creds.body.lease_id, increment: 7200 }), 'renew');
    const revoke = await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id });
    assert.equal(revoke.status, 204, revoke.text);
    assert.equal(await exists(username), false, 'the user is gone');
    assert.equal((await su.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_lease'")).rows[0]?.tableowner, ADMIN);
    await assert.rejects(session.query('SELECT 1'), 'the session was terminated');
  });

  for (const [what, group, statement] of [
    ['IF NOT EXISTS in a DO block', 'grp_if', (g: string) => `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${g}') THEN CREATE ROLE ${g}; END IF; END $$`],
    ['an EXCEPTION WHEN duplicate_object handler', 'grp_exc', (g: string) => `DO $$ BEGIN CREATE ROLE ${g}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`],
  ] as const) {
    it(`${CONCURRENCY} concurrent creds reads whose statements create a shared group role (${what}) all succeed`, async () => {
      for (let round = 0; round < 2; round++) {
        // A new group each round, so that each round starts with it missing.
        const g = `${group}_${round}`;
        ok(
          await vault.request('POST', `pg/roles/${g}`, {
            db_name: 'main',
            creation_statements: [statement(g), `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, `GRANT ${g} TO "{{name}}"`],
          }),
          `role ${g}`,
        );
        const replies = await Promise.all(Array.from({ length: CONCURRENCY }, () => vault.request('GET', `pg/creds/${g}`)));
        assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`), [], `round ${round}: every read succeeds`);
        const members = await su.query('SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = $1', [g]);
        // The admin is a member too on 16+ when it created the group (CREATEROLE's implicit ADMIN grant).
        assert.ok(Number(members.rows[0]?.n) >= CONCURRENCY, `round ${round}: ${CONCURRENCY} users in ${g}`);
      }
      ok(await vault.request('PUT', `sys/leases/revoke-prefix/pg/creds/${group}_0`, {}), 'revoke round 0');
      ok(await vault.request('PUT', `sys/leases/revoke-prefix/pg/creds/${group}_1`, {}), 'revoke round 1');
    });
  }
});
