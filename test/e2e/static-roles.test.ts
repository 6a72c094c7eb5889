/**
 * Static roles and scheduled rotation end to end: the built binary in the
 * Vault under test, a real PostgreSQL, and only Vault's HTTP API. Rotations
 * here run on the plugin's own queue with short periods; every rotation is
 * followed by a login with what static-creds returns. The standby part needs
 * the conformance host (`-performance-standby`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { logsInAs } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { connectionConfig } from '../helpers/plugin-config';
import { registerPlugin, startVault, stopVaultFirst, untilPluginAnswers, type ApiReply, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const ok = (res: ApiReply, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);
/** Generous: rotations are due every few seconds; this only bounds a hang. */
const ROTATION_BUDGET_MS = 60_000;

interface StaticCreds {
  username: string;
  password: string;
  last_vault_rotation: string;
  ttl: number;
}

describe('static roles through Vault', () => {
  let pg: PostgresServer;
  let admin: Client;
  let vault: VaultUnderTest;
  let seq = 0;

  const logsIn = (user: string, password: string): Promise<boolean> => logsInAs(pg.port, user, password);
  const newUser = async (password = 'initial-password-1'): Promise<string> => {
    const name = `e2e-static-${++seq}`;
    await admin.query(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}'`);
    return name;
  };
  const creds = async (mount: string, name: string): Promise<StaticCreds> => {
    const res = await vault.request('GET', `${mount}/static-creds/${name}`);
    ok(res, `${mount}/static-creds/${name}`);
    return res.body.data as StaticCreds;
  };
  const mountWithConfig = async (mount: string, type = PLUGIN_NAME): Promise<void> => {
    ok(await vault.request('POST', `sys/mounts/${mount}`, { type }), `mount ${mount}`);
    ok(await vault.request('POST', `${mount}/config/main`, connectionConfig(pg, '*')), `${mount} config`);
  };
  /** Waits for the role's next rotation after `last`, and returns the credentials it left. */
  const nextRotation = async (mount: string, name: string, last: StaticCreds): Promise<StaticCreds> => {
    let now = last;
    await waitUntil(`a rotation of ${mount}/${name}`, async () => {
      now = await creds(mount, name);
      return now.last_vault_rotation !== last.last_vault_rotation;
    }, ROTATION_BUDGET_MS, 250);
    return now;
  };

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    vault = await startVault({ rollbackPeriodMs: 2_000 });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    await registerPlugin(vault, `${PLUGIN_NAME}-crashing`, { binaryPath: pluginBinary(), env: ['VAULT_PLUGIN_PG_CRASH_AT=static-rotation-after-alter'] });
    await mountWithConfig('pg');
  });
  after(() => stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop()));

  it('the period fires: each rotation leaves a password that logs in and retires the one before', async () => {
    const user = await newUser();
    ok(await vault.request('POST', 'pg/static-roles/app', { db_name: 'main', username: user, rotation_period: '5s' }), 'static role');
    const c0 = await creds('pg', 'app');
    assert.equal(c0.username, user);
    assert.equal(await logsIn(user, c0.password), true);
    assert.equal(await logsIn(user, 'initial-password-1'), false, 'rotated on import');
    const c1 = await nextRotation('pg', 'app', c0);
    assert.equal(await logsIn(user, c1.password), true);
    assert.equal(await logsIn(user, c0.password), false);
    const c2 = await nextRotation('pg', 'app', c1);
    assert.equal(await logsIn(user, c2.password), true);
    assert.equal(await logsIn(user, c1.password), false);
    ok(await vault.request('DELETE', 'pg/static-roles/app'), 'delete');
    const last = await creds('pg', 'app').catch(() => undefined);
    assert.equal(last, undefined, 'gone');
    assert.equal(await logsIn(user, c2.password), true, 'deleting the role leaves the user and its password');
  });

  it('dual: the password read before a rotation keeps working after it', async () => {
    const a = await newUser();
    const b = await newUser();
    ok(await vault.request('POST', 'pg/static-roles/dual', { db_name: 'main', username: a, secondary_username: b, rotation_strategy: 'dual', rotation_period: '5s' }), 'static role');
    const c0 = await creds('pg', 'dual');
    const c1 = await nextRotation('pg', 'dual', c0);
    assert.notEqual(c1.username, c0.username);
    assert.equal(await logsIn(c1.username, c1.password), true);
    assert.equal(await logsIn(c0.username, c0.password), true, 'previous password still works');
    const c2 = await nextRotation('pg', 'dual', c1);
    assert.equal(c2.username, c0.username);
    assert.equal(await logsIn(c1.username, c1.password), true, 'previous password still works');
    assert.equal(await logsIn(c0.username, c0.password), false);
    ok(await vault.request('DELETE', 'pg/static-roles/dual'), 'delete');
  });

  it('a plugin restart between rotations neither repeats nor skips one', async () => {
    const user = await newUser();
    ok(await vault.request('POST', 'pg/static-roles/restart', { db_name: 'main', username: user, rotation_period: '15s' }), 'static role');
    const c0 = await creds('pg', 'restart');
    ok(await vault.request('PUT', 'sys/plugins/reload/backend', { plugin: PLUGIN_NAME }), 'reload');
    const after = await creds('pg', 'restart');
    assert.equal(after.last_vault_rotation, c0.last_vault_rotation, 'the restart did not rotate');
    assert.equal(after.password, c0.password);
    assert.ok(after.ttl <= c0.ttl, `the schedule kept counting (ttl ${c0.ttl} then ${after.ttl})`);
    assert.equal(await logsIn(user, after.password), true);
    const c1 = await nextRotation('pg', 'restart', after);
    assert.ok(Date.parse(c1.last_vault_rotation) >= Date.parse(c0.last_vault_rotation) + 15_000, 'rotated when due, not earlier');
    assert.equal(await logsIn(user, c1.password), true);
    assert.equal(await logsIn(user, c0.password), false);
    ok(await vault.request('DELETE', 'pg/static-roles/restart'), 'delete');
  });

  it('a plugin killed between ALTER ROLE and storing the password leaves a stored password that works', async () => {
    await mountWithConfig('pg-crash', `${PLUGIN_NAME}-crashing`);
    const user = await newUser('before-crash-1');
    ok(await vault.request('POST', 'pg-crash/static-roles/app', { db_name: 'main', username: user, rotation_period: '1h', skip_import_rotation: true }), 'static role');
    const res = await vault.request('POST', 'pg-crash/rotate-role/app', {});
    assert.ok(res.status >= 500, `the request fails with the plugin: ${res.status} ${res.text}`);
    assert.equal(await logsIn(user, 'before-crash-1'), false, 'the database has the new password');
    // The relaunched process finishes the rotation before it answers.
    const c = (await untilPluginAnswers(vault, 'GET', 'pg-crash/static-creds/app')).body.data as StaticCreds;
    assert.notEqual(c.password, '');
    assert.equal(await logsIn(user, c.password), true);
    assert.notEqual(c.last_vault_rotation, '0001-01-01T00:00:00Z');
    ok(await vault.request('DELETE', 'sys/mounts/pg-crash'), 'unmount');
  });

  it('rotates the root password on the connection\'s schedule; the connection keeps working', async () => {
    const root = `e2e-root-${++seq}`;
    await admin.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'root-initial-1'`);
    ok(await vault.request('POST', 'pg/config/rooted', { ...connectionConfig(pg, '*'), username: root, password: 'root-initial-1', rotation_period: '5s' }), 'config');
    await waitUntil('the root password to be rotated', async () => !(await logsIn(root, 'root-initial-1')), ROTATION_BUDGET_MS, 250);
    const user = await newUser();
    ok(await vault.request('POST', 'pg/static-roles/via-rooted', { db_name: 'rooted', username: user, rotation_period: '1h' }), 'a static role on the rotated connection');
    assert.equal(await logsIn(user, (await creds('pg', 'via-rooted')).password), true);
    ok(await vault.request('POST', 'pg/config/rooted', { disable_automated_rotation: true }), 'disable');
  });

  it('path-help covers the new paths', async () => {
    for (const path of ['static-roles/x', 'static-creds/x', 'rotate-role/x']) {
      const res = await vault.request('GET', `pg/${path}?help=1`);
      ok(res, `help ${path}`);
      assert.match(String(res.body.help), /static role/i, path);
    }
  });
});

describe('static roles on a performance standby', () => {
  const external = process.env.VAULT_ADDR !== undefined && process.env.VAULT_ADDR !== '';
  let pg: PostgresServer;
  let admin: Client;
  let vault: VaultUnderTest;

  before(async () => {
    if (external) return;
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE ROLE "standby-user" LOGIN PASSWORD 'initial-password-1'`);
    vault = await startVault({ rollbackPeriodMs: 2_000, extraArgs: ['-performance-standby'] });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    ok(await vault.request('POST', 'sys/mounts/pg-standby', { type: PLUGIN_NAME }), 'mount');
    ok(await vault.request('POST', 'pg-standby/config/main', connectionConfig(pg, '*')), 'config');
  });
  after(() => (external ? undefined : stopVaultFirst(vault, async () => admin?.end(), async () => pg?.stop())));

  it('only the active node rotates: the standby forwards writes and never tries a rotation', { skip: external && 'needs the conformance host (-performance-standby)' }, async () => {
    ok(await vault.request('POST', 'pg-standby/static-roles/app', { db_name: 'main', username: 'standby-user', rotation_period: '5s' }), 'static role');
    const c0 = (await vault.request('GET', 'pg-standby/static-creds/app')).body.data as StaticCreds;
    let last = c0;
    for (let i = 0; i < 2; i++) {
      const before = last;
      await waitUntil('a rotation', async () => {
        last = (await vault.request('GET', 'pg-standby/static-creds/app')).body.data as StaticCreds;
        return last.last_vault_rotation !== before.last_vault_rotation;
      }, ROTATION_BUDGET_MS, 250);
    }
    const logs = vault.logs() ?? '';
    assert.match(logs, /rotated static role password/);
    // The standby's queue runs too (its backend was initialised, and learns of the role from invalidations); had it tried to rotate, its read-only storage would have refused the WAL entry.
    assert.doesNotMatch(logs, /rotation failed/);
    assert.doesNotMatch(logs, /rotating static role password failed/);
  });
});
