// Rendering statement templates such as
//   CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'
// Vault pastes values in as raw text, so a `"` or `'` in a value can rewrite
// the statement. Here the template is lexed first and each value is escaped
// for the context its placeholder stands in; the result is lexed again and
// must have exactly the structure the template promised, or rendering fails.
//
// Contexts and what a value becomes there:
//   "…{{name}}…"          `"` doubled
//   '…{{password}}…'      `'` doubled; if a value brings a backslash, the
//                          literal is rewritten as E'…' with every backslash
//                          doubled, so it means the same whatever
//                          standard_conforming_strings is
//   E'…{{password}}…'     `'` and `\` doubled
//   bare {{name}}          a quoted identifier ("…")
//   bare {{password}}      a quoted literal ('…' or E'…')
//   $tag$ … $tag$          the body is rendered as SQL by these same rules and
//                          must not then contain $tag$
//   comments               left alone: placeholders are not substituted
//   U&'…', U&"…", B'…', X'…'   refused
//
// Dynamic SQL: when a literal's text is itself SQL with the placeholder inside
// a quoted identifier or literal (EXECUTE 'GRANT … TO "{{name}}"'), the value
// is escaped for that inner quote too. A bare placeholder in such text
// (EXECUTE 'GRANT … TO {{name}}') is indistinguishable from plain data
// (format('%I', '{{name}}')) and cannot be protected: write dynamic SQL with
// format('%I' / '%L') or quote_ident()/quote_literal(). Quotes nested inside
// literals are assumed to be read with standard_conforming_strings on (the
// default), as the session that runs the statement would.

import { quoteIdentifier, quoteLiteral } from './quote';
import { isIdentCont, isSqlSpace, lexSql, lineAndColumn, SqlLexError, type Segment, type SegmentKind } from './sql-lexer';

/** The values placeholders stand for; the caller decides what each means (e.g. `{{username}}` is the root user in root rotation). */
export interface TemplateValues {
  name?: string;
  username?: string;
  password?: string;
  expiration?: string;
}

/** The template cannot be rendered safely. Messages name placeholders, never values. */
export class TemplateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

const VARIABLES = ['name', 'username', 'password', 'expiration'] as const;

/** Placeholders that stand for role names: bare, they become identifiers. */
const IDENTIFIER_VARIABLES: ReadonlySet<string> = new Set(['name', 'username']);

/** What `templateVariables` renders with: any value free of special characters does. */
const SAMPLE_VALUE = 'x';

/**
 * `statement` with its placeholders (`{{name}}`, `{{username}}`,
 * `{{password}}`, `{{expiration}}`, spaces inside the braces allowed)
 * replaced by the values, each quoted or escaped for the context it stands
 * in (see the top of this file). Placeholders in comments stay as they are.
 * If the statement ends in a `--` comment, a newline is appended so that
 * text a caller joins after it is not commented out.
 * @throws TemplateError for an unknown placeholder, a placeholder without a
 *   value, a value with a NUL character, a value that would end a dollar
 *   quote, a placeholder in a context where no value is safe, or a
 *   statement that cannot be lexed.
 */
export function renderStatement(statement: string, values: TemplateValues): string {
  return renderTemplate(statement, (name) => {
    const variable = VARIABLES.find((v) => v === name);
    if (variable === undefined) {
      throw new TemplateError(`unknown placeholder {{${name}}}; known: ${VARIABLES.map((v) => `{{${v}}}`).join(', ')}`);
    }
    const value = values[variable];
    if (value === undefined) throw new TemplateError(`no value was given for {{${name}}}`);
    if (value.includes('\0')) throw new TemplateError(`the value for {{${name}}} contains a NUL character`);
    return value;
  });
}

/**
 * The placeholder names `statement` uses outside comments, each once, in
 * order of appearance, including unknown ones (for the caller to judge).
 * @throws TemplateError when the statement cannot be lexed or a placeholder
 *   stands where no value could be placed safely.
 */
