// Statement lists as operators give them for role fields such as
// creation_statements: split into single statements with the SQL lexer, so
// that a `;` inside a literal, identifier, comment or `DO $$ … $$` body does
// not cut a statement in two (Vault's own split on `;` does).

import { isIdentStart, isSqlSpace, lexSql, type Segment } from './sql-lexer';
import { templateVariables } from './sql-template';

/**
 * Splits `sql` at its top-level `;` into single statements, the way psql
 * does: not inside quotes, dollar quotes or comments, not inside
 * parentheses, and not inside the `BEGIN ATOMIC … END` body of a
 * CREATE [OR REPLACE] FUNCTION/PROCEDURE. Each statement is trimmed of
 * whitespace and of trailing comments (a trailing `--` comment would swallow
 * whatever a caller appends, such as `;` and the next statement); statements
 * that are empty or only comments are dropped. Leading comments and comments
 * inside a statement are kept as they are.
 * @throws SqlLexError for an unterminated quote or comment.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: Segment[] = [];
  let tracker = new NestingTracker();
  for (const segment of lexSql(sql)) {
    if (segment.kind === 'separator' && tracker.atTopLevel()) {
      pushStatement(statements, sql, current);
      current = [];
      tracker = new NestingTracker();
      continue;
    }
    tracker.see(segment);
    current.push(segment);
  }
  pushStatement(statements, sql, current);
  return statements;
}

/**
 * The statements in the values of a statement-list field, with the meaning
 * Vault gives them (strutil.ParseArbitraryStringSlice(value, ";")): each
 * value may be base64 of the text; the text may be a JSON array of strings
 * (its elements are used) or else is SQL. Every resulting string is then
 * split with {@link splitStatements}.
 *
 * A value counts as base64 only when the whole trimmed value is standard,
 * padded base64 (line breaks allowed, as Go's decoder ignores them) and
 * decodes to UTF-8 text without control characters other than whitespace,
 * so a short SQL word that happens to be valid base64 stays SQL.
 * @throws SqlLexError for an unterminated quote or comment.
 */
export function parseStatementsInput(values: readonly string[]): string[] {
  return values.flatMap((value) => arbitraryStrings(value).flatMap(splitStatements));
}

/** First words of statements that begin, end or split a transaction. */
const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release']);

/**
 * The keyword(s), upper-cased, when `statement` is transaction control
 * (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION, …); undefined
 * otherwise. Leading comments are skipped; `BEGIN ATOMIC` bodies and DO
 * blocks do not count, since only a statement's first word is read.
 * @throws SqlLexError for an unterminated quote or comment.
 */
export function transactionControl(statement: string): string | undefined {
  const words: string[] = [];
  for (const segment of lexSql(statement)) {
    if (segment.kind === 'line-comment' || segment.kind === 'block-comment') continue;
    if (segment.kind === 'code' && [...segment.text].every(isSqlSpace)) continue;
    if (segment.kind !== 'code' || !isIdentStart(segment.text[0])) break;
    words.push(segment.text.toLowerCase());
    if (words.length === 2) break;
  }
  const [first, second] = words;
  if (first !== undefined && TRANSACTION_CONTROL.has(first)) return first.toUpperCase();
  if (first === 'prepare' && second === 'transaction') return 'PREPARE TRANSACTION';
  return undefined;
}

/**
 * The first problem with a statement list that can be seen without a
 * database, in words for the operator; undefined if none: a NUL character
 * (PostgreSQL cannot take one), text that cannot be lexed, a placeholder
 * outside `allowed` (names without braces), and transaction control, which
 * would break the one transaction each list runs as.
 */
export function statementListProblem(statements: readonly string[], allowed: readonly string[]): string | undefined {
  for (const statement of statements) {
    if (statement.includes('\0')) return 'a statement contains a NUL character';
    let used: string[];
    let control: string | undefined;
    try {
      used = templateVariables(statement);
      control = transactionControl(statement);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    const bad = used.find((v) => !allowed.includes(v));
    if (bad !== undefined) return `{{${bad}}} cannot be used here; allowed: ${allowed.map((v) => `{{${v}}}`).join(', ')}`;
    if (control !== undefined) return `${control} is not allowed: the statements of a list run as one transaction, which the plugin begins and ends`;
  }
  return undefined;
}

/**
 * A problem when a non-empty list of statements that sets a password never
 * uses {{password}}: it would run without changing the password, and the
 * new one would be stored (and handed out) all the same. Call after
 * statementListProblem, which has lexed the statements.
 */
export function passwordUnusedProblem(statements: readonly string[]): string | undefined {
  if (statements.length === 0 || statements.some((s) => templateVariables(s).includes('password'))) return undefined;
  return 'none of the statements uses {{password}}, so they would not change the password';
}

/** One value as Vault's ParseArbitraryStringSlice sees it, before splitting. */
function arbitraryStrings(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed === '') return [];
  const text = decodeBase64Text(trimmed) ?? trimmed;
  const list = parseJsonStringArray(text);
  return list ?? [text];
}

