// The settings that point the e2e suite at a real Vault or OpenBao server:
// each missing or wrong piece is refused with a sentence naming its variable.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { externalVaultSettings } from '../helpers/vault-host';

describe('externalVaultSettings', () => {
  let work: string;
  let pluginDir: string;
  let logFile: string;
  const base = () => ({ VAULT_ADDR: 'http://127.0.0.1:8200/', VAULT_TOKEN: 'root', VAULT_PLUGIN_DIR: pluginDir });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-settings-'));
    pluginDir = path.join(work, 'plugins');
    fs.mkdirSync(pluginDir);
    logFile = path.join(work, 'server.log');
    fs.writeFileSync(logFile, '');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('without VAULT_ADDR means the bundled host', () => {
    assert.equal(externalVaultSettings({ VAULT_TOKEN: 'root', VAULT_PLUGIN_DIR: pluginDir }), undefined);
    assert.equal(externalVaultSettings({ VAULT_ADDR: '  ' }), undefined);
  });

  it('reads a complete setting, trailing slash dropped and paths made absolute', () => {
    const rel = path.relative(process.cwd(), logFile);
    assert.deepEqual(externalVaultSettings({ ...base(), VAULT_LOG_FILE: rel }), {
      addr: 'http://127.0.0.1:8200',
      token: 'root',
      pluginDir,
      logFile,
    });
    assert.equal(externalVaultSettings(base())?.logFile, undefined, 'no log file: log checks are skipped');
  });

  it('names the variable that is missing or wrong', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ ...base(), VAULT_ADDR: '127.0.0.1:8200' }, /VAULT_ADDR must be the server's URL/],
      [{ ...base(), VAULT_TOKEN: '' }, /needs VAULT_TOKEN/],
      [{ ...base(), VAULT_PLUGIN_DIR: undefined }, /needs VAULT_PLUGIN_DIR/],
      [{ ...base(), VAULT_PLUGIN_DIR: path.join(work, 'absent') }, /VAULT_PLUGIN_DIR .*absent: ENOENT/],
      [{ ...base(), VAULT_PLUGIN_DIR: logFile }, /VAULT_PLUGIN_DIR .* is not a directory/],
      [{ ...base(), VAULT_LOG_FILE: path.join(work, 'absent.log') }, /VAULT_LOG_FILE .*absent\.log: ENOENT/],
      [{ ...base(), VAULT_LOG_FILE: pluginDir }, /VAULT_LOG_FILE .* is not a file/],
    ];
    for (const [env, message] of cases) assert.throws(() => externalVaultSettings(env), message);
  });

  it('refuses a plugin directory that is a symlink, naming the real one', () => {
    const link = path.join(work, 'link');
    fs.symlinkSync(pluginDir, link);
    assert.throws(() => externalVaultSettings({ ...base(), VAULT_PLUGIN_DIR: link }), new RegExp(`is a symlink.*use the real directory \\(${pluginDir}\\)`));
  });
});
