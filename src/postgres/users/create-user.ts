// Creating a database user: the role's creation statements, rendered with
// safely quoted values, plus VALID UNTIL, sent as one multi-statement query.
// Postgres runs such a query as one implicit transaction: either every
// statement commits or none does, in a single round trip.
//
// The statements need not create a role named {{name}}: bootstrap-only DO
// blocks, or statements that make a group role, are issued like any other
// (Vault's and OpenBao's own tests do). VALID UNTIL is then set only if the
// role exists, and the query's last row says whether the user can log in,
// so that the response can warn that the credential cannot. Checking for
// the role takes a DO block (≈0.25 ms of server time per credential), so
// statements that visibly create it (`CREATE ROLE "{{name}}" …`) get the
// plain ALTER ROLE instead.

import type { Pool } from 'pg';
import { quoteIdentifier, quoteLiteral } from '../sql/quote';
import { runQuery } from '../sql/query';
import { DUPLICATE_OBJECT, sqlState, withConflictRetry } from '../sql/retry';
import { userExists } from './revoke-user';
import { lexSql } from '../sql/sql-lexer';
import { renderStatement, type TemplateValues } from '../sql/sql-template';

/** Values the creation statements are rendered with. */
export interface NewUser {
  username: string;
  /** What `{{password}}` becomes: the SCRAM verifier, or the cleartext. */
  passwordValue: string;
  /** `{{expiration}}`, formatted as Vault does. */
  expiration: string;
}

/** What the creation statements made of the user. */
export type LoginState = 'login' | 'nologin' | 'missing';

/**
 * The statements for `user` as one query text. VALID UNTIL is set last,
 * when a role of the user's name exists; then one row (none when there is
 * no such role) tells whether it can log in (see loginState).
 */
export function creationQuery(statements: readonly string[], user: NewUser): string {
  const values: TemplateValues = {
    name: user.username,
    username: user.username,
    password: user.passwordValue,
    expiration: user.expiration,
  };
  const rendered = statements.map((s) => renderStatement(s, values));
  // Whatever the operator's statements say, the role expires with its lease.
  const backstop = `ALTER ROLE ${quoteIdentifier(user.username)} VALID UNTIL ${quoteLiteral(user.expiration)}`;
  rendered.push(certainlyCreatesNamedRole(statements) ? backstop : ifRoleExists(user.username, [backstop]));
  rendered.push(`SELECT rolcanlogin FROM pg_roles WHERE rolname = ${quoteLiteral(user.username)}`);
  return rendered.join(';\n');
}

/**
 * Whether some statement of the list certainly creates the role named
 * {{name}}, per list: a role's statements are one array for as long as the
 * role is cached, so they are lexed once, not at every credential.
 */
const createsNamedRoleByList = new WeakMap<readonly string[], boolean>();

function certainlyCreatesNamedRole(statements: readonly string[]): boolean {
  let known = createsNamedRoleByList.get(statements);
  if (known === undefined) {
    known = statements.some(createsNamedRole);
    createsNamedRoleByList.set(statements, known);
  }
  return known;
}

/** `CREATE ROLE|USER|GROUP` at a statement's start, with the name placeholder (quoted or bare) right after it. */
const CREATE_NAMED_ROLE = /^(?:role|user|group)\s+(?:"\{\{\s*(?:name|username)\s*\}\}"|\{\{\s*(?:name|username)\s*\}\})(?:\s|;|$)/i;

/**
 * True when `statement` certainly creates the role named {{name}} (if it
 * runs at all): it starts, after comments, with CREATE ROLE, USER or GROUP
 * and the placeholder. False also when unsure (a name built from the
 * placeholder, a comment in between, a DO block): the role is then checked
 * for.
 */
function createsNamedRole(statement: string): boolean {
  const start = lexSql(statement).find((s) => s.kind !== 'line-comment' && s.kind !== 'block-comment' && !(s.kind === 'code' && s.text.trim() === ''));
  if (start === undefined || start.kind !== 'code' || start.text.toLowerCase() !== 'create') return false;
  return CREATE_NAMED_ROLE.test(statement.slice(start.end).trimStart());
}

/**
 * A DO block running `statements` only when a role named `username` exists,
 * checked in the same transaction. The dollar-quote tag is one the body does
 * not contain, whatever the name holds.
 */
function ifRoleExists(username: string, statements: readonly string[]): string {
  const body = `BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${quoteLiteral(username)}) THEN ${statements.map((s) => `${s};`).join(' ')} END IF; END`;
  let tag = '$backstop$';
  for (let i = 0; body.includes(tag); i++) tag = `$backstop${i}$`;
  return `DO ${tag} ${body} ${tag}`;
}

/** The login state in the results of a creationQuery (its last result). */
export function loginState(results: unknown): LoginState {
  const list = Array.isArray(results) ? results : [results];
  const last: unknown = list[list.length - 1];
  const rows = typeof last === 'object' && last !== null && 'rows' in last && Array.isArray(last.rows) ? last.rows : [];
  const row: unknown = rows[0];
  if (typeof row !== 'object' || row === null) return 'missing';
  return 'rolcanlogin' in row && row.rolcanlogin === true ? 'login' : 'nologin';
}

/** The warning for a credential that cannot log in; undefined when it can. */
export function loginWarning(state: LoginState, username: string): string | undefined {
  if (state === 'missing') return `the creation statements created no role named ${JSON.stringify(username)}: this credential cannot log in`;
  if (state === 'nologin') return `the creation statements created role ${JSON.stringify(username)} without LOGIN: this credential cannot log in`;
  return undefined;
}

/**
 * Creates the user; transient catalog conflicts are retried, anything else is
 * thrown. duplicate_object is transient when another issuance created a
 * shared object first, but not when the object is the user itself: a role of
 * that name exists, and only a new name (a new creds read) can succeed.
 * Returns whether the user can log in.
 */
export async function createUser(pool: Pool, statements: readonly string[], user: NewUser, signal?: AbortSignal): Promise<LoginState> {
  const text = creationQuery(statements, user);
  const results: unknown = await withConflictRetry(() => runQuery(pool, text), signal, async (err) => sqlState(err) === DUPLICATE_OBJECT && (await nameTaken(pool, user.username)));
  return loginState(results);
}

/** True when a role named `username` exists, or when that cannot be found out (then the error is not retried). */
async function nameTaken(pool: Pool, username: string): Promise<boolean> {
  try {
    return await userExists(pool, username);
  } catch {
    return true;
  }
}
