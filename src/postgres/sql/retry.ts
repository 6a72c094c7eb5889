// Transient catalog conflicts. Concurrent GRANTs on one table update the same
// pg_class row and Postgres answers `tuple concurrently updated` (XX000) to
// all but one; serialization failures and deadlocks are the same kind of
// conflict. So are races to create one shared object: statements that create
// a group role, schema or table "if it is missing" (IF NOT EXISTS, a DO block
// that checks pg_roles, an EXCEPTION WHEN duplicate_object handler) all see
// it missing, and all but the first to commit fail with a unique violation
// on a system catalog's index (`pg_authid_rolname_index`, 23505), with
// duplicate_object (42710), or with duplicate_table/duplicate_schema (42P07,
// 42P06: the object was committed between IF NOT EXISTS's look and the
// creation's own check) — the next attempt finds the object and goes on.
// The whole transaction is safe to run again (it rolled back), so it is
// retried a bounded number of times with jittered backoff; an app never
// sees these errors, and nothing is reported that did not commit.
//
// Not transient: a unique violation on a table of the user's (a real
// duplicate row), and duplicate_object for what can only ever exist once —
// the caller says which (createUser: the new user's own name, which a retry
// with the same name can never create).

import { setTimeout as sleep } from 'node:timers/promises';

/** SQLSTATEs that mean "another transaction got there first; try again". */
const TRANSIENT_SQLSTATES = new Set([
  'XX000', // internal_error: tuple concurrently updated/deleted on catalog rows
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** unique_violation: transient only on a system catalog's index (see onCatalogIndex). */
const UNIQUE_VIOLATION = '23505';
/** lock_not_available: lock_timeout ran out (another transaction holds the lock); nothing was changed. */
export const LOCK_NOT_AVAILABLE = '55P03';
/** duplicate_object: another transaction committed the object first; transient unless the caller says otherwise. */
export const DUPLICATE_OBJECT = '42710';
/** The same for a table (or view, sequence, index) and a schema: duplicate_table, duplicate_schema. */
const DUPLICATE_RELATION_OR_SCHEMA = new Set(['42P07', '42P06']);
/** The schema of the system catalogs; nobody else can create tables in it. */
const CATALOG_SCHEMA = 'pg_catalog';
/** Names of the catalogs' unique indexes (pg_authid_rolname_index, pg_type_typname_nsp_index, …). */
const CATALOG_INDEX_NAME = /^pg_[a-z0-9_]+_index$/;

/** Attempts in all, including the first. */
export const MAX_ATTEMPTS = 12;
/** First backoff; doubles per attempt up to MAX_BACKOFF_MS, with full jitter. */
const BASE_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 200;

/** SQLSTATE of a node-postgres error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when retrying the same transaction can succeed. */
export function isTransientConflict(err: unknown): boolean {
  const state = sqlState(err);
  if (state === undefined) return false;
  if (state === UNIQUE_VIOLATION) return onCatalogIndex(err);
  return state === DUPLICATE_OBJECT || DUPLICATE_RELATION_OR_SCHEMA.has(state) || TRANSIENT_SQLSTATES.has(state);
}

/**
 * True when a unique violation is on a system catalog's index. The server
 * names the table's schema (pg_catalog, where only the system creates
 * tables); should a proxy drop that field, the constraint's name decides.
 */
function onCatalogIndex(err: unknown): boolean {
  const schema = errorField(err, 'schema');
  if (schema !== undefined) return schema === CATALOG_SCHEMA;
  const constraint = errorField(err, 'constraint');
  return constraint !== undefined && CATALOG_INDEX_NAME.test(constraint);
}

/** A string field of a node-postgres DatabaseError (schema, table, constraint, …). */
function errorField(err: unknown, field: 'schema' | 'constraint'): string | undefined {
  if (typeof err !== 'object' || err === null || !(field in err)) return undefined;
  const value: unknown = Reflect.get(err, field);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Runs `work`, retrying transient conflicts; other errors pass through at
 * once. `signal` stops the retries (not an attempt under way). `permanent`
 * is asked about a transient-looking error before it is retried: true means
 * no retry can succeed, and the error is thrown. Absent: every transient
 * conflict is retried.
 */
export async function withConflictRetry<T>(
  work: () => Promise<T>,
  signal?: AbortSignal,
  permanent?: (err: unknown) => Promise<boolean>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isTransientConflict(err) || signal?.aborted) throw err;
      if (permanent !== undefined && (await permanent(err))) throw err;
      const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}
