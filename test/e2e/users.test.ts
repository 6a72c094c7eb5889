/**
 * User records end to end, through the Vault under test (a real Vault or
 * OpenBao named by VAULT_ADDR, else the conformance host) and a real
 * PostgreSQL: users/ answers who holds which database user, renewals and
 * revocations keep it true, max_live_credentials and reconcile work over the
 * API, and users whose lease Vault never learned of are dropped by the sweep
 * and by the unmount.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { registerPlugin, startVault, stopVaultFirst, untilPluginAnswers, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;
const CRASHING = `${PLUGIN_NAME}-crash-issued`;
/** Seconds two clocks (the test's, the plugin's) and a round trip may disagree by. */
const SLACK_S = 5;

describe('user records through the Vault under test', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;

  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);
  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const roleNames = async () => new Set((await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname));
  const validUntil = async (name: string) => ((await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [name])).rows[0].rolvaliduntil as Date).getTime();
  const epoch = (rfc3339: unknown) => Date.parse(String(rfc3339)) / 1000;

  async function mount(path: string, type: string, options: Record<string, string> = {}, role: Record<string, unknown> = {}): Promise<void> {
    ok(await vault.request('POST', `sys/mounts/${path}`, { type, options }), `mount ${path}`);
    ok(await vault.request('POST', `${path}/config/main`, connectionConfig(pg, '*')), `${path} config`);
    ok(await vault.request('POST', `${path}/roles/app`, { db_name: 'main', creation_statements: CREATE, default_ttl: '1h', max_ttl: '4h', ...role }), `${path} role`);
  }

  /**
   * A creds read on a plugin that dies right after recording the user as
   * issued: the users exist, Vault holds no lease. The server may retry the
   * request once on a relaunched plugin (Vault's plugin backend does), which
   * dies the same way, so there may be two.
   */
  async function issueAndCrash(path: string): Promise<string[]> {
    const before = await roleNames();
    const res = await vault.request('GET', `${path}/creds/app`);
    assert.ok(res.status >= 500, `the request dies with the plugin: ${res.status} ${res.text}`);
    const created = [...(await roleNames())].filter((r) => !before.has(r));
    assert.ok(created.length >= 1, 'the crash left a committed role behind');
    await untilPluginAnswers(vault, 'LIST', `${path}/users`);
    const leases = await vault.request('LIST', `sys/leases/lookup/${path}/creds/app/`);
    assert.deepEqual(leases.body?.data?.keys ?? [], [], 'and Vault holds no lease for it');
    for (const username of created) {
      const record = await vault.request('GET', `${path}/users/${encodeURIComponent(username)}`);
      assert.equal(record.status, 200, `the relaunched plugin shows the record of ${username}: ${record.text}`);
      assert.equal(record.body.data.state, 'issued');
    }
    return created;
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 1000, revokeRetryBaseMs: 500 });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    await registerPlugin(vault, CRASHING, { binaryPath: pluginBinary(), env: ['VAULT_PLUGIN_PG_CRASH_AT=creds-after-issued'] });
    await mount('pg-users', PLUGIN_NAME);
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it('users/ list and read show role, connection, issued-at, lease end, display name and entity id of a real request', async () => {
    const self = await vault.request('GET', 'auth/token/lookup-self');
    // The bundled host knows only its root token, which has no entity.
    const entityId = vault.target === 'external' ? String(self.body?.data?.entity_id ?? '') : '';
    const t0 = Date.now() / 1000;
    const creds = await vault.request('GET', 'pg-users/creds/app');
    const t1 = Date.now() / 1000;
    assert.equal(creds.status, 200, creds.text);
    const username: string = creds.body.data.username;

    const list = await vault.request('LIST', 'pg-users/users');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.data.keys, [username]);
    const info = list.body.data.key_info[username];
    assert.equal(info.role, 'app');
    assert.equal(info.db_name, 'main');
    assert.equal(info.state, 'issued');
    assert.equal(info.display_name, vault.tokenDisplayName);
    assert.equal(info.entity_id, entityId);
    assert.match(info.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC 3339');
    assert.ok(epoch(info.issued_at) >= Math.floor(t0) - SLACK_S && epoch(info.issued_at) <= t1 + SLACK_S, `issued_at ${info.issued_at} is when the request ran`);
    assert.ok(Math.abs(epoch(info.lease_end) - (epoch(info.issued_at) + creds.body.lease_duration)) <= 1, `lease_end ${info.lease_end} = issued_at + lease_duration`);

    const read = await vault.request('GET', `pg-users/users/${encodeURIComponent(username)}`);
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.data, { username, ...info });
    assert.equal((await vault.request('GET', 'pg-users/users/v-nobody')).status, 404);
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');
  });

  it('renew moves lease_end and rolvaliduntil; revoke removes the record with the user', async () => {
    const creds = await vault.request('GET', 'pg-users/creds/app');
    assert.equal(creds.status, 200, creds.text);
    const username: string = creds.body.data.username;
    const path = `pg-users/users/${encodeURIComponent(username)}`;
    const before = (await vault.request('GET', path)).body.data;
    const validBefore = await validUntil(username);

    const renew = await vault.request('PUT', 'sys/leases/renew', { lease_id: creds.body.lease_id, increment: 7200 });
    assert.equal(renew.status, 200, renew.text);
    const after = (await vault.request('GET', path)).body.data;
    const expectedEnd = Date.now() / 1000 + renew.body.lease_duration;
    assert.ok(Math.abs(epoch(after.lease_end) - expectedEnd) <= SLACK_S, `lease_end ${after.lease_end} follows the renewal (${renew.body.lease_duration} s)`);
    assert.ok(epoch(after.lease_end) >= epoch(before.lease_end) + 3000, 'and moved forward');
    assert.equal(after.issued_at, before.issued_at, 'issued_at stays');
    const validAfter = await validUntil(username);
    assert.ok(validAfter >= validBefore + 3000_000, 'rolvaliduntil moved too');
    assert.ok(Math.abs(validAfter / 1000 - epoch(after.lease_end) - 60) <= SLACK_S, 'rolvaliduntil = lease_end + 60 s');

    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');
    assert.equal(await exists(username), false);
    assert.equal((await vault.request('GET', path)).status, 404, 'the record is gone');
    const list = await vault.request('LIST', 'pg-users/users');
    assert.equal((list.body?.data?.keys ?? []).includes(username), false);
  });

  it('max_live_credentials: the read beyond the limit is a 400 naming the role and its limit, and creates nothing', async () => {
    ok(await vault.request('POST', 'pg-users/roles/capped', { db_name: 'main', creation_statements: CREATE, max_live_credentials: 2 }), 'role capped');
    const first = await Promise.all([1, 2].map(() => vault.request('GET', 'pg-users/creds/capped')));
    for (const r of first) assert.equal(r.status, 200, r.text);
    const before = await roleNames();
    const third = await vault.request('GET', 'pg-users/creds/capped');
    assert.equal(third.status, 400, third.text);
    assert.deepEqual(third.body.errors, ['role "capped" has 2 live credentials, its max_live_credentials; revoke one or raise the limit']);
    assert.deepEqual(await roleNames(), before, 'no role was created');
    const negative = await vault.request('POST', 'pg-users/roles/capped', { max_live_credentials: -3 });
    assert.equal(negative.status, 400, negative.text);
    assert.match(negative.text, /max_live_credentials/);
    ok(await vault.request('PUT', 'sys/leases/revoke-prefix/pg-users/creds/capped', {}), 'revoke capped');
  });

  it('reconcile lists an unclaimed role of the connection\'s pattern but not a recorded one, and drops it only when asked', async () => {
    const creds = await vault.request('GET', 'pg-users/creds/app');
    assert.equal(creds.status, 200, creds.text);
    await admin.query('CREATE ROLE "v-leftover-of-an-old-crash" LOGIN');
    const dry = await vault.request('PUT', 'pg-users/reconcile/main', {});
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.body.data.dry_run, true);
    assert.equal(dry.body.data.pattern, 'v-%');
    assert.ok(dry.body.data.unclaimed.includes('v-leftover-of-an-old-crash'), dry.text);
    assert.equal(dry.body.data.unclaimed.includes(creds.body.data.username), false, 'a recorded user is claimed');
    assert.equal(await exists('v-leftover-of-an-old-crash'), true, 'a dry run drops nothing');

    const wet = await vault.request('PUT', 'pg-users/reconcile/main', { pattern: 'v-leftover-%', dry_run: false });
    assert.equal(wet.status, 200, wet.text);
    assert.deepEqual(wet.body.data.dropped, ['v-leftover-of-an-old-crash']);
    assert.deepEqual(wet.body.data.errors, {});
    assert.equal(await exists('v-leftover-of-an-old-crash'), false);
    assert.equal(await exists(creds.body.data.username), true);
    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');
  });

  it('an issued user whose lease Vault never learned of is dropped by the sweep once lease end + grace has passed', async () => {
    await mount('pg-users-crash', CRASHING, { user_sweep_grace: '1s' }, { default_ttl: '2s', max_ttl: '2s' });
    const usernames = await issueAndCrash('pg-users-crash');
    // Lease end + grace, then two rollback ticks (one may be too early), then room for a slow one.
    const gone = async () => (await Promise.all(usernames.map(exists))).every((e) => !e);
    await waitUntil(`the sweep to drop ${usernames.join(', ')}`, gone, 3_000 + 2 * vault.timing.rollbackPeriodMs + 15_000);
    for (const username of usernames) {
      assert.equal((await vault.request('GET', `pg-users-crash/users/${encodeURIComponent(username)}`)).status, 404, 'record deleted with the user');
    }
    ok(await vault.request('DELETE', 'sys/mounts/pg-users-crash'), 'unmount');
  });

  it('unmounting drops a recorded user whose lease Vault never knew, although its lease end is an hour away', async () => {
    await mount('pg-users-unmount', CRASHING);
    const usernames = await issueAndCrash('pg-users-unmount');
    const unmount = await vault.request('DELETE', 'sys/mounts/pg-users-unmount');
    assert.equal(unmount.status, 204, unmount.text);
    for (const username of usernames) assert.equal(await exists(username), false, `the final rollback of the (tainted) mount dropped ${username}`);
  });
});
