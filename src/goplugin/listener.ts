// The unix socket the plugin serves on, created like go-plugin's server does:
// a fresh name in PLUGIN_UNIX_SOCKET_DIR or the OS temp dir, removed on close.

import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ENV_UNIX_SOCKET_DIR, ENV_UNIX_SOCKET_GROUP } from './constants';

/** A fresh socket path; short, since unix socket paths are limited to 107 bytes. */
export function socketPath(env: NodeJS.ProcessEnv): string {
  const dir = env[ENV_UNIX_SOCKET_DIR] || tmpdir();
  return join(dir, `plugin${randomBytes(4).readUInt32BE(0)}`);
}

/** Applies PLUGIN_UNIX_SOCKET_GROUP (container runners share the socket by group). */
export function applySocketGroup(path: string, env: NodeJS.ProcessEnv): void {
  const group = env[ENV_UNIX_SOCKET_GROUP];
  if (!group) return;
  const gid = /^\d+$/.test(group) ? Number(group) : lookupGroupId(group);
  chownSync(path, -1, gid);
  chmodSync(path, 0o660);
}

function lookupGroupId(name: string): number {
  const entry = execFileSync('getent', ['group', name], { encoding: 'utf8' });
  const gid = Number(entry.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`${ENV_UNIX_SOCKET_GROUP}: unknown group ${JSON.stringify(name)}`);
  return gid;
}

/** Removes the socket file; a missing file is fine. */
export function removeSocket(path: string): void {
  rmSync(path, { force: true });
}