export function templateVariables(statement: string): string[] {
  const names: string[] = [];
  renderTemplate(statement, (name) => {
    if (!names.includes(name)) names.push(name);
    return SAMPLE_VALUE;
  });
  return names;
}

/** Gives the value for a placeholder name, or throws a TemplateError. */
type Resolve = (name: string) => string;

/** Where a text being rendered lies in the statement, for error positions. */
interface Origin {
  statement: string;
  offset: number;
  /** The statement itself, rather than a dollar-quoted body inside it. */
  topLevel: boolean;
}

function renderTemplate(statement: string, resolve: Resolve): string {
  return renderSql(statement, resolve, { statement, offset: 0, topLevel: true });
}

/** Renders `sql` (the statement or a dollar-quoted body in it) and checks the result's structure. */
function renderSql(sql: string, resolve: Resolve, origin: Origin): string {
  const segments = lexTemplate(sql, origin);
  const out = new Output();
  for (let i = 0; i < segments.length; ) {
    const segment = at(segments, i);
    switch (segment.kind) {
      case 'code': {
        let j = i;
        while (segments[j]?.kind === 'code') j++;
        renderCode(sql, segment.start, at(segments, j - 1).end, resolve, out);
        i = j;
        continue;
      }
      case 'string':
      case 'escape-string':
      case 'unicode-string':
      case 'bit-string':
        // Continuation parts are rendered with their first part, which
        // consumes them; meeting one here would silently drop it.
        if (segment.continued) throw new Error('internal error: string continuation without its first part');
        i = renderStringGroup(sql, segments, i, resolve, out);
        continue;
      case 'identifier':
        out.push(segment.kind, renderIdentifier(sql, segment, resolve));
        break;
      case 'unicode-identifier':
        refuseIn(sql, segment);
        out.push(segment.kind, segment.text);
        break;
      case 'dollar-string':
        out.push(segment.kind, renderDollarString(sql, segment, resolve, origin));
        break;
      case 'line-comment':
      case 'block-comment':
      case 'separator':
        out.push(segment.kind, segment.text);
        break;
    }
    i++;
  }
  if (origin.topLevel && segments[segments.length - 1]?.kind === 'line-comment') out.code('\n');
  const text = out.text();
  verifyStructure(text, out.pieces);
  return text;
}

