/**
 * Vault's lease rules, statements checked when a role is written,
 * credentials that cannot log in, bad input and performance standbys, end
 * to end: the built binary in the Vault under test (a real Vault or OpenBao
 * named by VAULT_ADDR, else the conformance host), a real PostgreSQL, and
 * only Vault's HTTP API. The performance standby needs the conformance host
 * (`-performance-standby`); against a real server that part is skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { registerPlugin, startVault, stopVaultFirst, type ApiReply, type VaultUnderTest } from '../helpers/vault-host';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`;
const CREATE_OWNER = `${CREATE}; GRANT CREATE ON SCHEMA public TO "{{name}}"`;
const DROP_ALL = 'REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}"; DROP ROLE "{{name}}"';
const MOUNT = 'pg-lease-rules';

const ok = (res: ApiReply, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);

describe('lease rules and role statements through Vault', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;

  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const roleCount = async () => (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles')).rows[0]?.n;
  const validUntil = async (name: string) => ((await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [name])).rows[0]?.rolvaliduntil as Date).getTime();
  const lookup = (leaseId: string) => vault.request('PUT', 'sys/leases/lookup', { lease_id: leaseId });
  const role = async (name: string, body: Record<string, unknown>) =>
    ok(await vault.request('POST', `${MOUNT}/roles/${name}`, { db_name: 'main', creation_statements: CREATE, ...body }), `role ${name}`);
  async function issue(roleName: string): Promise<{ username: string; password: string; leaseId: string }> {
    const res = await vault.request('GET', `${MOUNT}/creds/${roleName}`);
    ok(res, `creds/${roleName}`);
    return { username: res.body.data.username, password: res.body.data.password, leaseId: res.body.lease_id };
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 0, revokeRetryBaseMs: 500 });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    ok(await vault.request('POST', `sys/mounts/${MOUNT}`, { type: PLUGIN_NAME }), 'mount');
    ok(await vault.request('POST', `${MOUNT}/config/main`, connectionConfig(pg, '*')), 'config');
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it('a revocation that fails (the user owns a table) keeps the lease; fixing the role makes the same lease revocable', async () => {
    await role('owner', { creation_statements: CREATE_OWNER, revocation_statements: 'REVOKE CREATE ON SCHEMA public FROM "{{name}}"; DROP ROLE "{{name}}"' });
    const user = await issue('owner');
    const session = new Client({ host: '127.0.0.1', port: pg.port, database: 'postgres', user: user.username, password: user.password });
    await session.connect();
    await session.query('CREATE TABLE e2e_owned (v int)');
    await session.end();

    const failed = await vault.request('PUT', 'sys/leases/revoke', { lease_id: user.leaseId });
    assert.ok(failed.status >= 400, `revoke fails: HTTP ${failed.status}`);
    assert.match(failed.text, /cannot be dropped because some objects depend on it \(2BP01\)/);
    assert.equal((await lookup(user.leaseId)).status, 200, 'the lease is still there');
    assert.equal(await exists(user.username), true);

    await role('owner', { creation_statements: CREATE_OWNER, revocation_statements: DROP_ALL });
    const revoked = await vault.request('PUT', 'sys/leases/revoke', { lease_id: user.leaseId });
    assert.equal(revoked.status, 204, revoked.text);
    assert.equal(await exists(user.username), false);
    assert.notEqual((await lookup(user.leaseId)).status, 200, 'the lease is gone');
    assert.equal((await admin.query("SELECT tableowner FROM pg_tables WHERE tablename = 'e2e_owned'")).rows[0]?.tableowner, pg.user);
  });

  it("renewing a lease whose role was deleted fails with Vault's error; lease and VALID UNTIL stay; it still revokes", async () => {
    await role('doomed', { default_ttl: '1h', max_ttl: '2h', revocation_statements: 'DROP ROLE "{{name}}"' });
    const user = await issue('doomed');
    const until = await validUntil(user.username);
    const expireTime = (await lookup(user.leaseId)).body.data.expire_time;
    ok(await vault.request('DELETE', `${MOUNT}/roles/doomed`), 'delete role');

    const renew = await vault.request('PUT', 'sys/leases/renew', { lease_id: user.leaseId, increment: 5400 });
    assert.ok(renew.status >= 400, `renew fails: HTTP ${renew.status}`);
    assert.match(renew.text, /error during renew: could not find role with name \\?"doomed\\?"/);
    assert.equal(await validUntil(user.username), until, 'rolvaliduntil unchanged');
    assert.equal((await lookup(user.leaseId)).body.data.expire_time, expireTime, 'the lease keeps its expiry');

    const revoked = await vault.request('PUT', 'sys/leases/revoke', { lease_id: user.leaseId });
    assert.equal(revoked.status, 204, revoked.text);
    assert.equal(await exists(user.username), false, 'revoked with the statements recorded at issue');
  });

  it('renew and revocation statements that cannot run are a 400 at role write, naming the field; nothing is left', async () => {
    const before = await roleCount();
    for (const [field, statement, message] of [
      ['revocation_statements', 'DROP ROLLE "{{name}}"', /revocation_statements failed in a test transaction .*syntax error at or near \\"ROLLE\\" \(42601\)/],
      ['renew_statements', `ALTER ROLE "x{{name}}" VALID UNTIL '{{expiration}}'`, /renew_statements failed in a test transaction .*does not exist \(42704\)/],
    ] as const) {
      const res = await vault.request('POST', `${MOUNT}/roles/typo`, { db_name: 'main', creation_statements: CREATE, [field]: statement });
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, message);
    }
    assert.equal((await vault.request('GET', `${MOUNT}/roles/typo`)).status, 404);
    assert.equal(await roleCount(), before, 'pg_roles as before');
  });

  it('creation statements that create no role named {{name}}: warnings at role write and creds; the lease revokes', async () => {
    const written = await vault.request('POST', `${MOUNT}/roles/bootstrap`, { db_name: 'main', creation_statements: `DO $$ BEGIN RAISE NOTICE 'bootstrap'; END $$` });
    assert.equal(written.status, 200, written.text);
    assert.match(String(written.body.warnings), /will not be able to log in/);
    const creds = await vault.request('GET', `${MOUNT}/creds/bootstrap`);
    assert.equal(creds.status, 200, creds.text);
    assert.match(String(creds.body.warnings), /created no role named .*: this credential cannot log in/);
    assert.equal(await exists(creds.body.data.username), false);
    const revoked = await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id });
    assert.equal(revoked.status, 204, revoked.text);
  });

  it('a username_template too long for a long role name is a 400 at role write, naming both', async () => {
    ok(await vault.request('POST', `${MOUNT}/config/byrole`, { ...connectionConfig(pg, '*'), username_template: 'v-{{.RoleName}}-{{random 20}}' }), 'config');
    const long = 'r'.repeat(45);
    const res = await vault.request('POST', `${MOUNT}/roles/${long}`, { db_name: 'byrole', creation_statements: CREATE });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, new RegExp(`username_template of connection \\\\"byrole\\\\" does not work for this role name \\(name \\\\"${long}\\\\"\\): the username template rendered a 68-byte username`));
  });
});

describe('performance standby (conformance host)', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;
  const external = process.env.VAULT_ADDR !== undefined && process.env.VAULT_ADDR !== '';
  const STANDBY_MOUNT = 'pg-standby';

  /** The host's log lines saying the standby forwarded a request to `path` (in the mount). */
  const forwarded = (path: string): string[] =>
    (vault.logs() ?? '').split('\n').filter((line) => line.includes('performance standby: forwarding request to the active node') && line.includes(`${STANDBY_MOUNT}/${path}`));

  before(async () => {
    if (external) return;
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 0, extraArgs: ['-performance-standby'] });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    ok(await vault.request('POST', `sys/mounts/${STANDBY_MOUNT}`, { type: PLUGIN_NAME }), 'mount');
  });
  after(() => (external ? undefined : stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop())));

  it('every write is refused on the standby before it touches anything, forwarded, and answered by the active node', { skip: external && 'needs the conformance host (-performance-standby)' }, async () => {
    const steps: Array<[string, string, string, unknown, number]> = [
      ['config write', 'POST', 'config/main', connectionConfig(pg, '*'), 204],
      ['role write', 'POST', 'roles/app', { db_name: 'main', creation_statements: CREATE }, 204],
      ['role write with a typo (the active node answers the 400)', 'POST', 'roles/typo', { db_name: 'main', creation_statements: 'CREAT ROLE x' }, 400],
      ['creds', 'GET', 'creds/app', undefined, 200],
      ['reset', 'POST', 'reset/main', {}, 204],
      ['reconcile, dry run', 'POST', 'reconcile/main', {}, 200],
      ['reconcile, dry_run=false', 'POST', 'reconcile/main', { dry_run: false }, 200],
      ['role delete', 'DELETE', 'roles/typo', undefined, 204],
    ];
    for (const [what, method, path, body, status] of steps) {
      const res = await vault.request(method, `${STANDBY_MOUNT}/${path}`, body);
      assert.equal(res.status, status, `${what}: HTTP ${res.status} ${res.text}`);
      const lines = forwarded(path);
      assert.ok(lines.length > 0, `${what}: forwarded`);
      // Refused at once, with Vault's own error: not a storage write that failed after the database was used.
      const line = lines[lines.length - 1] ?? '';
      assert.match(line, /cannot write to readonly storage/, `${what}: ${line}`);
      assert.doesNotMatch(line, /storage (put|delete) failed/, `${what}: refused before anything was done: ${line}`);
    }
    const reads = await vault.request('GET', `${STANDBY_MOUNT}/roles/app`);
    assert.equal(reads.status, 200, 'reads are answered by the standby');
    assert.equal(forwarded('roles/app').filter((l) => l.includes('method=GET')).length, 0);
  });

  it('a credential issued through the standby is a working lease on the active node: renew and revoke', { skip: external && 'needs the conformance host (-performance-standby)' }, async () => {
    const creds = await vault.request('GET', `${STANDBY_MOUNT}/creds/app`);
    assert.equal(creds.status, 200, creds.text);
    assert.equal(await (async () => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [creds.body.data.username])).rowCount)(), 1);
    ok(await vault.request('PUT', 'sys/leases/renew', { lease_id: creds.body.lease_id, increment: 600 }), 'renew');
    assert.equal((await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id })).status, 204);
    assert.equal((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [creds.body.data.username])).rowCount, 0);
  });
});
