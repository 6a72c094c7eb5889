// Whose fault a database error is. PostgreSQL's SQLSTATE class tells: the
// server ran the statement and refused it (syntax, a missing object,
// privileges, bad data: the operator's statements or settings are at fault,
// a 400), or the connection or the server failed (a retryable 500).

import { sqlState } from './retry';

/**
 * SQLSTATE classes of failures that are not the statement's: connection
 * exceptions (08), transaction rollbacks such as serialization failures and
 * deadlocks (40), insufficient resources (53), program limits (54),
 * operator intervention such as a shutdown (57), system errors (58) and
 * internal errors (XX).
 */
const NOT_THE_STATEMENTS = new Set(['08', '40', '53', '54', '57', '58', 'XX']);

/** True when the server refused the statement itself (see the module comment); false for other failures and non-database errors. */
export function refusedStatement(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && !NOT_THE_STATEMENTS.has(state.slice(0, 2));
}
