// Revoking a database user so that it always finishes (the default when a
// role has no revocation_statements):
//   0. unless the connection user is a superuser, it makes itself a member
//      of the user (see connections/server-facts.ts): a CREATEROLE admin
//      on managed PostgreSQL may otherwise neither end the user's sessions
//      nor take over its objects;
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
import { runQuery, withClient } from '../sql/query';
import { quoteIdentifier, quoteLiteral } from '../sql/quote';
import { withConflictRetry, sqlState } from '../sql/retry';
import { membershipGrant, probeServer, type ServerFacts } from '../connections/server-facts';
import { renderStatement } from '../sql/sql-template';
import { connectClient } from '../connections/transport';

/** Where and how to reach the database as the connection's (root) user. */
export interface RevokeTarget {
  pool: Pool;
  /** Client settings, to reach the other databases the user has objects in. */
  clientConfig: ClientConfig;
  /** The server's version and the connection user's standing, cached per pool. Absent: asked on every revocation. */
  facts?: () => Promise<ServerFacts>;
}

/** SQLSTATEs of "that role does not exist" (gone between checks). */
const UNDEFINED_OBJECT = '42704';
/** Objects still depend on the role (a session created one meanwhile) or it is in use: try again. */
const RETRY_DROP_SQLSTATES = new Set(['2BP01', '55006']);
const DROP_ATTEMPTS = 5;
const DROP_RETRY_MS = 50;

/**
 * The membership `grant` (when the connection user needs one), NOLOGIN,
 * then (same round trip, same implicit transaction) end the user's sessions
 * and list the databases holding something of it. Values are
 * literal-quoted because a multi-statement query takes no parameters.
 */
function lockOutQuery(username: string, grant: string | undefined): string {
  const role = quoteIdentifier(username);
  const name = quoteLiteral(username);
  return `${grant === undefined ? '' : `${grant};\n`}ALTER ROLE ${role} NOLOGIN;
SELECT (SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
          WHERE usename = ${name} AND pid <> pg_backend_pid()) AS terminated,
       current_database() AS current,
       ARRAY(SELECT DISTINCT d.datname::text FROM pg_shdepend s
             JOIN pg_database d ON d.oid = s.dbid
             WHERE s.refclassid = 'pg_authid'::regclass
               AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = ${name})) AS databases`;
}

/** True when a role named `username` exists. */
export async function userExists(pool: Pool, username: string): Promise<boolean> {
  const res = await runQuery(pool, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
  return (res.rowCount ?? 0) > 0;
}

/** Custom revocation (or rollback) statements for `username` as one query text, as revokeUser sends them. */
export function revocationQuery(username: string, statements: readonly string[]): string {
  return statements.map((s) => renderStatement(s, { name: username, username })).join(';\n');
}

/** Removes `username`; with `statements` runs those instead of the built-in procedure. */
export async function revokeUser(target: RevokeTarget, username: string, statements: readonly string[] = []): Promise<void> {
  if (statements.length > 0) {
    if (!(await userExists(target.pool, username))) return;
    const text = revocationQuery(username, statements);
    await withConflictRetry(() => runQuery(target.pool, text));
    return;
  }
  const role = quoteIdentifier(username);
  const finish = `REASSIGN OWNED BY ${role} TO CURRENT_USER;\nDROP OWNED BY ${role};\nDROP ROLE IF EXISTS ${role}`;
  // Before a connection is held: the pool's facts may need a connection of
  // their own, and revocations that each hold one while waiting for another
  // would deadlock a full pool (a burst of expiries after a restart).
  const known = await target.facts?.();
  await withClient(target.pool, async (client) => {
    let databases: string[];
    let current: string;
    try {
      const grant = membershipGrant(known ?? (await probeServer(client)), username);
      // A multi-statement query answers with one result per statement.
      const results: unknown = await withConflictRetry(() => client.query(lockOutQuery(username, grant)));
      const row = lockOutRow(results);
      databases = row.databases;
      current = row.current;
    } catch (err) {
      if (sqlState(err) === UNDEFINED_OBJECT) return; // already gone: revoked
      throw err;
    }
    for (const database of databases.filter((db) => db !== current)) await dropOwnedIn(target.clientConfig, database, role);
    for (let attempt = 1; ; attempt++) {
      try {
        await withConflictRetry(() => client.query(finish));
        return;
      } catch (err) {
        const state = sqlState(err);
        if (state === UNDEFINED_OBJECT) return;
        if (attempt >= DROP_ATTEMPTS || state === undefined || !RETRY_DROP_SQLSTATES.has(state)) throw err;
        await new Promise((r) => setTimeout(r, DROP_RETRY_MS * attempt));
      }
    }
  });
}

/** The row of the SELECT in lockOutQuery's results. */
function lockOutRow(results: unknown): { current: string; databases: string[] } {
  const list = Array.isArray(results) ? results : [results];
  const last: unknown = list[list.length - 1];
  const rows = typeof last === 'object' && last !== null && 'rows' in last && Array.isArray(last.rows) ? last.rows : [];
  const row: unknown = rows[0];
  if (typeof row !== 'object' || row === null) return { current: '', databases: [] };
  const current = 'current' in row && typeof row.current === 'string' ? row.current : '';
  const databases = 'databases' in row && Array.isArray(row.databases) ? row.databases.filter((d): d is string => typeof d === 'string') : [];
  return { current, databases };
}

/** REASSIGN OWNED + DROP OWNED in another database, over a one-off connection. */
async function dropOwnedIn(config: ClientConfig, database: string, role: string): Promise<void> {
  const client = await connectClient({ ...config, database });
  try {
    await withConflictRetry(() => client.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER;\nDROP OWNED BY ${role}`));
  } catch (err) {
    if (sqlState(err) !== UNDEFINED_OBJECT) throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}
