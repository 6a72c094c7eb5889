// Revoking a database user so that it always finishes (the default when a
// role has no revocation_statements):
//   1. NOLOGIN, so nothing reconnects;
//   2. terminate the user's sessions;
//   3. in every database where pg_shdepend shows something of the user's
//      (owned objects, grants, default privileges): REASSIGN OWNED to the
//      connection's user, then DROP OWNED (which also drops grants). Objects
//      the user created survive, owned by the connection user: no data loss;
//   4. DROP ROLE IF EXISTS (memberships go with the role).
// A user that no longer exists is success: Vault may revoke the same lease
// again after a timeout or restart. Custom statements get the same guarantee.

import type { ClientConfig, Pool } from 'pg';
import { quoteIdentifier } from './quote';
import { withConflictRetry, sqlState } from './retry';
import { renderStatement } from './sql-template';

/** Where and how to reach the database as the connection's (root) user. */
export interface RevokeTarget {
  pool: Pool;
  /** Client settings, to reach the other databases the user has objects in. */
  clientConfig: ClientConfig;
}

/** SQLSTATEs of "that role does not exist" (gone between checks). */
const UNDEFINED_OBJECT = '42704';
/** Objects still depend on the role (a session created one meanwhile) or it is in use: try again. */
const RETRY_DROP_SQLSTATES = new Set(['2BP01', '55006']);
const DROP_ATTEMPTS = 5;

const FIND_DEPENDENCIES = `
WITH target AS (SELECT oid FROM pg_roles WHERE rolname = $1),
terminated AS (
  SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
  WHERE usename = $1 AND pid <> pg_backend_pid()
)
SELECT (SELECT count(*) FROM terminated) AS terminated,
       current_database() AS current,
       ARRAY(
         SELECT DISTINCT d.datname::text FROM pg_shdepend s
         JOIN pg_database d ON d.oid = s.dbid
         WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid IN (SELECT oid FROM target)
       ) AS databases`;

/** True when a role named `username` exists. */
export async function userExists(pool: Pool, username: string): Promise<boolean> {
  const res = await pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
  return (res.rowCount ?? 0) > 0;
}

/** Removes `username`; with `statements` runs those instead of the built-in procedure. */
export async function revokeUser(target: RevokeTarget, username: string, statements: readonly string[] = []): Promise<void> {
  if (!(await userExists(target.pool, username))) return;
  if (statements.length > 0) {
    const text = statements.map((s) => renderStatement(s, { name: username, username })).join(';\n');
    await withConflictRetry(() => target.pool.query(text));
    return;
  }
  const role = quoteIdentifier(username);
  try {
    await target.pool.query(`ALTER ROLE ${role} NOLOGIN`);
  } catch (err) {
    if (sqlState(err) === UNDEFINED_OBJECT) return;
    throw err;
  }
  const deps = await target.pool.query<{ current: string; databases: string[] }>(FIND_DEPENDENCIES, [username]);
  const current = deps.rows[0]?.current ?? '';
  const elsewhere = (deps.rows[0]?.databases ?? []).filter((db) => db !== current);
  for (const database of elsewhere) await dropOwnedIn(target.clientConfig, database, role);

  const finish = `REASSIGN OWNED BY ${role} TO CURRENT_USER;\nDROP OWNED BY ${role};\nDROP ROLE IF EXISTS ${role}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await withConflictRetry(() => target.pool.query(finish));
      return;
    } catch (err) {
      const state = sqlState(err);
      if (state === UNDEFINED_OBJECT) return;
      if (attempt >= DROP_ATTEMPTS || state === undefined || !RETRY_DROP_SQLSTATES.has(state)) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** REASSIGN OWNED + DROP OWNED in another database, over a one-off connection. */
async function dropOwnedIn(config: ClientConfig, database: string, role: string): Promise<void> {
  const pg = await import('pg');
  const client = new pg.Client({ ...config, database });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await withConflictRetry(() => client.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER;\nDROP OWNED BY ${role}`));
  } catch (err) {
    if (sqlState(err) !== UNDEFINED_OBJECT) throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}
