/**
 * Dynamic credentials end to end: the built binary mounted in the Vault under
 * test (a real Vault or OpenBao named by VAULT_ADDR, else the conformance
 * host), a real PostgreSQL, and only Vault's HTTP API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { checkServerLog } from '../helpers/server-log';
import { registerPlugin, startVault, stopVaultFirst, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON t TO "{{name}}";`;

const until = (what: string, check: () => Promise<boolean>, ms = 15_000) => waitUntil(what, check, ms);

describe('dynamic credentials', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;

  const roleNames = async (): Promise<string[]> =>
    (await admin.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1")).rows.map((r) => r.rolname);
  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const login = (user: string, password: string) => new Client({ host: '127.0.0.1', port: pg.port, user, password, database: 'postgres' });
  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);

  async function register(name: string, env: string[] = []): Promise<void> {
    await registerPlugin(vault, name, { binaryPath: pluginBinary(), env });
  }
  async function mount(mountPath: string, type: string, options: Record<string, string> = {}, config: Record<string, string> = {}): Promise<void> {
    ok(await vault.request('POST', `sys/mounts/${mountPath}`, { type, options, config }), `mount ${mountPath}`);
    ok(await vault.request('POST', `${mountPath}/config/main`, connectionConfig(pg, '*')), `${mountPath} config`);
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE t (id int); INSERT INTO t VALUES (42)');
    // Fast clocks where they can be set (the bundled host); a real server keeps its own, see vault.timing.
    vault = await startVault({ rollbackPeriodMs: 1000, revokeRetryBaseMs: 500 });
    await register(PLUGIN_NAME);
    await mount('pg', PLUGIN_NAME);
    ok(await vault.request('POST', 'pg/roles/app', { db_name: 'main', creation_statements: CREATE, default_ttl: '1h', max_ttl: '2h' }), 'role app');
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it('rejects a role whose creation statements do not run, naming the problem, and stores nothing', async () => {
    const res = await vault.request('POST', 'pg/roles/typo', { db_name: 'main', creation_statements: 'CREAT ROLE "{{name}}"' });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /syntax error/);
    assert.equal((await vault.request('GET', 'pg/roles/typo')).status, 404);
    const unknownVar = await vault.request('POST', 'pg/roles/typo', { db_name: 'main', creation_statements: 'CREATE ROLE "{{nme}}"' });
    assert.equal(unknownVar.status, 400, unknownVar.text);
    assert.match(unknownVar.text, /nme/);
    const noDb = await vault.request('POST', 'pg/roles/typo', { db_name: 'nope', creation_statements: CREATE });
    assert.equal(noDb.status, 400);
    assert.match(noDb.text, /nope/);
    assert.deepEqual((await roleNames()).filter((r) => r.startsWith('v-')), [], 'the test transaction left no user');
  });

  it('reads roles back in Vault\'s shape and accepts statements as JSON arrays and base64', async () => {
    const read = await vault.request('GET', 'pg/roles/app');
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.data.db_name, 'main');
    assert.equal(read.body.data.default_ttl, 3600);
    assert.equal(read.body.data.max_ttl, 7200);
    assert.equal(read.body.data.creation_statements.length, 2, 'split into single statements');
    const b64 = Buffer.from(CREATE).toString('base64');
    ok(await vault.request('POST', 'pg/roles/b64', { db_name: 'main', creation_statements: b64 }), 'base64 role');
    assert.equal((await vault.request('GET', 'pg/roles/b64')).body.data.creation_statements.length, 2);
    ok(await vault.request('POST', 'pg/roles/arr', { db_name: 'main', creation_statements: JSON.stringify(CREATE.split('; ')) }), 'json role');
    const list = await vault.request('LIST', 'pg/roles');
    assert.deepEqual(list.body.data.keys, ['app', 'arr', 'b64']);
  });

  it('issues a user that logs in and reads the granted table; renew moves VALID UNTIL; revoke drops it', async (t) => {
    const creds = await vault.request('GET', 'pg/creds/app');
    assert.equal(creds.status, 200, creds.text);
    const { username, password } = creds.body.data as { username: string; password: string };
    assert.equal(creds.body.lease_duration, 3600);
    assert.equal(creds.body.renewable, true);
    // Vault's default template: v-<display name, 8>-<role, 8>-<20 random>-<unix time>.
    const who = vault.tokenDisplayName.slice(0, 8).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(username, new RegExp(`^v-${who}-app-[A-Za-z0-9]{20}-\\d{10}$`));

    const user = login(username, password);
    await user.connect();
    assert.equal((await user.query('SELECT current_user AS u')).rows[0].u, username);
    assert.equal((await user.query('SELECT id FROM t')).rows[0].id, 42);
    await user.end();

    const stored = await admin.query('SELECT rolpassword, rolvaliduntil FROM pg_authid WHERE rolname = $1', [username]);
    assert.match(stored.rows[0].rolpassword, /^SCRAM-SHA-256\$/, 'the server received a SCRAM verifier');
    const validUntil1 = (stored.rows[0].rolvaliduntil as Date).getTime();
    const leaseEnd = Date.now() + 3600_000;
    assert.ok(Math.abs(validUntil1 - leaseEnd) < 120_000, 'VALID UNTIL is near the lease end');

    const renew = await vault.request('PUT', 'sys/leases/renew', { lease_id: creds.body.lease_id, increment: 7000 });
    assert.equal(renew.status, 200, renew.text);
    const validUntil2 = ((await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [username])).rows[0].rolvaliduntil as Date).getTime();
    assert.ok(validUntil2 > validUntil1 + 3000_000, `renew moved VALID UNTIL (${validUntil1} → ${validUntil2})`);

    const revoke = await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id });
    assert.equal(revoke.status, 204, revoke.text);
    assert.equal(await exists(username), false);
    await checkServerLog(t, vault, 'the password never reaches the logs', (log) => assert.equal(log.includes(password), false));
  });

  it('drops the user when the lease expires', async () => {
    ok(await vault.request('POST', 'pg/roles/short', { db_name: 'main', creation_statements: CREATE, default_ttl: '2s' }), 'role short');
    const creds = await vault.request('GET', 'pg/creds/short');
    assert.equal(creds.status, 200, creds.text);
    assert.equal(await exists(creds.body.data.username), true);
    // Room for one failed attempt: the next comes base·2 ± 50 % later.
    await until('expiry revocation', async () => !(await exists(creds.body.data.username)), 15_000 + 3 * vault.timing.revokeRetryBaseMs);
  });

  it('revokes a user that owns a table and holds an open session; the table survives', async () => {
    ok(
      await vault.request('POST', 'pg/roles/owner', {
        db_name: 'main',
        creation_statements: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT CREATE ON SCHEMA public TO "{{name}}";`,
      }),
      'role owner',
    );
    const creds = await vault.request('GET', 'pg/creds/owner');
    const { username, password } = creds.body.data;
    const session = login(username, password);
    session.on('error', () => undefined);
    await session.connect();
    await session.query('CREATE TABLE owned_by_lease (v text)');
    await session.query('INSERT INTO owned_by_lease VALUES ($1)', ['keep me']);

    const revoke = await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id });
    assert.equal(revoke.status, 204, revoke.text);
    assert.equal(await exists(username), false);
    const table = await admin.query("SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_lease'");
    assert.equal(table.rows[0].tableowner, pg.user, 'the table now belongs to the connection user');
    assert.equal((await admin.query('SELECT v FROM owned_by_lease')).rows[0].v, 'keep me');
    await assert.rejects(session.query('SELECT 1'), 'the session was terminated');
    await session.end().catch(() => undefined);
  });

  it('custom revocation statements on a role that is already gone succeed', async () => {
    ok(
      await vault.request('POST', 'pg/roles/custom', { db_name: 'main', creation_statements: CREATE, revocation_statements: 'REVOKE ALL ON t FROM "{{name}}"; DROP ROLE "{{name}}";' }),
      'role custom',
    );
    const creds = await vault.request('GET', 'pg/creds/custom');
    await admin.query(`REVOKE ALL ON t FROM "${creds.body.data.username}"; DROP ROLE "${creds.body.data.username}"`);
    const revoke = await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id });
    assert.equal(revoke.status, 204, revoke.text);
  });

  it('keeps hostile usernames inside their quotes', async () => {
    const hostile = `x"; DROP TABLE t; --'$$`;
    ok(
      await vault.request('POST', 'pg/config/hostile', {
        connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres`,
        username: pg.user,
        password: pg.password,
        allowed_roles: 'evil',
        username_template: `{{ printf "v-%s-%s" "${hostile.replace(/"/g, '\\"')}" (random 8) }}`,
      }),
      'hostile config',
    );
    ok(await vault.request('POST', 'pg/roles/evil', { db_name: 'hostile', creation_statements: CREATE }), 'role evil');
    const creds = await vault.request('GET', 'pg/creds/evil');
    assert.equal(creds.status, 200, creds.text);
    const { username, password } = creds.body.data;
    assert.ok(username.startsWith(`v-${hostile}-`), username);
    assert.equal(await exists(username), true, 'the role has exactly the hostile name');
    assert.equal((await admin.query('SELECT count(*)::int AS n FROM t')).rows[0].n, 1, 'table t survived');
    const user = login(username, password);
    await user.connect();
    assert.equal((await user.query('SELECT current_user AS u')).rows[0].u, username);
    await user.end();
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke hostile');
    assert.equal(await exists(username), false);
  });

  it('issues 32 concurrent users granted on one table, all distinct, and revokes them all', async () => {
    const before = await roleNames();
    const results = await Promise.all(Array.from({ length: 32 }, () => vault.request('GET', 'pg/creds/app')));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const names = new Set(results.map((r) => r.body.data.username as string));
    assert.equal(names.size, 32);
    for (const name of names) assert.equal(await exists(name), true);
    const grants = await admin.query("SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE table_name = 't' AND grantee LIKE 'v-%'");
    assert.equal(grants.rows[0].n, 32, 'every user got its GRANT');
    const revoke = await vault.request('PUT', 'sys/leases/revoke-prefix/pg/creds/app', {});
    assert.equal(revoke.status, 204, revoke.text);
    assert.deepEqual(await roleNames(), before, 'pg_roles is as it was');
  });

  it('rotate-root: the old root password stops working, the config keeps working', async () => {
    await admin.query("CREATE ROLE vaultroot WITH LOGIN SUPERUSER PASSWORD 'initial-root-pw'");
    ok(
      await vault.request('POST', 'pg/config/rot', {
        connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres`,
        username: 'vaultroot',
        password: 'initial-root-pw',
        allowed_roles: 'rotapp',
      }),
      'config rot',
    );
    ok(await vault.request('POST', 'pg/roles/rotapp', { db_name: 'rot', creation_statements: CREATE }), 'role rotapp');
    ok(await vault.request('POST', 'pg/rotate-root/rot', {}), 'rotate-root');
    await assert.rejects(async () => {
      const c = login('vaultroot', 'initial-root-pw');
      await c.connect();
      await c.end();
    }, /password authentication failed/);
    const creds = await vault.request('GET', 'pg/creds/rotapp');
    assert.equal(creds.status, 200, `config still works after rotation: ${creds.text}`);
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke rotapp');
    ok(await vault.request('POST', 'pg/reset/rot', {}), 'reset');
    assert.equal((await vault.request('GET', 'pg/config/rot')).text.includes('initial-root-pw'), false);
  });

  it('clamps the lease to the mount maximum and sets VALID UNTIL to match; renewals stop at max_ttl', async () => {
    await mount('pg-short', PLUGIN_NAME, {}, { default_lease_ttl: '30m', max_lease_ttl: '1h' });
    ok(await vault.request('POST', 'pg-short/roles/app', { db_name: 'main', creation_statements: CREATE, default_ttl: '2h' }), 'role');
    const creds = await vault.request('GET', 'pg-short/creds/app');
    assert.equal(creds.status, 200, creds.text);
    assert.equal(creds.body.lease_duration, 3600, 'capped by the mount max_lease_ttl');
    const validUntil = async () =>
      ((await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [creds.body.data.username])).rows[0].rolvaliduntil as Date).getTime();
    assert.ok(Math.abs((await validUntil()) - (Date.now() + 3600_000)) < 120_000, 'VALID UNTIL follows the capped lease, not the role TTL');
    const renew = await vault.request('PUT', 'sys/leases/renew', { lease_id: creds.body.lease_id, increment: 86400 });
    assert.equal(renew.status, 200, renew.text);
    assert.ok(renew.body.lease_duration <= 3600, `renewal capped: ${renew.body.lease_duration}`);
    assert.ok((await validUntil()) <= Date.now() + 3600_000 + 120_000, 'VALID UNTIL never passes the maximum');
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');
    ok(await vault.request('DELETE', 'sys/mounts/pg-short'), 'unmount');
  });

  it('generates passwords from a Vault password policy when one is named, and says so when it is missing', async () => {
    const policy = 'length = 30\nrule "charset" {\n  charset = "0123456789"\n  min-chars = 30\n}\n';
    ok(await vault.request('PUT', 'sys/policies/password/digits', { policy }), 'password policy');
    ok(
      await vault.request('POST', 'pg/roles/digits', { db_name: 'main', creation_statements: CREATE, credential_config: { password_policy: 'digits' } }),
      'role digits',
    );
    const creds = await vault.request('GET', 'pg/creds/digits');
    assert.equal(creds.status, 200, creds.text);
    assert.match(creds.body.data.password, /^\d{30}$/);
    const user = login(creds.body.data.username, creds.body.data.password);
    await user.connect();
    await user.end();
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');

    ok(await vault.request('POST', 'pg/roles/nopolicy', { db_name: 'main', creation_statements: CREATE, credential_config: { password_policy: 'missing' } }), 'role');
    const failed = await vault.request('GET', 'pg/creds/nopolicy');
    assert.equal(failed.status, 400, failed.text);
    assert.match(failed.body.errors[0], /password policy "missing" failed: failed to generate password/);
    const bad = await vault.request('POST', 'pg/roles/badcfg', { db_name: 'main', creation_statements: CREATE, credential_config: { pasword_policy: 'x' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /pasword_policy/);
  });

  it('refuses role names that are not plain names, and unknown roles', async () => {
    const quoted = await vault.request('POST', 'pg/roles/a"b', { db_name: 'main', creation_statements: CREATE });
    assert.equal(quoted.status, 404, quoted.text);
    const unknown = await vault.request('GET', 'pg/creds/nobody');
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.text, /unknown role: nobody/);
  });

  it('unmounting revokes every lease of the mount', async () => {
    await mount('pg-unmount', PLUGIN_NAME);
    ok(await vault.request('POST', 'pg-unmount/roles/app', { db_name: 'main', creation_statements: CREATE }), 'role');
    const issued = await Promise.all([1, 2, 3].map(() => vault.request('GET', 'pg-unmount/creds/app')));
    const users = issued.map((r) => r.body.data.username as string);
    for (const u of users) assert.equal(await exists(u), true);
    assert.equal((await vault.request('DELETE', 'sys/mounts/pg-unmount')).status, 204);
    for (const u of users) assert.equal(await exists(u), false, `${u} dropped at unmount`);
  });

  it('leaves no orphan when the plugin dies between CREATE ROLE and the response', async () => {
    const crashing = `${PLUGIN_NAME}-crashing`;
    await register(crashing, ['VAULT_PLUGIN_PG_CRASH_AT=creds-after-create']);
    await mount('pg-crash', crashing, { wal_rollback_min_age: '1s' });
    ok(await vault.request('POST', 'pg-crash/roles/app', { db_name: 'main', creation_statements: CREATE }), 'role');
    const before = (await roleNames()).filter((r) => r.startsWith('v-'));
    const res = await vault.request('GET', 'pg-crash/creds/app');
    assert.ok(res.status >= 500, `the request fails with the plugin: ${res.status} ${res.text}`);
    const orphans = (await roleNames()).filter((r) => r.startsWith('v-') && !before.includes(r));
    assert.ok(orphans.length >= 1, 'the crash left a committed role behind (no lease)');
    // The WAL entry may be too young (wal_rollback_min_age) for the next tick, never for the one after.
    await until('rollback of the orphaned users', async () => {
      const now = await roleNames();
      return orphans.every((o) => !now.includes(o));
    }, 2 * vault.timing.rollbackPeriodMs + 30_000);
  });
});
