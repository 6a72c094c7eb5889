// Checks that a connection config reaches the database, the way an operator
// would: connect, run a query, disconnect. Errors say what Postgres or the
// network said (with the SQLSTATE) and never carry the connection string.

import type { Client } from 'pg';
import { connectClient, type ConnectConfig } from './transport';

/** How long a connection attempt may take unless connect_timeout says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connects with `config` (falling back as sslmode allow and prefer do) and
 * runs `SELECT 1`; throws a DatabaseUnreachable on failure.
 */
export async function verifyConnection(config: ConnectConfig): Promise<void> {
  let client: Client | undefined;
  try {
    client = await connectClient({ connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS, ...config });
    await client.query('SELECT 1');
  } catch (err) {
    throw new DatabaseUnreachable(describeDatabaseError(err), { cause: err });
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** The database could not be reached or refused the root credentials. */
export class DatabaseUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnreachable';
  }
}

/** One line about a pg or network error: message plus SQLSTATE or errno code. */
export function describeDatabaseError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
