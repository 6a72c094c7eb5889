// Trying a role's statements when the role is written, so that a typo is a
// 400 then rather than a failed `creds` read or a lease that cannot be
// revoked later. Everything runs in one transaction that is always rolled
// back, so nothing is left in the database:
//   1. the creation statements, exactly as a `creds` read sends them (with
//      the VALID UNTIL backstop), for a throw-away user;
//   2. when they made no role of that name (a bootstrap DO block, a group
//      role) or failed, a plain role of that name, so that the other lists
//      have a user to act on;
//   3. renew_statements, revocation_statements and rollback_statements,
//      each from a savepoint taken after step 2, exactly as renewal,
//      revocation and the sweep send them. Empty lists (the built-in
//      renewal and revocation) are not tried.
// Every list is tried even when another failed, so one answer names them
// all.
//
// Statements that cannot run inside a transaction block (VACUUM, CREATE
// INDEX CONCURRENTLY, DROP DATABASE …: SQLSTATE 25001) cannot be tried this
// way. At run time a list is sent as one query, which PostgreSQL runs as
// one implicit transaction when it holds more than one statement; such a
// list would fail there as well and is refused. A list of exactly one such
// statement runs outside any transaction at run time and works; it is
// accepted untried, with a warning. Creation statements always travel with
// the backstop, so for them 25001 is always a failure.

import type { Pool, PoolClient } from 'pg';
import { creationQuery, loginState, type LoginState, type NewUser } from '../users/create-user';
import { quoteIdentifier } from '../sql/quote';
import { renewQuery } from '../users/renew-user';
import { sqlState } from '../sql/retry';
import { revocationQuery } from '../users/revoke-user';
import { TemplateError } from '../sql/sql-template';
import { describeDatabaseError } from '../connections/verify';

/** The statement lists of a role that are tried. */
export interface RoleStatements {
  creationStatements: readonly string[];
  renewStatements: readonly string[];
  revocationStatements: readonly string[];
  rollbackStatements: readonly string[];
}

/** A statement list that did not run, named by its field. */
export interface StatementProblem {
  field: 'creation_statements' | 'renew_statements' | 'revocation_statements' | 'rollback_statements';
  /** PostgreSQL's message and SQLSTATE, or the template's problem. */
  message: string;
  /** `sql`: PostgreSQL refused it; `template`: the values could not be put in. */
  kind: 'sql' | 'template';
}

/** What trying a role's statements found. */
export interface RoleTrial {
  /** Empty when every list ran. */
  problems: StatementProblem[];
  /** Lists accepted without being tried, and why. */
  warnings: string[];
  /** What the creation statements made of the user ('missing' when they failed). */
  login: LoginState;
}

/** SQLSTATE active_sql_transaction: "… cannot run inside a transaction block". */
const ACTIVE_SQL_TRANSACTION = '25001';
const BEFORE_USER = 'vault_plugin_before_user';
const AFTER_USER = 'vault_plugin_after_user';

/**
 * Runs the role's statements for `user` in a transaction that is rolled
 * back (see the module comment). Throws only when the database cannot be
 * used at all (connection refused, lost); problems with the statements are
 * returned.
 */
export async function tryRoleStatements(pool: Pool, role: RoleStatements, user: NewUser): Promise<RoleTrial> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    return await tryInTransaction(client, role, user);
  } finally {
    let broken: Error | undefined;
    try {
      await client.query('ROLLBACK');
    } catch (err) {
      // A connection that cannot roll back must not serve anyone else; the
      // server rolls the transaction back when the connection goes.
      broken = err instanceof Error ? err : new Error(String(err));
    }
    client.release(broken);
  }
}

async function tryInTransaction(client: PoolClient, role: RoleStatements, user: NewUser): Promise<RoleTrial> {
  const trial: RoleTrial = { problems: [], warnings: [], login: 'missing' };
  await client.query(`SAVEPOINT ${BEFORE_USER}`);
  const creation = await attempt(client, () => creationQuery(role.creationStatements, user));
  if (creation.ok) {
    trial.login = loginState(creation.results);
  } else {
    trial.problems.push({ field: 'creation_statements', message: creation.message, kind: creation.kind });
    await client.query(`ROLLBACK TO SAVEPOINT ${BEFORE_USER}`);
  }
  const all: TriedList[] = [
    { field: 'renew_statements', statements: role.renewStatements, text: () => renewQuery(user.username, user.expiration, role.renewStatements) },
    { field: 'revocation_statements', statements: role.revocationStatements, text: () => revocationQuery(user.username, role.revocationStatements) },
    { field: 'rollback_statements', statements: role.rollbackStatements, text: () => revocationQuery(user.username, role.rollbackStatements) },
  ];
  const lists = all.filter((list) => list.statements.length > 0);
  if (lists.length === 0) return trial;
  if (trial.login === 'missing') await client.query(`CREATE ROLE ${quoteIdentifier(user.username)}`);
  await client.query(`SAVEPOINT ${AFTER_USER}`);

  for (const { field, statements, text } of lists) {
    const outcome = await attempt(client, text);
    // Each list starts from the same fresh user, whatever the last one did.
    await client.query(`ROLLBACK TO SAVEPOINT ${AFTER_USER}`);
    if (outcome.ok) continue;
    if (outcome.state === ACTIVE_SQL_TRANSACTION && statements.length === 1) {
      trial.warnings.push(
        `${field} were not tried: ${outcome.message}; a single such statement runs outside a transaction at run time, so it is accepted untried`,
      );
      continue;
    }
    const hint = outcome.state === ACTIVE_SQL_TRANSACTION ? ' (the statements of a list run as one transaction, so it would fail there too)' : '';
    trial.problems.push({ field, message: `${outcome.message}${hint}`, kind: outcome.kind });
  }
  return trial;
}

/** A list tried against the throw-away user. */
interface TriedList {
  field: StatementProblem['field'];
  statements: readonly string[];
  /** The query text the list is sent as at run time. */
  text: () => string;
}

type Attempt = { ok: true; results: unknown } | { ok: false; message: string; state: string | undefined; kind: StatementProblem['kind'] };

/** Runs the query `text()` builds; a template or SQL error is an outcome, anything else is thrown. */
async function attempt(client: PoolClient, text: () => string): Promise<Attempt> {
  try {
    const results: unknown = await client.query(text());
    return { ok: true, results };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, message: err.message, state: undefined, kind: 'template' };
    const state = sqlState(err);
    if (state === undefined) throw err;
    return { ok: false, message: describeDatabaseError(err), state, kind: 'sql' };
  }
}
