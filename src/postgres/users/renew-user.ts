// Renewing a database user moves its VALID UNTIL to the new lease end, with
// the role's renew_statements or, by default, ALTER ROLE … VALID UNTIL.

import type { Pool } from 'pg';
import { quoteIdentifier, quoteLiteral } from '../sql/quote';
import { runQuery } from '../sql/query';
import { sqlState, withConflictRetry } from '../sql/retry';
import { renderStatement } from '../sql/sql-template';

/** SQLSTATE undefined_object: ALTER ROLE on a role that does not exist. */
const UNDEFINED_OBJECT = '42704';

/** Thrown when the user to renew no longer exists in the database. */
export class UserGone extends Error {
  constructor(username: string) {
    super(`database user ${JSON.stringify(username)} no longer exists`);
    this.name = 'UserGone';
  }
}

/** What renewUser sends: the renew statements (default: ALTER ROLE … VALID UNTIL) for `username`, as one query text. */
export function renewQuery(username: string, expiration: string, statements: readonly string[] = []): string {
  return statements.length > 0
    ? statements.map((s) => renderStatement(s, { name: username, username, expiration })).join(';\n')
    : `ALTER ROLE ${quoteIdentifier(username)} VALID UNTIL ${quoteLiteral(expiration)}`;
}

/** Sets the user's expiry to `expiration` (formatted as Vault does). */
export async function renewUser(pool: Pool, username: string, expiration: string, statements: readonly string[] = []): Promise<void> {
  const text = renewQuery(username, expiration, statements);
  try {
    await withConflictRetry(() => runQuery(pool, text));
  } catch (err) {
    if (sqlState(err) === UNDEFINED_OBJECT) throw new UserGone(username);
    throw err;
  }
}
