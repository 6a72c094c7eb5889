// Creating a database user: the role's creation statements, rendered with
// safely quoted values, plus VALID UNTIL, sent as one multi-statement query.
// Postgres runs such a query as one implicit transaction: either every
// statement commits or none does, in a single round trip.

import type { Pool } from 'pg';
import { quoteIdentifier, quoteLiteral } from './quote';
import { runQuery } from './query';
import { withConflictRetry } from './retry';
import { renderStatement, type TemplateValues } from './sql-template';

/** Values the creation statements are rendered with. */
export interface NewUser {
  username: string;
  /** What `{{password}}` becomes: the SCRAM verifier, or the cleartext. */
  passwordValue: string;
  /** `{{expiration}}`, formatted as Vault does. */
  expiration: string;
}

/** The statements for `user` as one query text; VALID UNTIL is always set last. */
export function creationQuery(statements: readonly string[], user: NewUser): string {
  const values: TemplateValues = {
    name: user.username,
    username: user.username,
    password: user.passwordValue,
    expiration: user.expiration,
  };
  const rendered = statements.map((s) => renderStatement(s, values));
  // Whatever the operator's statements say, the role expires with its lease.
  rendered.push(`ALTER ROLE ${quoteIdentifier(user.username)} VALID UNTIL ${quoteLiteral(user.expiration)}`);
  return rendered.join(';\n');
}

/** Creates the user; transient catalog conflicts are retried, anything else is thrown. */
export async function createUser(pool: Pool, statements: readonly string[], user: NewUser, signal?: AbortSignal): Promise<void> {
  const text = creationQuery(statements, user);
  await withConflictRetry(() => runQuery(pool, text), signal);
}

/**
 * Runs the statements in a transaction that is rolled back, so a typo is
 * found when the role is written rather than at the first credential.
 */
export async function validateCreation(pool: Pool, statements: readonly string[], user: NewUser): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query(creationQuery(statements, user));
  } finally {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    client.release(broken);
  }
}
