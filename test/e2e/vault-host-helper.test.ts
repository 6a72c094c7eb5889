/**
 * Checks the vault-host helper: the host starts, authenticates with the
 * generated root token, rejects bad catalog entries, mounts a real plugin
 * (vault-host's Go test plugin) through registerAndMount, and stops cleanly.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildVaultHost, registerAndMount, startVaultHost, type VaultHost } from '../helpers/vault-host';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('vault-host helper', () => {
  let host: VaultHost;

  before(async () => {
    host = await startVaultHost({ rollbackPeriod: '0' });
  });
  after(async () => {
    await host.stop();
  });

  it('starts on a loopback port with an empty plugin dir', async () => {
    assert.match(host.addr, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(isAlive(host.pid));
    assert.deepEqual(fs.readdirSync(host.pluginDir), []);
    assert.match(host.logs(), /vault-host listening on 127\.0\.0\.1:\d+/);
  });

  it('GET sys/mounts answers 200 with JSON', async () => {
    const res = await host.request('GET', 'sys/mounts');
    assert.equal(res.status, 200);
    assert.equal(typeof res.body, 'object');
    assert.notEqual(res.body, null);
    assert.equal(typeof res.body.data, 'object');
    // Path spellings are equivalent.
    assert.equal((await host.request('GET', '/v1/sys/mounts')).status, 200);
  });

  it('sends the root token, and the host refuses any other', async () => {
    const res = await fetch(`${host.addr}/v1/sys/mounts`, { headers: { 'X-Vault-Token': 'not-the-root-token' } });
    assert.equal(res.status, 403);
  });

  it('rejects registering a command missing from the plugin dir', async () => {
    const res = await host.request('PUT', 'sys/plugins/catalog/secret/ghost', { sha256: 'a'.repeat(64), command: 'does-not-exist' });
    assert.ok(res.status >= 400, `status ${res.status}: ${res.text}`);
    assert.ok(Array.isArray(res.body?.errors), `errors array in ${res.text}`);
  });

  it('registerAndMount copies, registers and mounts a real plugin', async () => {
    const testPlugin = path.join(path.dirname(buildVaultHost()), 'vault-host-testplugin');
    const { command, sha256 } = await registerAndMount(host, { name: 'tp', binaryPath: testPlugin, mount: 'tp' });
    assert.equal(command, 'vault-host-testplugin');
    assert.ok(fs.existsSync(path.join(host.pluginDir, command)), 'binary copied into the plugin dir');
    assert.match(sha256, /^[0-9a-f]{64}$/);

    const catalog = await host.request('LIST', 'sys/plugins/catalog/secret');
    assert.equal(catalog.status, 200);
    assert.ok(catalog.body.data.keys.includes('tp'), catalog.text);

    const mounts = await host.request('GET', 'sys/mounts');
    assert.equal(mounts.body.data['tp/'].type, 'tp');
    assert.equal(mounts.body.data['tp/'].running_sha256, sha256);
    // Registration started the plugin to learn its version; the mount is pinned to it.
    assert.equal(mounts.body.data['tp/'].running_plugin_version, 'v0.1.0-test');

    const info = await host.request('GET', 'tp/info');
    assert.equal(info.status, 200, info.text);
    assert.equal(info.body.data.request.mount_point, 'tp/');
    // The plugin's stderr is relayed into the host log.
    assert.match(host.logs(), /starting test plugin/);
  });

  it('registerAndMount reports the host reply when mounting fails', async () => {
    const testPlugin = path.join(host.pluginDir, 'vault-host-testplugin');
    await assert.rejects(
      registerAndMount(host, { name: 'tp', binaryPath: testPlugin, mount: 'tp' }),
      /mounting plugin "tp" at tp\/ failed: HTTP 400 .*errors/,
    );
  });

  it('stop() ends the host and its plugins', async () => {
    const h = await startVaultHost();
    const testPlugin = path.join(path.dirname(buildVaultHost()), 'vault-host-testplugin');
    await registerAndMount(h, { name: 'tp', binaryPath: testPlugin, mount: 'tp' });
    const pluginPid = Number((await h.request('GET', 'tp/info')).body.data.pid);
    assert.ok(pluginPid > 0 && isAlive(pluginPid));

    await h.stop();
    assert.equal(isAlive(h.pid), false, 'host exited');
    assert.equal(isAlive(pluginPid), false, 'plugin exited');
    assert.equal(fs.existsSync(h.pluginDir), false, 'temp plugin dir removed');
    await assert.rejects(fetch(`${h.addr}/v1/sys/mounts`));
    await h.stop(); // idempotent
  });
});