function lexTemplate(sql: string, origin: Origin): Segment[] {
  try {
    return lexSql(sql);
  } catch (err) {
    if (!(err instanceof SqlLexError)) throw err;
    const { line, column } = lineAndColumn(origin.statement, origin.offset + err.position);
    const where = origin.topLevel ? 'the statement' : 'a dollar-quoted body with placeholders, read as SQL,';
    throw new TemplateError(`${where} cannot be lexed: unterminated ${err.construct} starting at line ${line}, column ${column}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// Output and its structure check
// ---------------------------------------------------------------------------

/** A piece of rendered text and the lexical context it must have. */
interface Piece {
  kind: SegmentKind;
  text: string;
  continued: boolean;
}

class Output {
  readonly pieces: Piece[] = [];

  push(kind: SegmentKind, text: string, continued = false): void {
    this.pieces.push({ kind, text, continued });
  }

  code(text: string): void {
    if (text !== '') this.push('code', text);
  }

  /** The last character written so far. */
  lastChar(): string | undefined {
    for (let i = this.pieces.length - 1; i >= 0; i--) {
      const text = at(this.pieces, i).text;
      if (text !== '') return text[text.length - 1];
    }
    return undefined;
  }

  text(): string {
    return this.pieces.map((p) => p.text).join('');
  }
}

/**
 * The rendered text must lex into exactly the pieces it was built from: the
 * same quotes, comments and separators in the same places. This is what
 * guarantees that no value changed the statement's structure, whatever the
 * escaping above may have missed.
 */
function verifyStructure(text: string, expected: readonly Piece[]): void {
  let segments: Segment[];
  try {
    segments = lexSql(text);
  } catch (err) {
    throw new TemplateError('the values would break the statement: the rendered text cannot be lexed', { cause: err });
  }
  const actual = mergeCode(segments.map((s) => ({ kind: s.kind, text: s.text, continued: s.continued ?? false })));
  const wanted = mergeCode(expected);
  const same =
    actual.length === wanted.length &&
    actual.every((p, i) => {
      const w = at(wanted, i);
      return p.kind === w.kind && p.text === w.text && p.continued === w.continued;
    });
  if (!same) {
    throw new TemplateError(
      'the values would change the structure of the statement; separate bare placeholders from adjacent quotes and literals',
    );
  }
}

/** Joins neighbouring code pieces (the lexer cuts code into tokens, rendering into runs). */
function mergeCode(pieces: readonly Piece[]): Piece[] {
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (piece.kind === 'code' && last?.kind === 'code') {
      merged[merged.length - 1] = { ...last, text: last.text + piece.text };
    } else if (piece.kind !== 'code' || piece.text !== '') {
      merged.push({ ...piece });
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------
// Placeholders
// ---------------------------------------------------------------------------

interface Placeholder {
  /** Offsets of `{{` and just after `}}`. */
  start: number;
  end: number;
  name: string;
}

/** The placeholder `{{ name }}` starting at `from` in `text`, ending by `limit`; undefined if there is none. */
function placeholderAt(text: string, from: number, limit: number): Placeholder | undefined {
  if (!text.startsWith('{{', from)) return undefined;
  let i = from + 2;
  while (i < limit && isInnerSpace(text[i])) i++;
  const nameStart = i;
  if (!isNameStart(text[i])) return undefined;
  while (i < limit && (isNameStart(text[i]) || isAsciiDigit(text[i]))) i++;
  const name = text.slice(nameStart, i);
  while (i < limit && isInnerSpace(text[i])) i++;
  if (i + 2 > limit || !text.startsWith('}}', i)) return undefined;
  return { start: from, end: i + 2, name };
}

/** Every placeholder in text[from, to). */
function placeholdersIn(text: string, from: number, to: number): Placeholder[] {
  const found: Placeholder[] = [];
  for (let i = from; i < to; ) {
    const placeholder = placeholderAt(text, i, to);
    if (placeholder === undefined) {
      i++;
    } else {
      found.push(placeholder);
      i = placeholder.end;
    }
  }
  return found;
}

function isInnerSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function isNameStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isAsciiDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

// ---------------------------------------------------------------------------
// Code: bare placeholders become quoted tokens
// ---------------------------------------------------------------------------

/** Renders the code run sql[from, to): bare `{{name}}` becomes "…", `{{password}}` '…'. */
function renderCode(sql: string, from: number, to: number, resolve: Resolve, out: Output): void {
  let pos = from;
  for (const placeholder of placeholdersIn(sql, from, to)) {
    out.code(sql.slice(pos, placeholder.start));
    const value = resolve(placeholder.name);
    const asIdentifier = IDENTIFIER_VARIABLES.has(placeholder.name);
    let token: string;
    try {
      token = asIdentifier ? quoteIdentifier(value) : quoteLiteral(value);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new TemplateError(`the value for {{${placeholder.name}}} cannot be quoted: ${reason}`, { cause: err });
    }
    // A word, quote or `&` right before the token would change how it is
    // read: E"…"/U&'…' prefixes, or 'a''b' read as one literal.
    if (token.startsWith(' ')) {
      out.code(' ');
      token = token.slice(1);
    } else if (mergesWithNext(out.lastChar())) {
      out.code(' ');
    }
    out.push(asIdentifier ? 'identifier' : token.startsWith('E') ? 'escape-string' : 'string', token);
    // Likewise a quote right after it: "a""b" is one identifier.
    const next = sql[placeholder.end];
    if (next === "'" || next === '"') out.code(' ');
    pos = placeholder.end;
  }
  out.code(sql.slice(pos, to));
}

/** True when a quote written right after `c` would be read together with it. */
function mergesWithNext(c: string | undefined): boolean {
  return c !== undefined && (isIdentCont(c) || c === "'" || c === '"' || c === '&');
}

// ---------------------------------------------------------------------------
// Quoted identifiers
// ---------------------------------------------------------------------------

function renderIdentifier(sql: string, segment: Segment, resolve: Resolve): string {
  let text = sql.slice(segment.start, segment.contentStart);
  let pos = segment.contentStart;
  for (const placeholder of placeholdersIn(sql, segment.contentStart, segment.contentEnd)) {
    text += sql.slice(pos, placeholder.start) + resolve(placeholder.name).replaceAll('"', '""');
    pos = placeholder.end;
  }
  return text + sql.slice(pos, segment.end);
}

/** Throws if `segment` holds a placeholder: no value is safe in U&"…" (or U&'…', B'…', X'…'). */
function refuseIn(sql: string, segment: Segment): void {
  const [first] = placeholdersIn(sql, segment.contentStart, segment.contentEnd);
  if (first !== undefined) {
    throw new TemplateError(`{{${first.name}}} cannot be used inside a ${describeKind(segment.kind)}; use a plain '…' or "…" instead`);
  }
}

// ---------------------------------------------------------------------------
// String literals
// ---------------------------------------------------------------------------

/** A placeholder in a literal, with where it lies in the literal's decoded value. */
interface LiteralPlaceholder extends Placeholder {
  decodedStart: number;
}

/** A literal part's placeholders and its value as the server reads it (placeholders kept as text). */
interface LiteralScan {
  placeholders: LiteralPlaceholder[];
  decoded: string;
}

/**
 * Walks the content of a string literal part unit by unit (a character,
 * `''`, or in E'…' a backslash escape), so a placeholder is only found
 * where it starts a unit: in E'…\{{name}}…' the first brace is escaped and
 * there is no placeholder.
 * @throws TemplateError for a placeholder right after an escape that its
 *   value could extend (`\x4`, `\u00`, `\12`, …).
 */
function scanLiteral(text: string, segment: Segment): LiteralScan {
  const backslash = segment.kind === 'escape-string';
  const placeholders: LiteralPlaceholder[] = [];
  let decoded = '';
  let openEscapeEnd = -1;
  for (let i = segment.contentStart; i < segment.contentEnd; ) {
    const placeholder = placeholderAt(text, i, segment.contentEnd);
    if (placeholder !== undefined) {
      if (i === openEscapeEnd) {
        throw new TemplateError(
          `{{${placeholder.name}}} directly follows a numeric escape (\\x, \\u, \\U or octal) that its value could extend; separate them`,
        );
      }
      placeholders.push({ ...placeholder, decodedStart: decoded.length });
      decoded += text.slice(placeholder.start, placeholder.end);
      i = placeholder.end;
      continue;
    }
    const c = text.charAt(i);
    if (c === "'") {
      // Inside a literal a quote only occurs doubled.
      decoded += "'";
      i += 2;
    } else if (c === '\\' && backslash) {
      const escape = decodeEscape(text, i, segment.contentEnd);
      decoded += escape.text;
      if (escape.open) openEscapeEnd = escape.end;
      i = escape.end;
    } else {
      decoded += c;
      i++;
    }
  }
  return { placeholders, decoded };
}

interface Escape {
  text: string;
  end: number;
  /** More digits right after it would still belong to it. */
  open: boolean;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The E'…' escape at `from` (a backslash), as the server decodes it. */
function decodeEscape(text: string, from: number, limit: number): Escape {
  const c = text.charAt(from + 1);
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, end: from + 2, open: false };
  const digits = (start: number, max: number, isDigit: (d: string) => boolean): string => {
    let end = start;
    while (end < limit && end - start < max && isDigit(text.charAt(end))) end++;
    return text.slice(start, end);
  };
  const numeric = (start: number, max: number, radix: 8 | 16, isDigit: (d: string) => boolean): Escape | undefined => {
    const run = digits(start, max, isDigit);
    const end = start + run.length;
    if (run === '') return undefined;
    return { text: codePointText(parseInt(run, radix)), end, open: run.length < max };
  };
  if (c === 'x') return numeric(from + 2, 2, 16, isHexDigit) ?? { text: 'x', end: from + 2, open: true };
  if (c === 'u') return numeric(from + 2, 4, 16, isHexDigit) ?? { text: 'u', end: from + 2, open: true };
  if (c === 'U') return numeric(from + 2, 8, 16, isHexDigit) ?? { text: 'U', end: from + 2, open: true };
  if (c >= '0' && c <= '7') {
    const escape = numeric(from + 1, 3, 8, (d) => d >= '0' && d <= '7');
    if (escape !== undefined) return { ...escape, text: String.fromCharCode(parseInt(text.slice(from + 1, escape.end), 8) & 0xff) };
  }
  return { text: c, end: from + 2, open: false };
}

function isHexDigit(d: string): boolean {
  return (d >= '0' && d <= '9') || (d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F');
}

function codePointText(code: number): string {
  try {
    return String.fromCodePoint(code);
  } catch {
    // Out of range: the server rejects it; for finding structure it is just text.
    return '';
  }
}

/**
 * Renders the literal starting at segments[first] together with its
 * continuation parts, writes it (and what lies between the parts) to `out`,
 * and returns the index of the first segment after it.
 */
function renderStringGroup(sql: string, segments: readonly Segment[], first: number, resolve: Resolve, out: Output): number {
  // The parts, and everything up to the last one (whitespace and comments).
  let last = first;
  for (let k = first + 1; k < segments.length; k++) {
    const s = at(segments, k);
    if (s.continued) last = k;
    else if (!(s.kind === 'line-comment' || (s.kind === 'code' && [...s.text].every(isSqlSpace)))) break;
  }
  const span = segments.slice(first, last + 1);
  const parts = span.filter((s) => s.kind === at(segments, first).kind && (s === span[0] || s.continued));
  const kind = at(segments, first).kind;
  const scans = parts.map((p) => scanLiteral(sql, p));
  const total = scans.reduce((n, s) => n + s.placeholders.length, 0);
  if (total === 0) {
    for (const s of span) out.push(s.kind, s.text, s.continued ?? false);
    return last + 1;
  }
  if (kind === 'unicode-string' || kind === 'bit-string') {
    for (const p of parts) refuseIn(sql, p);
  }

  // The literal's whole value, to see whether it is SQL with the placeholder
  // in a quoted context (dynamic SQL).
  const decoded = scans.map((s) => s.decoded).join('');
  const inner = new Map<LiteralPlaceholder, string>();
  let offset = 0;
  for (const scan of scans) {
    for (const placeholder of scan.placeholders) {
      const value = resolve(placeholder.name);
      inner.set(placeholder, escapeForNestedSql(decoded, offset + placeholder.decodedStart, value, placeholder.name));
    }
    offset += scan.decoded.length;
  }

  // A backslash in a plain literal is an escape when standard_conforming_strings
  // is off; as E'…' with doubled backslashes it means the same either way.
  const upgrade = kind === 'string' && [...inner.values()].some((v) => v.includes('\\'));
  const backslashes = kind === 'escape-string' || upgrade;
  const escapeValue = (v: string): string => (backslashes ? v.replaceAll('\\', '\\\\') : v).replaceAll("'", "''");
  const keepTemplate = (t: string): string => (upgrade ? t.replaceAll('\\', '\\\\') : t);

  const rendered = new Map<Segment, string>();
  parts.forEach((part, index) => {
    const scan = at(scans, index);
    let content = '';
    let pos = part.contentStart;
    for (const placeholder of scan.placeholders) {
      content += keepTemplate(sql.slice(pos, placeholder.start)) + escapeValue(inner.get(placeholder) ?? '');
      pos = placeholder.end;
    }
    content += keepTemplate(sql.slice(pos, part.contentEnd));
    const prefix = upgrade && index === 0 ? 'E' : sql.slice(part.start, part.contentStart - 1);
    rendered.set(part, `${prefix}'${content}'`);
  });

  for (const s of span) {
    const text = rendered.get(s);
    if (text === undefined) {
      out.push(s.kind, s.text);
      continue;
    }
    if (upgrade && s === span[0] && out.lastChar() !== undefined && !isSqlSpace(out.lastChar())) out.code(' ');
    out.push(upgrade ? 'escape-string' : s.kind, text, s.continued ?? false);
  }
  return last + 1;
}

/**
 * `value` escaped for where position `pos` lies if `text` (a literal's
 * value) is read as SQL: inside a quoted identifier or literal there, the
 * inner quoting applies too (recursively); in code, or when the text is not
 * SQL at all, the value is plain data and stays as it is.
 */
function escapeForNestedSql(text: string, pos: number, value: string, name: string): string {
  let segments: Segment[];
  try {
    segments = lexSql(text);
  } catch (err) {
    if (err instanceof SqlLexError) return value;
    throw err;
  }
  const segment = segments.find((s) => s.start <= pos && pos < s.end);
  if (segment === undefined) return value;
  switch (segment.kind) {
    case 'code':
    case 'separator':
      return value;
    case 'identifier':
      return value.replaceAll('"', '""');
    case 'string':
    case 'escape-string': {
      const scan = scanLiteral(text, segment);
      const placeholder = scan.placeholders.find((p) => p.start === pos);
      if (placeholder === undefined) {
        throw new TemplateError(`{{${name}}} is cut by an escape sequence in SQL text inside a string literal`);
      }
      const deeper = escapeForNestedSql(scan.decoded, placeholder.decodedStart, value, name);
      const quoted = deeper.replaceAll("'", "''");
      return segment.kind === 'escape-string' ? quoted.replaceAll('\\', '\\\\') : quoted;
    }
    default:
      throw new TemplateError(
        `{{${name}}} stands in a ${describeKind(segment.kind)} within SQL text inside a string literal, where no value is safe; ` +
          "build dynamic SQL with format('%I', …) or format('%L', …)",
      );
  }
}

// ---------------------------------------------------------------------------
// Dollar-quoted bodies
// ---------------------------------------------------------------------------

/** A `$tag$…$tag$` string with its body rendered as SQL, if it has placeholders. */
function renderDollarString(sql: string, segment: Segment, resolve: Resolve, origin: Origin): string {
  const body = sql.slice(segment.contentStart, segment.contentEnd);
  if (placeholdersIn(body, 0, body.length).length === 0) return segment.text;
  const delimiter = `$${segment.tag ?? ''}$`;
  const rendered = renderSql(body, resolve, { statement: origin.statement, offset: origin.offset + segment.contentStart, topLevel: false });
  // The body ends at the first $tag$; also one that a value completes with
  // the text around it, e.g. a trailing `$` before the closing delimiter.
  if ((rendered + delimiter).indexOf(delimiter) !== rendered.length) {
    throw new TemplateError(`a value placed in the ${delimiter}-quoted body would contain its closing ${delimiter} and end it early`);
  }
  return delimiter + rendered + delimiter;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function describeKind(kind: SegmentKind): string {
  switch (kind) {
    case 'unicode-string':
      return "U&'…' string";
    case 'unicode-identifier':
      return 'U&"…" identifier';
    case 'bit-string':
      return "B'…'/X'…' bit string";
    case 'dollar-string':
      return 'dollar-quoted string';
    case 'line-comment':
    case 'block-comment':
      return 'comment';
    case 'string':
      return 'string literal';
    case 'escape-string':
      return "E'…' string";
    case 'identifier':
      return 'quoted identifier';
    case 'code':
    case 'separator':
      return 'code';
  }
}

/** items[index], which the caller knows to exist. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`internal error: index ${index} out of range`);
  return item;
}
