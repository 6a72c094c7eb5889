// Running queries on pooled connections. pg-pool's own pool.query()
// destroys the connection after *any* error, so every retried catalog
// conflict would pay for a new connection (TCP, SCRAM authentication, a new
// backend process) — under concurrent issuance that is most of the cost. An
// error the server answered (it carries a SQLSTATE) leaves the connection
// healthy: the failed statement's implicit transaction is already rolled
// back. Only other failures (broken socket, protocol error) discard it.

import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { sqlState } from './retry';

/** Runs `work` on one pooled connection and returns the connection to the pool. */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    const result = await work(client);
    client.release();
    return result;
  } catch (err) {
    client.release(sqlState(err) === undefined ? toError(err) : undefined);
    throw err;
  }
}

/** Runs `text` (one statement, or several as one implicit transaction) on a pooled connection. */
export function runQuery<R extends QueryResultRow = QueryResultRow>(pool: Pool, text: string, values?: unknown[]): Promise<QueryResult<R>> {
  return withClient(pool, (client) => client.query<R>(text, values));
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Statements to put before others run as one implicit transaction, so that
 * they wait at most `ms` for a lock; SET LOCAL ends with the transaction.
 */
export function lockTimeoutPrefix(ms: number): string {
  return `SET LOCAL lock_timeout = ${Math.max(1, Math.floor(ms))};\n`;
}
