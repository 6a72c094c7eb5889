// Write-ahead log in the mount's storage (sdk/framework wal.go): record the
// intent before changing an external system, delete the record once Vault
// knows about the change; the periodic rollback undoes whatever is left.
// Key and JSON layout are the Go framework's, so entries stay readable by
// any implementation of this plugin.

import { randomUUID } from 'node:crypto';
import { ErrorKind, VaultError } from '../vault';
import type { Storage } from '../vault';
import { isPlainObject } from './records';

/** Storage prefix of WAL entries. */
export const WAL_PREFIX = 'wal/';

/** One WAL entry. */
export interface WalEntry {
  /** The id returned by putWal (the key without `wal/`). */
  id: string;
  /** What the entry is about; the rollback handler dispatches on it. */
  kind: string;
  /** What the rollback handler needs to undo the change (JSON). */
  data: unknown;
  /** When the entry was written, whole seconds. */
  createdAt: Date;
}

/** Writes an entry and returns its id. `data` must be JSON-encodable. */
export async function putWal(storage: Storage, kind: string, data: unknown, now: Date = new Date()): Promise<string> {
  const id = randomUUID();
  const value = JSON.stringify({ type: kind, data: data ?? null, created_at: Math.floor(now.getTime() / 1000) });
  await storage.put({ key: WAL_PREFIX + id, value: Buffer.from(value, 'utf8') });
  return id;
}

/** The entry, or `undefined` when it does not exist (already deleted). */
export async function getWal(storage: Storage, id: string): Promise<WalEntry | undefined> {
  const entry = await storage.get(WAL_PREFIX + id);
  if (entry === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(entry.value.toString('utf8'));
  } catch (err) {
    throw malformed(id, err);
  }
  if (!isPlainObject(decoded)) throw malformed(id);
  const { type, data, created_at: createdAt } = decoded;
  if (typeof type !== 'string' || typeof createdAt !== 'number') throw malformed(id);
  return { id, kind: type, data, createdAt: new Date(createdAt * 1000) };
}

/** Deletes an entry: the change it guarded is complete. Missing entries are fine. */
export async function deleteWal(storage: Storage, id: string): Promise<void> {
  await storage.delete(WAL_PREFIX + id);
}

/** Ids of all entries. */
export async function listWal(storage: Storage): Promise<string[]> {
  const keys = await storage.list(WAL_PREFIX);
  return keys.filter((key) => !key.endsWith('/'));
}

function malformed(id: string, cause?: unknown): VaultError {
  return new VaultError(ErrorKind.Unknown, `WAL entry ${id} is malformed`, { cause });
}