/** The elements of a JSON array of strings (`null` counts as empty, as in Go); undefined for anything else. */
function parseJsonStringArray(text: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) return undefined;
  const strings: string[] = [];
  for (const item of parsed) {
    if (typeof item !== 'string') return undefined;
    strings.push(item);
  }
  return strings;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * `text` decoded from standard padded base64 when it is exactly that and
 * the result is text; undefined otherwise. Node's own decoder is lenient
 * (it skips invalid characters and accepts missing padding), so the form is
 * checked here first.
 */
function decodeBase64Text(text: string): string | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0) return undefined;
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  for (let i = 0; i < compact.length - padding; i++) {
    if (!BASE64_ALPHABET.includes(compact.charAt(i))) return undefined;
  }
  let decoded: string;
  try {
    // ignoreBOM keeps a leading BOM in the text rather than silently dropping it.
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
  for (const c of decoded) {
    const code = c.charCodeAt(0);
    if ((code < 0x20 && !isSqlSpace(c)) || code === 0x7f) return undefined;
  }
  return decoded;
}

/** Appends the statement made of `segments`, trimmed as {@link splitStatements} describes, unless nothing is left. */
function pushStatement(statements: string[], sql: string, segments: readonly Segment[]): void {
  let first = 0;
  let last = segments.length - 1;
  while (first <= last && isBlank(segments[first])) first++;
  while (last >= first && (isBlank(segments[last]) || isComment(segments[last]))) last--;
  const from = segments[first];
  const to = segments[last];
  if (from === undefined || to === undefined) return;
  if (segments.slice(first, last + 1).every((s) => isBlank(s) || isComment(s))) return;
  statements.push(sql.slice(from.start, to.end));
}

function isBlank(segment: Segment | undefined): boolean {
  return segment !== undefined && segment.kind === 'code' && [...segment.text].every(isSqlSpace);
}

function isComment(segment: Segment | undefined): boolean {
  return segment !== undefined && (segment.kind === 'line-comment' || segment.kind === 'block-comment');
}

/**
 * Follows what makes a `;` not end the statement, as psql does: open
 * parentheses, and BEGIN … END blocks (with CASE … END inside them) of a
 * statement that starts CREATE [OR REPLACE] FUNCTION|PROCEDURE, which is how
 * SQL-standard routine bodies (BEGIN ATOMIC …; …; END) are written.
 */
class NestingTracker {
  private parens = 0;
  private blocks = 0;
  /** The first four words of the statement, lower-cased. */
  private readonly leadingWords: string[] = [];

  atTopLevel(): boolean {
    return this.parens === 0 && this.blocks === 0;
  }

  see(segment: Segment): void {
    if (segment.kind !== 'code') return;
    const text = segment.text;
    if (text === '(') {
      this.parens++;
    } else if (text === ')') {
      // Like psql, a stray `)` does not make the depth negative.
      if (this.parens > 0) this.parens--;
    } else if (isIdentStart(text[0])) {
      this.word(text.toLowerCase());
    }
  }

  private word(word: string): void {
    if (this.leadingWords.length < 4) this.leadingWords.push(word);
    if (!this.createsRoutine() || this.parens > 0) return;
    if (word === 'begin') {
      this.blocks++;
    } else if (word === 'case') {
      // CASE also ends with END; it only matters inside a BEGIN block.
      if (this.blocks > 0) this.blocks++;
    } else if (word === 'end') {
      if (this.blocks > 0) this.blocks--;
    }
  }

  private createsRoutine(): boolean {
    const [w0, w1, w2, w3] = this.leadingWords;
    const routine = (w: string | undefined): boolean => w === 'function' || w === 'procedure';
    return w0 === 'create' && (routine(w1) || (w1 === 'or' && w2 === 'replace' && routine(w3)));
  }
}
