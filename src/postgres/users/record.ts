// The user record: what the plugin knows about each database user it
// creates, kept in the mount's storage at `user/<escaped username>` from
// before CREATE ROLE until the user is dropped. It is what lets the sweep
// drop users whose lease Vault never learned of, and what `users/` shows.
//
// The stored JSON uses snake_case keys like every other stored object, and
// is read tolerantly: records written by a later version with more fields,
// or an earlier one with fewer, still decode.

import { isPlainObject } from '../../framework';
import { numberField, stringField, stringListField } from '../stored-fields';

/** Storage prefix of user records. */
export const USER_PREFIX = 'user/';

/**
 * `issuing`: written before CREATE ROLE; the request may still be running,
 * or may have died before Vault recorded a lease. `issued`: the user exists
 * and the response carrying it was built; Vault holds (or was about to hold)
 * a lease ending at `leaseEnd`.
 */
export type UserState = 'issuing' | 'issued';

const USER_STATES: readonly UserState[] = ['issuing', 'issued'];

/** One recorded database user. Times are Unix seconds. */
export interface UserRecord {
  username: string;
  /** The connection (`config/<dbName>`) the user was created through. */
  dbName: string;
  /** The role (`roles/<role>`) it was issued for. */
  role: string;
  state: UserState;
  /** When the record was first written, before CREATE ROLE. */
  createdAt: number;
  /** When the record became `issued`; absent while issuing. */
  issuedAt?: number;
  /**
   * The lease end as known when the user was issued, moved forward by each
   * renewal before the renewal is answered; never earlier than Vault's.
   */
  leaseEnd: number;
  /** Display name of the token that asked for the credential. */
  displayName: string;
  /** Entity of that token; empty when it has none (root tokens). */
  entityId: string;
  /** The role's revocation statements at issue; empty: the default revocation. */
  revocationStatements: string[];
  /** The role's rollback statements at issue; empty: the default revocation. */
  rollbackStatements: string[];
}

/**
 * The Unix second a lease of `ttl` seconds granted at `now` ends, rounded
 * up: what records keep as `leaseEnd`.
 */
export function leaseEndAt(now: Date, ttl: number): number {
  return Math.ceil(now.getTime() / 1000) + ttl;
}

/** The record's storage key: `user/` plus the escaped username. */
export function userKey(username: string): string {
  return USER_PREFIX + escapeUsername(username);
}

/**
 * A PostgreSQL name as one storage key segment. Escaped as `%XX` (UTF-8
 * bytes): `%` itself, `/` (a key separator), control, format and other
 * non-printable characters, and a `.` that starts the name or stands next
 * to another `.` (Vault refuses keys with `..`, and some storage backends
 * treat `.` segments as paths). Everything else stays as it is, so
 * ordinary names are readable in storage.
 */
export function escapeUsername(username: string): string {
  const chars = [...username];
  let out = '';
  chars.forEach((c, i) => {
    const dotRun = c === '.' && (i === 0 || chars[i - 1] === '.' || chars[i + 1] === '.');
    out += c === '%' || c === '/' || dotRun || NON_PRINTABLE.test(c) ? percentEncode(c) : c;
  });
  return out;
}

/** The username of an escaped key segment; the inverse of escapeUsername. */
export function unescapeUsername(segment: string): string {
  // escapeUsername encodes whole characters, so every run of %XX is UTF-8.
  return segment.replace(/(?:%[0-9A-F]{2})+/g, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
}

/** Unicode "other" characters: controls, format characters, surrogates, private use, unassigned. */
const NON_PRINTABLE = /^\p{C}$/u;

function percentEncode(c: string): string {
  return [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** The stored JSON form. */
interface StoredUserRecord {
  username: string;
  db_name: string;
  role: string;
  state: UserState;
  created_at: number;
  issued_at?: number;
  lease_end: number;
  display_name: string;
  entity_id: string;
  revocation_statements?: string[];
  rollback_statements?: string[];
}

/** Serialises a record; statement lists are left out when empty. */
export function encodeUserRecord(record: UserRecord): Buffer {
  const stored: StoredUserRecord = {
    username: record.username,
    db_name: record.dbName,
    role: record.role,
    state: record.state,
    created_at: record.createdAt,
    ...(record.issuedAt === undefined ? {} : { issued_at: record.issuedAt }),
    lease_end: record.leaseEnd,
    display_name: record.displayName,
    entity_id: record.entityId,
    ...(record.revocationStatements.length > 0 ? { revocation_statements: record.revocationStatements } : {}),
    ...(record.rollbackStatements.length > 0 ? { rollback_statements: record.rollbackStatements } : {}),
  };
  return Buffer.from(JSON.stringify(stored));
}

/** A record that cannot be read: not JSON, no username, or an unknown state. */
export class MalformedUserRecord extends Error {
  constructor(key: string, problem: string, options?: { cause?: unknown }) {
    super(`user record ${key} is malformed: ${problem}`, options);
    this.name = 'MalformedUserRecord';
  }
}

/** Reads a stored record; throws MalformedUserRecord when it is unusable. */
export function decodeUserRecord(key: string, value: Buffer): UserRecord {
  let data: unknown;
  try {
    data = JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new MalformedUserRecord(key, 'not JSON', { cause: err });
  }
  if (!isPlainObject(data)) throw new MalformedUserRecord(key, 'not a JSON object');
  const username = stringField(data, 'username');
  if (username === '') throw new MalformedUserRecord(key, 'no username');
  const state = USER_STATES.find((s) => s === data['state']);
  if (state === undefined) throw new MalformedUserRecord(key, `unknown state ${JSON.stringify(data['state'])}`);
  const issuedAt = data['issued_at'];
  return {
    username,
    dbName: stringField(data, 'db_name'),
    role: stringField(data, 'role'),
    state,
    createdAt: numberField(data, 'created_at'),
    ...(typeof issuedAt === 'number' ? { issuedAt } : {}),
    leaseEnd: numberField(data, 'lease_end'),
    displayName: stringField(data, 'display_name'),
    entityId: stringField(data, 'entity_id'),
    revocationStatements: stringListField(data, 'revocation_statements'),
    rollbackStatements: stringListField(data, 'rollback_statements'),
  };
}
