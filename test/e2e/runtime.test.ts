/**
 * The built binary, copied alone into an empty plugin directory, registered
 * by SHA256 and mounted in the Vault under test (a real Vault or OpenBao
 * named by VAULT_ADDR, else the conformance host with the real go-plugin
 * client, AutoMTLS, broker), then driven over Vault's HTTP API as an operator
 * would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary, pluginSha256 } from '../helpers/plugin-binary';
import { processesOf } from '../helpers/processes';
import { checkServerLog, logTail } from '../helpers/server-log';
import { installPlugin, registerPlugin, startVault, stopVaultFirst, type VaultUnderTest } from '../helpers/vault-host';
import { waitUntil } from '../helpers/wait';

const until = (what: string, check: () => boolean, ms = 5000) => waitUntil(what, check, ms, 50);

describe('plugin through the Vault under test', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let installed: string;

  before(async () => {
    pg = await startPostgres();
    vault = await startVault({ rollbackPeriodMs: 0 });
    installed = installPlugin(vault, pluginBinary()).path;
    assert.deepEqual(fs.readdirSync(vault.pluginDir), [PLUGIN_NAME], 'the binary is alone in the plugin directory');
  });
  after(() => stopVaultFirst(vault, async () => pg?.stop()));

  const configUrl = () => `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres?sslmode=disable`;

  it('refuses to launch a binary whose SHA256 does not match the catalog', async () => {
    const reg = await vault.request('PUT', 'sys/plugins/catalog/secret/pg-wrong-sha', { sha256: 'ab'.repeat(32), command: PLUGIN_NAME });
    assert.ok(reg.status < 300, reg.text);
    const mnt = await vault.request('POST', 'sys/mounts/wrong', { type: 'pg-wrong-sha' });
    assert.ok(mnt.status >= 400, `mount must fail: ${mnt.text}`);
    assert.match(mnt.text, /checksum/i);
  });

  it('registers with the build SHA256 and mounts at two paths served by one process', async () => {
    const sha = pluginSha256();
    assert.equal(sha, execFileSync('sha256sum', [installed], { encoding: 'utf8' }).split(' ')[0]);
    const reg = await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    assert.equal(reg.sha256, sha);
    for (const mount of ['pg1', 'pg2']) {
      const res = await vault.request('POST', `sys/mounts/${mount}`, { type: PLUGIN_NAME });
      assert.ok(res.status < 300, `${mount}: ${res.text}\n${logTail(vault)}`);
    }
    const mounts = await vault.request('GET', 'sys/mounts');
    assert.equal(mounts.body['pg1/'].type, PLUGIN_NAME);
    assert.equal(mounts.body['pg2/'].type, PLUGIN_NAME);
    assert.equal(processesOf(installed).length, 1, 'multiplexed: one process for both mounts');
  });

  it('writes, reads (redacted), lists and deletes config/ in Vault storage', async () => {
    const write = await vault.request('POST', 'pg1/config/main', {
      connection_url: configUrl(),
      username: pg.user,
      password: pg.password,
      allowed_roles: 'app-*,reporting',
      max_open_connections: 8,
      max_connection_lifetime: '1h30m',
    });
    assert.ok(write.status === 204 || write.status === 200, write.text);

    const read = await vault.request('GET', 'pg1/config/main');
    assert.equal(read.status, 200, read.text);
    const data = read.body.data;
    assert.deepEqual(data.allowed_roles, ['app-*', 'reporting']);
    assert.equal(data.verify_connection, true);
    assert.equal(data.connection_details.connection_url, configUrl());
    assert.equal(data.connection_details.username, pg.user);
    assert.equal(data.connection_details.max_open_connections, 8);
    assert.equal(data.connection_details.max_connection_lifetime, 5400);
    assert.equal(data.connection_details.password_authentication, 'scram-sha-256');
    assert.equal(read.text.includes(pg.password), false, 'no password in reads');
    assert.equal('password' in data.connection_details, false);

    const list = await vault.request('LIST', 'pg1/config');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.data.keys, ['main']);

    // Same process, separate storage.
    const other = await vault.request('LIST', 'pg2/config');
    assert.equal(other.status, 404, other.text);
    assert.equal((await vault.request('GET', 'pg2/config/main')).status, 404);

    const update = await vault.request('POST', 'pg1/config/main', { max_open_connections: 2, verify_connection: false });
    assert.ok(update.status < 300, update.text);
    const reread = await vault.request('GET', 'pg1/config/main');
    assert.equal(reread.body.data.connection_details.max_open_connections, 2);
    assert.equal(reread.body.data.connection_details.connection_url, configUrl(), 'fields left out keep their values');

    const del = await vault.request('DELETE', 'pg1/config/main');
    assert.equal(del.status, 204, del.text);
    assert.equal((await vault.request('GET', 'pg1/config/main')).status, 404);
    assert.equal((await vault.request('LIST', 'pg1/config')).status, 404);
  });

  it('answers bad input with a 400 that names the field and never echoes the password', async (t) => {
    const base = { connection_url: configUrl(), username: pg.user, password: pg.password };
    const unknown = await vault.request('POST', 'pg1/config/bad', { ...base, conection_url: 'x' });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.text, /conection_url/);

    const duration = await vault.request('POST', 'pg1/config/bad', { ...base, max_connection_lifetime: 'soon' });
    assert.equal(duration.status, 400, duration.text);
    assert.match(duration.text, /max_connection_lifetime/);

    const wrongPassword = await vault.request('POST', 'pg1/config/bad', { ...base, password: 'not-the-password-123' });
    assert.equal(wrongPassword.status, 400, wrongPassword.text);
    assert.match(wrongPassword.text, /password authentication failed/);
    assert.equal(wrongPassword.text.includes('not-the-password-123'), false);

    const unreachable = await vault.request('POST', 'pg1/config/bad', {
      ...base,
      connection_url: 'postgresql://{{username}}:{{password}}@127.0.0.1:1/postgres',
    });
    assert.equal(unreachable.status, 400, unreachable.text);
    assert.match(unreachable.text, /ECONNREFUSED/);
    assert.equal(unreachable.text.includes(pg.password), false);

    assert.equal((await vault.request('GET', 'pg1/config/bad')).status, 404, 'nothing stored after a failed write');
    await checkServerLog(t, vault, 'no password in the plugin logs', (log) => assert.equal(log.includes(pg.password), false));
  });

  it('serves path-help for the mount root and for config/x, and 404 for unknown paths', async () => {
    const root = await vault.request('GET', 'pg1/?help=1');
    assert.equal(root.status, 200, root.text);
    assert.match(root.body.help, /config\//);
    assert.equal(root.body.openapi.openapi, '3.0.2');
    assert.ok(root.body.openapi.paths['/config/{name}'], 'OpenAPI document lists config/{name}');

    const cfg = await vault.request('GET', 'pg1/config/x?help=1');
    assert.equal(cfg.status, 200, cfg.text);
    assert.match(cfg.body.help, /connection_url/);

    const spec = await vault.request('GET', 'sys/internal/specs/openapi');
    assert.equal(spec.status, 200, spec.text);
    assert.ok(spec.body.paths['/pg1/config/{name}'], 'mount merged into the OpenAPI endpoint');

    const missing = await vault.request('GET', 'pg1/nothing-here');
    assert.equal(missing.status, 404, missing.text);
  });

  it('stops the shared process once the last mount is disabled', async (t) => {
    const pids = processesOf(installed);
    assert.equal(pids.length, 1);
    assert.equal((await vault.request('DELETE', 'sys/mounts/pg1')).status, 204);
    assert.deepEqual(processesOf(installed), pids, 'still serving pg2');
    assert.equal((await vault.request('DELETE', 'sys/mounts/pg2')).status, 204);
    await until('plugin process exit', () => processesOf(installed).length === 0);
    // go-plugin's words (client.go Kill, and the wait loop): a process that
    // outlives the 2 s grace is SIGKILLed with a warning, and a non-zero
    // exit or a signal is logged with its error.
    await checkServerLog(t, vault, 'the process exited by itself, with status 0', (log) =>
      assert.doesNotMatch(log, /plugin failed to exit gracefully|plugin process exited:.*error=/),
    );
  });
});
