/**
 * The built plugin executable. `npm test` builds it first; e2e tests use the
 * real binary, never the TypeScript sources, because that is what Vault runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PLUGIN_NAME = 'vault-plugin-secrets-postgres';
const DIST = path.resolve(__dirname, '..', '..', 'dist');

/** Path of the built binary; throws with the fix when it is missing. */
export function pluginBinary(): string {
  const bin = path.join(DIST, PLUGIN_NAME);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first`);
  return bin;
}

/** The hex digest the build wrote for `vault plugin register -sha256=`. */
export function pluginSha256(): string {
  return fs.readFileSync(path.join(DIST, `${PLUGIN_NAME}.sha256`), 'utf8').trim();
}
