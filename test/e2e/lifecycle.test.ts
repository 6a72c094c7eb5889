/**
 * What a real Vault or OpenBao does to the plugin process over its life, and
 * what the plugin must survive (../shared/docs/real-vault-fidelity.md §1.1,
 * §1.2, §1.4): registration starts the plugin to learn its version; reloading
 * a multiplexed plugin kills the process that all its mounts share and
 * starts a new one; a process killed from outside is relaunched by the next
 * request. Each time, leases issued before must still renew and revoke.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { withPgClient } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { processesOf } from '../helpers/processes';
import { catalogEntries, installPlugin, pluginVersion, registerPlugin, startVault, stopVaultFirst, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;
/** A server reaps a plugin it killed, or saw die, at once; this only bounds a hang. */
const REAP_BUDGET_MS = 10_000;

/** A credential and its lease. */
interface Issued {
  mount: string;
  leaseId: string;
  username: string;
  password: string;
}

describe('plugin lifecycle in the Vault under test', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;
  let installed: string;

  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);
  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const gone = (pid: number) => !fs.existsSync(`/proc/${pid}`);

  /** The one process of the installed binary (every mount of one catalog entry shares it). */
  function theProcess(): number {
    const pids = processesOf(installed);
    assert.equal(pids.length, 1, `exactly one plugin process, found [${pids.join(', ')}]`);
    return pids[0];
  }

  /** Enables the plugin at `mount` with connection `main` and role `app`. */
  async function enable(mount: string): Promise<void> {
    ok(await vault.request('POST', `sys/mounts/${mount}`, { type: PLUGIN_NAME }), `mount ${mount}`);
    ok(await vault.request('POST', `${mount}/config/main`, connectionConfig(pg, 'app')), `${mount} config`);
    ok(await vault.request('POST', `${mount}/roles/app`, { db_name: 'main', creation_statements: CREATE, default_ttl: '1h', max_ttl: '2h' }), `${mount} role`);
  }

  /** Reads `mount`/creds/app and logs in to PostgreSQL with the result. */
  async function issue(mount: string): Promise<Issued> {
    const res = await vault.request('GET', `${mount}/creds/app`);
    assert.equal(res.status, 200, `${mount} creds: ${res.text}`);
    const issued: Issued = { mount, leaseId: res.body.lease_id, username: res.body.data.username, password: res.body.data.password };
    const user = await withPgClient({ host: '127.0.0.1', port: pg.port, user: issued.username, password: issued.password, database: 'postgres' }, async (c) =>
      (await c.query<{ u: string }>('SELECT current_user AS u')).rows[0].u,
    );
    assert.equal(user, issued.username);
    return issued;
  }

  /** Renews the lease, revokes it, and checks PostgreSQL dropped the user. */
  async function renewAndRevoke(lease: Issued): Promise<void> {
    const renew = await vault.request('PUT', 'sys/leases/renew', { lease_id: lease.leaseId, increment: 3600 });
    assert.equal(renew.status, 200, `renew ${lease.mount} lease: ${renew.text}`);
    const revoke = await vault.request('PUT', 'sys/leases/revoke', { lease_id: lease.leaseId });
    assert.equal(revoke.status, 204, `revoke ${lease.mount} lease: ${revoke.text}`);
    assert.equal(await exists(lease.username), false, `${lease.username} dropped`);
  }

  /**
   * After the process `oldPid` went away: every mount reads its config and
   * issues credentials that log in, the leases issued before renew and
   * revoke, and one new process serves it all.
   */
  async function servedByNewProcess(mounts: string[], earlier: Issued[], oldPid: number): Promise<void> {
    for (const mount of mounts) {
      const config = await vault.request('GET', `${mount}/config/main`);
      assert.equal(config.status, 200, `${mount} config read: ${config.text}`);
      assert.equal(config.body.data.connection_details.username, pg.user);
      await renewAndRevoke(await issue(mount));
    }
    for (const lease of earlier) await renewAndRevoke(lease);
    assert.notEqual(theProcess(), oldPid, 'a new plugin process');
  }

  async function disable(...mounts: string[]): Promise<void> {
    for (const mount of mounts) ok(await vault.request('DELETE', `sys/mounts/${mount}`), `unmount ${mount}`);
  }

  /** Two mounts with a lease each, then `PUT sys/plugins/reload/backend` with `body`, then {@link servedByNewProcess}. */
  async function reloadTwoMounts(mounts: [string, string], body: Record<string, unknown>): Promise<void> {
    for (const mount of mounts) await enable(mount);
    const earlier = [await issue(mounts[0]), await issue(mounts[1])];
    const oldPid = theProcess();

    const reload = await vault.request('PUT', 'sys/plugins/reload/backend', body);
    assert.equal(reload.status, 200, reload.text);
    await waitUntil(`the old plugin process ${oldPid} to be gone`, () => gone(oldPid), REAP_BUDGET_MS);
    await servedByNewProcess(mounts, earlier, oldPid);
    await disable(...mounts);
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 0 });
    installed = installPlugin(vault, pluginBinary()).path;
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it('reload by plugin name replaces the shared process; both mounts and their earlier leases keep working', async () => {
    await reloadTwoMounts(['pg-reload-a', 'pg-reload-b'], { plugin: PLUGIN_NAME });
  });

  it('reload of one mount by `mounts` also replaces the shared process; the other mount recovers on its next request', async () => {
    await reloadTwoMounts(['pg-reload-m1', 'pg-reload-m2'], { mounts: ['pg-reload-m1'] });
  });

  it('a plugin process killed from outside is relaunched by the next request; earlier leases renew and revoke', async () => {
    await enable('pg-killed');
    const earlier = await issue('pg-killed');
    const oldPid = theProcess();

    process.kill(oldPid, 'SIGKILL');
    // Gone from /proc means the server reaped it, so it knows the process died.
    await waitUntil(`the server to reap plugin process ${oldPid}`, () => gone(oldPid), REAP_BUDGET_MS);
    await servedByNewProcess(['pg-killed'], [earlier], oldPid);
    await disable('pg-killed');
  });

  it('registered without a version, the catalog records the one the plugin reports, and a mount runs it', async () => {
    const name = `${PLUGIN_NAME}-e2e-version`;
    const { command, sha256 } = installPlugin(vault, pluginBinary());
    ok(await vault.request('PUT', `sys/plugins/catalog/secret/${name}`, { sha256, command }), 'register without a version');

    const listed = (await catalogEntries(vault)).filter((e) => e.type === 'secret' && e.name === name);
    assert.deepEqual(listed.map((e) => e.version), [pluginVersion()], 'the server asked the plugin for its version');
    const entry = await vault.request('GET', `sys/plugins/catalog/secret/${name}?version=${pluginVersion()}`);
    assert.equal(entry.status, 200, entry.text);
    assert.equal(entry.body.data.version, pluginVersion());
    assert.equal(entry.body.data.sha256, sha256);

    ok(await vault.request('POST', 'sys/mounts/pg-versioned', { type: name }), 'mount');
    const mounts = await vault.request('GET', 'sys/mounts');
    assert.equal(mounts.body.data['pg-versioned/'].running_plugin_version, pluginVersion(), mounts.text);
    await disable('pg-versioned');
  });

  it('registered without a type (as -dev-plugin-dir does), it is probed as a database plugin first, refuses, and is recorded as a secret plugin', async () => {
    const name = `${PLUGIN_NAME}-e2e-untyped`;
    const { command, sha256 } = installPlugin(vault, pluginBinary());
    ok(await vault.request('PUT', `sys/plugins/catalog/${name}`, { sha256, command }), 'register without a type');

    const listed = (await catalogEntries(vault)).filter((e) => e.name === name);
    assert.deepEqual(
      listed.map((e) => [e.type, e.version, e.sha256]),
      [['secret', pluginVersion(), sha256]],
      'one entry: the backend probe found a secrets engine and its version',
    );
    ok(await vault.request('POST', 'sys/mounts/pg-untyped', { type: name }), 'mount');
    ok(await vault.request('POST', 'pg-untyped/config/main', connectionConfig(pg, 'app')), 'config on the mount');
    await disable('pg-untyped');
  });

  it('refuses to register a version other than the one the plugin reports: 400 plugin version mismatch', async () => {
    const name = `${PLUGIN_NAME}-e2e-mismatch`;
    const { command, sha256 } = installPlugin(vault, pluginBinary());
    const res = await vault.request('PUT', `sys/plugins/catalog/secret/${name}`, { sha256, command, version: 'v9.9.9' });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /plugin version mismatch/);
    assert.deepEqual((await catalogEntries(vault)).filter((e) => e.name === name), [], 'nothing registered');
  });
});
