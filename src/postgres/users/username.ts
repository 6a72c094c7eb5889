// Username templates, as in Vault's database engine (`username_template`).
//
// Vault evaluates these with Go's text/template plus the functions of
// sdk/helper/template. We cannot run Go templates here, so this module is a
// small evaluator for the subset those templates use: text, actions with
// pipelines (`a | f x`), parenthesised sub-pipelines, string and integer
// literals, the fields .DisplayName and .RoleName, trim markers ({{- -}}),
// comments, and Vault's functions plus printf. Anything else (variables,
// if/range, other functions or fields) is rejected when the template is
// compiled, so an operator sees the mistake when writing the config rather
// than when a lease is issued.
//
// Because every function returns a string and integers only ever come from
// literals, templates are type-checked completely at compile time: argument
// counts, argument types, integer ranges and printf formats. Rendering can
// then only fail on the size limits that protect the plugin from templates
// that blow up (nested `replace`).

import { createHash, randomInt, randomUUID } from 'node:crypto';

/** PostgreSQL's maximum identifier length in bytes (NAMEDATALEN - 1); longer names are silently truncated. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * The username template of Vault's PostgreSQL database plugin. Display and
 * role names are cut to 8 bytes each, so a result is at most
 * 2 + 8 + 1 + 8 + 1 + 20 + 1 + 10 = 51 bytes and the final `truncate 63`
 * never reaches the random part.
 */
export const DEFAULT_USERNAME_TEMPLATE =
  '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}';

/** The values a username template can refer to: Vault's `.DisplayName` and `.RoleName`. */
export interface UsernameInputs {
  /** The display name of the token that requested credentials (Vault's `.DisplayName`). */
  displayName: string;
  /** The name of the role credentials are issued for (Vault's `.RoleName`). */
  roleName: string;
}

/** A compiled username template. */
export interface UsernameTemplate {
  /**
   * Renders the template. Each call draws fresh random values and reads the
   * clock once (or uses `now`, for rendering at a chosen instant). Does not
   * check PostgreSQL's limits: use generateUsername.
   */
  render(inputs: UsernameInputs, now?: Date): string;
}

/** A template that does not compile or render, or renders an unusable username. The message is meant for operators. */
export class UsernameTemplateError extends Error {
  override name = 'UsernameTemplateError';
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/** Largest `random N`: anything longer cannot fit in an identifier anyway. */
const MAX_RANDOM_LENGTH = 1024;
/** Largest intermediate string (UTF-16 units); guards against templates like nested `replace "" "xxxx"`. */
const MAX_VALUE_LENGTH = 64 * 1024;
/** Deepest nesting of parentheses; guards the recursive-descent parser's stack. */
const MAX_PAREN_DEPTH = 32;
/** Length of the hash suffix that truncate_sha256 appends (as in Vault). */
const SHA256_SUFFIX_LENGTH = 8;
/** Alphabet of `random` (Vault uses go-secure-stdlib's base62). */
const RANDOM_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const MS_PER_SECOND = 1000;

// ---------------------------------------------------------------------------
// Values and functions
// ---------------------------------------------------------------------------

type ValueType = 'string' | 'int';
type Value = string | number;

/** What rendering needs: the inputs, and one clock reading so that unix_time and timestamp agree within a username. */
interface Env {
  inputs: UsernameInputs;
  now: Date;
}

/**
 * A compiled expression. Integers are always compile-time constants (only
 * literals produce them); strings are constant when they come from a literal,
 * which printf needs for its format.
 */
type Expr =
  | { type: 'int'; value: number; pos: number }
  | { type: 'string'; constant: string | undefined; evaluate: (env: Env) => string; pos: number };

interface FunctionSpec {
  params: readonly ValueType[];
  /** Checks arguments known at compile time (undefined when not constant); returns the problem, if any. */
  validate?: (args: readonly (Value | undefined)[]) => string | undefined;
  call: (args: readonly Value[], env: Env) => string;
}

const FIELDS = new Map<string, (inputs: UsernameInputs) => string>([
  ['DisplayName', (inputs) => inputs.displayName],
  ['RoleName', (inputs) => inputs.roleName],
]);

// A Map rather than an object literal so that names like "constructor" or
// "__proto__" are not found on Object.prototype.
const FUNCTIONS = new Map<string, FunctionSpec>([
  [
    'random',
    {
      params: ['int'],
      validate: ([n]) => intInRange(n, 1, MAX_RANDOM_LENGTH, 'length'),
      call: ([n]) => randomString(asInt(n)),
    },
  ],
  [
    'truncate',
    {
      params: ['int', 'string'],
      validate: ([n]) => intInRange(n, 1, Number.MAX_SAFE_INTEGER, 'max length'),
      call: ([n, s]) => truncateUtf8(asString(s), asInt(n)),
    },
  ],
  [
    'truncate_sha256',
    {
      params: ['int', 'string'],
      validate: ([n]) => intInRange(n, SHA256_SUFFIX_LENGTH + 1, Number.MAX_SAFE_INTEGER, 'max length'),
      call: ([n, s]) => truncateSha256(asString(s), asInt(n)),
    },
  ],
  ['uppercase', { params: ['string'], call: ([s]) => mapSimpleCase(asString(s), (ch) => ch.toUpperCase()) }],
  ['lowercase', { params: ['string'], call: ([s]) => mapSimpleCase(asString(s), (ch) => ch.toLowerCase()) }],
  ['replace', { params: ['string', 'string', 'string'], call: ([from, to, s]) => replaceAll(asString(s), asString(from), asString(to)) }],
  ['sha256', { params: ['string'], call: ([s]) => sha256Hex(asString(s)) }],
  ['base64', { params: ['string'], call: ([s]) => Buffer.from(asString(s), 'utf8').toString('base64') }],
  ['unix_time', { params: [], call: (_args, env) => String(Math.floor(env.now.getTime() / MS_PER_SECOND)) }],
  ['unix_time_millis', { params: [], call: (_args, env) => String(env.now.getTime()) }],
  ['timestamp', { params: ['string'], call: ([layout], env) => formatGoTime(asString(layout), env.now) }],
  // Vault uses hashicorp/go-uuid: 16 random bytes in 8-4-4-4-12 hex form.
  // randomUUID has the same shape (with the RFC 4122 version bits set).
  ['uuid', { params: [], call: () => randomUUID() }],
]);

const PRINTF = 'printf';

/** Go template keywords and predefined names we deliberately do not support. */
const UNSUPPORTED_WORDS = new Set([
  'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue',
  'nil', 'true', 'false', 'and', 'or', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'len', 'index',
  'slice', 'print', 'println', 'html', 'js', 'urlquery', 'call',
]);

function intInRange(value: Value | undefined, min: number, max: number, what: string): string | undefined {
  if (typeof value !== 'number') return undefined;
  if (value < min) return `${what} must be at least ${min}, got ${value}`;
  if (value > max) return `${what} must be at most ${max}, got ${value}`;
  return undefined;
}

// The compiler has already checked argument types; these narrow without casts.
function asInt(value: Value | undefined): number {
  if (typeof value !== 'number') throw new Error('internal error: expected an integer argument');
  return value;
}
function asString(value: Value | undefined): string {
  if (typeof value !== 'string') throw new Error('internal error: expected a string argument');
  return value;
}

/**
 * Case mapping character by character, keeping characters whose mapping is
 * not a single character. This approximates Go's strings.ToUpper/ToLower
 * (simple case mapping: "ß" stays "ß" rather than JavaScript's "SS"), and
 * keeps the number of characters.
 */
function mapSimpleCase(s: string, map: (ch: string) => string): string {
  let out = '';
  for (const ch of s) {
    const mapped = map(ch);
    out += Array.from(mapped).length === 1 ? mapped : ch;
  }
  return out;
}

function randomString(length: number): string {
  let out = '';
  // randomInt rejects out-of-range draws, so every character is equally likely.
  for (let i = 0; i < length; i++) out += RANDOM_ALPHABET.charAt(randomInt(RANDOM_ALPHABET.length));
  return out;
}

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3; // lone surrogates included: Buffer encodes them as U+FFFD
  return 4;
}

/**
 * The longest prefix of `s` of at most `maxBytes` UTF-8 bytes that ends on a
 * character boundary. Vault's truncate counts bytes too (Go's len), but cuts
 * mid-character, which PostgreSQL would reject as invalid UTF-8.
 */
function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = utf8Length(ch.codePointAt(0) ?? 0);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * Vault's truncate_sha256: when `s` is longer than `maxBytes`, keep the first
 * maxBytes-8 bytes and append the first 8 hex digits of the SHA-256 of the
 * part that was cut off (not of the whole string, as in Vault), so distinct
 * long names stay distinct.
 */
function truncateSha256(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const head = truncateUtf8(s, maxBytes - SHA256_SUFFIX_LENGTH);
  return head + sha256Hex(s.slice(head.length)).slice(0, SHA256_SUFFIX_LENGTH);
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Go's strings.ReplaceAll, including its empty-`from` case (insert between characters), with a size check first. */
function replaceAll(s: string, from: string, to: string): string {
  const chars = from === '' ? Array.from(s) : [];
  const occurrences = from === '' ? chars.length + 1 : s.split(from).length - 1;
  const resultLength = s.length + occurrences * (to.length - from.length);
  if (resultLength > MAX_VALUE_LENGTH) throw tooLong('replace', resultLength);
  return from === '' ? to + chars.join(to) + (chars.length > 0 ? to : '') : s.split(from).join(to);
}

function tooLong(what: string, length: number): UsernameTemplateError {
  return new UsernameTemplateError(`${what} produced a string of ${length} characters; the limit is ${MAX_VALUE_LENGTH}`);
}

// ---------------------------------------------------------------------------
// timestamp: Go time layouts, in UTC
// ---------------------------------------------------------------------------

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_NAME_LENGTH = 3;
const HOURS_PER_HALF_DAY = 12;
const MS_DIGITS = 3;
const MS_PER_DAY = 86_400_000;

const pad = (n: number, width: number, fill = '0'): string => String(n).padStart(width, fill);
const isDigit = (ch: string | undefined): boolean => ch !== undefined && ch >= '0' && ch <= '9';
const isLower = (ch: string | undefined): boolean => ch !== undefined && ch >= 'a' && ch <= 'z';

/**
 * Go's time.Format for the layout elements of its reference time
 * "Mon Jan 2 15:04:05 MST 2006". Vault formats local time; we format UTC so
 * that usernames do not depend on the host's time zone (zones print as Z,
 * +00:00, UTC…).
 */
function formatGoTime(layout: string, now: Date): string {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const day = now.getUTCDate();
  const hour = now.getUTCHours();
  const hour12 = hour % HOURS_PER_HALF_DAY === 0 ? HOURS_PER_HALF_DAY : hour % HOURS_PER_HALF_DAY;
  const yearDay = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / MS_PER_DAY) + 1;
  const monthName = MONTHS[month] ?? '';
  const weekdayName = WEEKDAYS[now.getUTCDay()] ?? '';

  // Matched in the order Go's nextStdChunk tries them, longest first.
  const elements: ReadonlyArray<readonly [string, () => string]> = [
    ['January', () => monthName],
    ['Monday', () => weekdayName],
    ['2006', () => pad(year, 4)],
    ['Z07:00:00', () => 'Z'],
    ['-07:00:00', () => '+00:00:00'],
    ['Z070000', () => 'Z'],
    ['-070000', () => '+000000'],
    ['Z07:00', () => 'Z'],
    ['-07:00', () => '+00:00'],
    ['Z0700', () => 'Z'],
    ['-0700', () => '+0000'],
    ['Z07', () => 'Z'],
    ['-07', () => '+00'],
    ['MST', () => 'UTC'],
    ['002', () => pad(yearDay, 3)],
    ['__2', () => pad(yearDay, 3, ' ')],
    ['_2', () => pad(day, 2, ' ')],
    ['01', () => pad(month + 1, 2)],
    ['02', () => pad(day, 2)],
    ['03', () => pad(hour12, 2)],
    ['04', () => pad(now.getUTCMinutes(), 2)],
    ['05', () => pad(now.getUTCSeconds(), 2)],
    ['06', () => pad(year % 100, 2)],
    ['15', () => pad(hour, 2)],
    ['PM', () => (hour >= HOURS_PER_HALF_DAY ? 'PM' : 'AM')],
    ['pm', () => (hour >= HOURS_PER_HALF_DAY ? 'pm' : 'am')],
    ['1', () => String(month + 1)],
    ['2', () => String(day)],
    ['3', () => String(hour12)],
    ['4', () => String(now.getUTCMinutes())],
    ['5', () => String(now.getUTCSeconds())],
  ];

  let out = '';
  let i = 0;
  while (i < layout.length) {
    const rest = layout.slice(i);
    // "Jan" and "Mon" count only when not followed by a lower-case letter (Go: "Month" is literal).
    if (rest.startsWith('Jan') && !rest.startsWith('January') && !isLower(rest[SHORT_NAME_LENGTH])) {
      out += monthName.slice(0, SHORT_NAME_LENGTH);
      i += SHORT_NAME_LENGTH;
      continue;
    }
    if (rest.startsWith('Mon') && !rest.startsWith('Monday') && !isLower(rest[SHORT_NAME_LENGTH])) {
      out += weekdayName.slice(0, SHORT_NAME_LENGTH);
      i += SHORT_NAME_LENGTH;
      continue;
    }
    // "_2006" is a literal underscore followed by the year, not "_2" + "006".
    if (rest.startsWith('_2006')) {
      out += '_';
      i += 1;
      continue;
    }
    // Fractional seconds: "." or "," then a run of 0s (fixed width) or 9s (trailing zeros dropped), not followed by a digit.
    const fraction = /^[.,](0+|9+)/.exec(rest);
    if (fraction && !isDigit(rest[fraction[0].length])) {
      const run = fraction[1] ?? '';
      const digits = (pad(now.getUTCMilliseconds(), MS_DIGITS) + '0'.repeat(Math.max(0, run.length - MS_DIGITS))).slice(0, run.length);
      const separator = rest.charAt(0);
      if (run.startsWith('0')) out += separator + digits;
      else {
        const trimmed = digits.replace(/0+$/, '');
        if (trimmed !== '') out += separator + trimmed;
      }
      i += fraction[0].length;
      continue;
    }
    const element = elements.find(([token]) => rest.startsWith(token));
    if (element) {
      out += element[1]();
      i += element[0].length;
      continue;
    }
    out += layout.charAt(i);
    i += 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

type Token =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'int'; value: number; pos: number }
  | { kind: 'field'; name: string; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'pipe' | 'lparen' | 'rparen'; pos: number };

type Segment = { kind: 'text'; text: string } | { kind: 'action'; tokens: Token[]; pos: number; end: number };

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const TRIM_MARKER = '-';
const COMMENT_OPEN = '/*';
const COMMENT_CLOSE = '*/';
const SPACE_CHARS = ' \t\r\n';

const isSpace = (ch: string | undefined): boolean => ch !== undefined && ch !== '' && SPACE_CHARS.includes(ch);
const isIdentStart = (ch: string | undefined): boolean => ch !== undefined && /^[A-Za-z_]$/.test(ch);
const isIdentChar = (ch: string | undefined): boolean => ch !== undefined && /^[A-Za-z0-9_]$/.test(ch);

class Source {
  constructor(readonly text: string) {}

  /** An error pointing at a position of the template, as "line L, column C" (1-based). */
  error(message: string, pos: number): UsernameTemplateError {
    const before = this.text.slice(0, pos);
    const line = before.split('\n').length;
    const column = Array.from(before.slice(before.lastIndexOf('\n') + 1)).length + 1;
    return new UsernameTemplateError(`${message} (at line ${line}, column ${column})`);
  }

  /** Whether a right delimiter, with or without its trim marker, starts at `pos`: the length to skip, and whether it trims. */
  rightDelimAt(pos: number): { length: number; trim: boolean } | undefined {
    if (isSpace(this.text[pos]) && this.text.startsWith(TRIM_MARKER + RIGHT_DELIM, pos + 1)) {
      return { length: 1 + TRIM_MARKER.length + RIGHT_DELIM.length, trim: true };
    }
    if (this.text.startsWith(RIGHT_DELIM, pos)) return { length: RIGHT_DELIM.length, trim: false };
    return undefined;
  }
}

/** Splits a template into text and actions, applying trim markers and dropping comments. */
function lexTemplate(src: Source): Segment[] {
  const text = src.text;
  const segments: Segment[] = [];
  let pos = 0;
  let trimNextText = false;
  const pushText = (chunk: string, trimRight: boolean): void => {
    let t = trimNextText ? trimStart(chunk) : chunk;
    if (trimRight) t = trimEnd(t);
    if (t !== '') segments.push({ kind: 'text', text: t });
  };

  while (pos < text.length) {
    const open = text.indexOf(LEFT_DELIM, pos);
    if (open < 0) {
      pushText(text.slice(pos), false);
      break;
    }
    // "{{- " (dash and a space) trims; "{{-3}}" is the number -3, as in Go.
    const trimLeft = text.startsWith(TRIM_MARKER, open + LEFT_DELIM.length) && isSpace(text[open + LEFT_DELIM.length + 1]);
    pushText(text.slice(pos, open), trimLeft);
    let inside = open + LEFT_DELIM.length + (trimLeft ? TRIM_MARKER.length + 1 : 0);

    if (text.startsWith(COMMENT_OPEN, inside)) {
      const close = text.indexOf(COMMENT_CLOSE, inside + COMMENT_OPEN.length);
      if (close < 0) throw src.error('unclosed comment', open);
      const delim = src.rightDelimAt(close + COMMENT_CLOSE.length);
      if (!delim) throw src.error('comment must be followed directly by "}}"', close);
      pos = close + COMMENT_CLOSE.length + delim.length;
      trimNextText = delim.trim;
      continue;
    }

    const tokens: Token[] = [];
    let delim: { length: number; trim: boolean } | undefined;
    for (;;) {
      if (inside >= text.length) throw src.error('unclosed action: missing "}}"', open);
      delim = src.rightDelimAt(inside);
      if (delim) break;
      const ch = text.charAt(inside);
      if (isSpace(ch)) {
        inside += 1;
        continue;
      }
      const token = lexToken(src, inside);
      tokens.push(token.token);
      inside = token.end;
    }
    segments.push({ kind: 'action', tokens, pos: open, end: inside });
    pos = inside + delim.length;
    trimNextText = delim.trim;
  }
  return segments;
}

function trimStart(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return s.slice(i);
}
function trimEnd(s: string): string {
  let i = s.length;
  while (i > 0 && isSpace(s[i - 1])) i--;
  return s.slice(0, i);
}

/** Whether an identifier or field may end at `pos` (Go's "terminator" rule: `random"x"` is an error). */
function atTerminator(src: Source, pos: number): boolean {
  const ch = src.text[pos];
  return ch === undefined || isSpace(ch) || ch === '|' || ch === '(' || ch === ')' || src.rightDelimAt(pos) !== undefined;
}

function lexToken(src: Source, pos: number): { token: Token; end: number } {
  const text = src.text;
  const ch = text.charAt(pos);
  switch (ch) {
    case '|':
      return { token: { kind: 'pipe', pos }, end: pos + 1 };
    case '(':
      return { token: { kind: 'lparen', pos }, end: pos + 1 };
    case ')':
      return { token: { kind: 'rparen', pos }, end: pos + 1 };
    case '"':
      return lexQuoted(src, pos);
    case '`': {
      const close = text.indexOf('`', pos + 1);
      if (close < 0) throw src.error('unterminated raw string', pos);
      // Like Go, carriage returns inside raw strings are dropped.
      return { token: { kind: 'string', value: text.slice(pos + 1, close).replaceAll('\r', ''), pos }, end: close + 1 };
    }
    case '.': {
      let end = pos + 1;
      if (!isIdentStart(text[end])) {
        throw src.error('"." on its own is not supported; use .DisplayName or .RoleName', pos);
      }
      while (isIdentChar(text[end])) end++;
      const name = text.slice(pos + 1, end);
      if (text[end] === '.') throw src.error(`field chains like .${name}.… are not supported`, pos);
      if (!atTerminator(src, end)) throw src.error(`unexpected character after .${name}`, end);
      return { token: { kind: 'field', name, pos }, end };
    }
    case '$':
      throw src.error('variables ($…) are not supported in username templates', pos);
    case "'":
      throw src.error('character constants are not supported; use a "string"', pos);
    case '}':
      throw src.error('stray "}": actions end with "}}"', pos);
    default:
      break;
  }
  if (isDigit(ch) || ((ch === '-' || ch === '+') && isDigit(text[pos + 1]))) return lexNumber(src, pos);
  if (isIdentStart(ch)) {
    let end = pos + 1;
    while (isIdentChar(text[end])) end++;
    const name = text.slice(pos, end);
    if (text[end] === '.') throw src.error(`unexpected "." after ${name}`, end);
    if (!atTerminator(src, end)) throw src.error(`unexpected character after ${name}`, end);
    return { token: { kind: 'ident', name, pos }, end };
  }
  throw src.error(`unexpected character ${JSON.stringify(ch)} in action`, pos);
}

function lexNumber(src: Source, pos: number): { token: Token; end: number } {
  const text = src.text;
  let end = pos;
  if (text[end] === '-' || text[end] === '+') end++;
  const digitsStart = end;
  while (isDigit(text[end])) end++;
  const next = text[end];
  if (isIdentChar(next) || next === '.') {
    throw src.error('bad number syntax: only decimal integers are supported', pos);
  }
  const digits = text.slice(digitsStart, end);
  // Go would read 010 as octal 8; refuse rather than surprise.
  if (digits.length > 1 && digits.startsWith('0')) throw src.error('integers must not have leading zeros', pos);
  const value = Number(text.slice(pos, end));
  if (!Number.isSafeInteger(value)) throw src.error('integer out of range', pos);
  return { token: { kind: 'int', value, pos }, end };
}

const SIMPLE_ESCAPES = new Map<string, string>([
  ['a', '\x07'], ['b', '\b'], ['f', '\f'], ['n', '\n'], ['r', '\r'], ['t', '\t'], ['v', '\v'], ['\\', '\\'], ['"', '"'],
]);
const HEX_ESCAPE_DIGITS = new Map<string, number>([['x', 2], ['u', 4], ['U', 8]]);
const OCTAL_ESCAPE_DIGITS = 3;
const MAX_ASCII = 0x7f;
const MAX_CODE_POINT = 0x10ffff;
const SURROGATE_MIN = 0xd800;
const SURROGATE_MAX = 0xdfff;

/** A Go interpreted string literal ("…"), with Go's escapes. */
function lexQuoted(src: Source, pos: number): { token: Token; end: number } {
  const text = src.text;
  let value = '';
  let i = pos + 1;
  for (;;) {
    const ch = text[i];
    if (ch === undefined || ch === '\n') throw src.error('unterminated quoted string', pos);
    if (ch === '"') return { token: { kind: 'string', value, pos }, end: i + 1 };
    if (ch !== '\\') {
      value += ch;
      i += 1;
      continue;
    }
    const esc = text[i + 1];
    if (esc === undefined || esc === '\n') throw src.error('unterminated quoted string', pos);
    const simple = SIMPLE_ESCAPES.get(esc);
    if (simple !== undefined) {
      value += simple;
      i += 2;
      continue;
    }
    const hexDigits = HEX_ESCAPE_DIGITS.get(esc);
    const isOctal = esc >= '0' && esc <= '7';
    if (hexDigits === undefined && !isOctal) throw src.error(`unknown escape sequence \\${esc}`, i);
    const start = isOctal ? i + 1 : i + 2;
    const count = hexDigits ?? OCTAL_ESCAPE_DIGITS;
    const digits = text.slice(start, start + count);
    const valid = isOctal ? /^[0-7]+$/ : /^[0-9A-Fa-f]+$/;
    if (digits.length !== count || !valid.test(digits)) throw src.error(`invalid escape sequence \\${esc}${digits}`, i);
    const code = parseInt(digits, isOctal ? 8 : 16);
    if (esc === 'x' || isOctal) {
      // Go byte escapes above 0x7f can produce invalid UTF-8, which JavaScript strings cannot hold.
      if (code > MAX_ASCII) throw src.error('byte escapes above \\x7f are not supported; use \\u or the character itself', i);
    } else if (code > MAX_CODE_POINT || (code >= SURROGATE_MIN && code <= SURROGATE_MAX)) {
      throw src.error(`escape sequence \\${esc}${digits} is not a valid Unicode character`, i);
    }
    value += String.fromCodePoint(code);
    i = start + count;
  }
}

// ---------------------------------------------------------------------------
// Parser and type checker: compiles each action to a closure
// ---------------------------------------------------------------------------

class ActionParser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly src: Source,
    private readonly tokens: readonly Token[],
    private readonly end: number,
  ) {}

  compileAction(): Expr {
    const expr = this.pipeline(this.tokens[0]?.pos ?? this.end);
    const extra = this.tokens[this.index];
    if (extra) throw this.src.error(extra.kind === 'rparen' ? 'unexpected ")"' : 'unexpected token', extra.pos);
    return expr;
  }

  /** pipeline := command ('|' command)* */
  private pipeline(pos: number): Expr {
    let value = this.command(undefined, pos, 1);
    let stage = 1;
    for (let t = this.tokens[this.index]; t?.kind === 'pipe'; t = this.tokens[this.index]) {
      this.index += 1;
      stage += 1;
      value = this.command(value, t.pos, stage);
    }
    return value;
  }

  /** command := operand+; with a piped value, the command must be a function call, which gets it as its last argument. */
  private command(piped: Expr | undefined, pos: number, stage: number): Expr {
    const operands: Array<Token | Expr> = [];
    for (let t = this.tokens[this.index]; t && t.kind !== 'pipe' && t.kind !== 'rparen'; t = this.tokens[this.index]) {
      this.index += 1;
      if (t.kind === 'lparen') operands.push(this.parenthesised(t.pos));
      else operands.push(t);
    }
    const first = operands[0];
    if (first === undefined) {
      throw this.src.error(piped ? 'missing function after "|"' : 'missing value in action', this.tokens[this.index]?.pos ?? pos);
    }
    if ('kind' in first && first.kind === 'ident') {
      const args = operands.slice(1).map((op) => this.argument(op));
      if (piped) args.push(piped);
      return this.call(first.name, args, first.pos, piped !== undefined);
    }
    const value = this.argument(first);
    if (operands.length > 1) throw this.src.error('only functions take arguments', value.pos);
    if (piped) throw this.src.error(`stage ${stage} of the pipeline must be a function, as in "| lowercase"`, value.pos);
    return value;
  }

  private parenthesised(pos: number): Expr {
    this.depth += 1;
    if (this.depth > MAX_PAREN_DEPTH) throw this.src.error(`parentheses nested more than ${MAX_PAREN_DEPTH} deep`, pos);
    if (this.tokens[this.index]?.kind === 'rparen') throw this.src.error('empty parentheses', pos);
    const value = this.pipeline(pos);
    const close = this.tokens[this.index];
    if (close?.kind !== 'rparen') throw this.src.error('unclosed "("', pos);
    this.index += 1;
    this.depth -= 1;
    return { ...value, pos };
  }

  /** An operand as a value: literals, fields, parenthesised pipelines, and function names (called without arguments, as in Go). */
  private argument(op: Token | Expr): Expr {
    if (!('kind' in op)) return op;
    switch (op.kind) {
      case 'string':
        return { type: 'string', constant: op.value, evaluate: () => op.value, pos: op.pos };
      case 'int':
        return { type: 'int', value: op.value, pos: op.pos };
      case 'field': {
        const get = FIELDS.get(op.name);
        if (!get) throw this.src.error(unknownFieldMessage(op.name), op.pos);
        return { type: 'string', constant: undefined, evaluate: (env) => get(env.inputs), pos: op.pos };
      }
      case 'ident':
        return this.call(op.name, [], op.pos, false);
      default:
        // pipe, lparen and rparen never reach here: command() stops at them or parses them.
        throw this.src.error('unexpected token', op.pos);
    }
  }

  private call(name: string, args: Expr[], pos: number, hasPiped: boolean): Expr {
    if (UNSUPPORTED_WORDS.has(name)) {
      throw this.src.error(`"${name}" is not supported in username templates; ${AVAILABLE}`, pos);
    }
    if (name === PRINTF) return this.printf(args, pos);
    const spec = FUNCTIONS.get(name);
    if (!spec) throw this.src.error(`function "${name}" is not defined; ${AVAILABLE}`, pos);
    if (args.length !== spec.params.length) {
      const piped = hasPiped ? ' (counting the value piped into it)' : '';
      throw this.src.error(`wrong number of arguments for ${name}: want ${spec.params.length}, got ${args.length}${piped}`, pos);
    }
    args.forEach((arg, i) => {
      const want = spec.params[i];
      if (arg.type !== want) throw this.src.error(`argument ${i + 1} of ${name} must be ${describe(want)}, got ${describe(arg.type)}`, arg.pos);
    });
    const problem = spec.validate?.(args.map(constantOf));
    if (problem) throw this.src.error(`${name}: ${problem}`, pos);

    const evaluators = args.map(evaluatorOf);
    return {
      type: 'string',
      constant: undefined,
      evaluate: (env) => {
        const result = spec.call(evaluators.map((evaluate) => evaluate(env)), env);
        if (result.length > MAX_VALUE_LENGTH) throw tooLong(name, result.length);
        return result;
      },
      pos,
    };
  }

  /** printf with %s, %d, %v and %%, checked against its arguments at compile time. */
  private printf(args: Expr[], pos: number): Expr {
    const [format, ...rest] = args;
    if (format === undefined) throw this.src.error('printf needs a format string', pos);
    if (format.type !== 'string' || format.constant === undefined) {
      throw this.src.error('the format of printf must be a string literal', format.pos);
    }
    const pieces = parsePrintfFormat(format.constant, (message) => this.src.error(`printf: ${message}`, format.pos));
    const verbs = pieces.filter((p): p is { verb: PrintfVerb } => 'verb' in p);
    if (verbs.length !== rest.length) {
      throw this.src.error(`printf: the format has ${verbs.length} verb(s) but ${rest.length} argument(s) were given`, pos);
    }
    verbs.forEach(({ verb }, i) => {
      const arg = rest[i];
      if (arg === undefined) return;
      if ((verb === 's' && arg.type !== 'string') || (verb === 'd' && arg.type !== 'int')) {
        throw this.src.error(`printf: %${verb} needs ${verb === 's' ? 'a string' : 'an integer'}, got ${describe(arg.type)}`, arg.pos);
      }
    });

    const evaluators = rest.map(evaluatorOf);
    return {
      type: 'string',
      constant: undefined,
      evaluate: (env) => {
        let argIndex = 0;
        let out = '';
        for (const piece of pieces) {
          if ('literal' in piece) out += piece.literal;
          else out += String(evaluators[argIndex++]?.(env) ?? '');
        }
        if (out.length > MAX_VALUE_LENGTH) throw tooLong(PRINTF, out.length);
        return out;
      },
      pos,
    };
  }
}

type PrintfVerb = 's' | 'd' | 'v';
type PrintfPiece = { literal: string } | { verb: PrintfVerb };

function parsePrintfFormat(format: string, fail: (message: string) => Error): PrintfPiece[] {
  const pieces: PrintfPiece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch !== '%') {
      literal += ch;
      continue;
    }
    const verb = format[i + 1];
    i += 1;
    if (verb === '%') literal += '%';
    else if (verb === 's' || verb === 'd' || verb === 'v') {
      if (literal !== '') pieces.push({ literal });
      literal = '';
      pieces.push({ verb });
    } else if (verb === undefined) throw fail('the format ends with a lone "%"');
    else throw fail(`%${verb} is not supported; use %s, %d, %v or %%`);
  }
  if (literal !== '') pieces.push({ literal });
  return pieces;
}

const AVAILABLE = `available functions: ${[...FUNCTIONS.keys(), PRINTF].join(', ')}; fields: ${[...FIELDS.keys()].map((f) => `.${f}`).join(', ')}`;

function unknownFieldMessage(name: string): string {
  const known = [...FIELDS.keys()];
  const sameLetters = known.find((k) => k.toLowerCase() === name.toLowerCase());
  const hint = sameLetters ? `did you mean .${sameLetters}? (field names are case-sensitive)` : `available fields: ${known.map((k) => `.${k}`).join(', ')}`;
  return `unknown field .${name}; ${hint}`;
}

function describe(type: ValueType | undefined): string {
  return type === 'int' ? 'an integer' : 'a string';
}

function constantOf(expr: Expr): Value | undefined {
  return expr.type === 'int' ? expr.value : expr.constant;
}

function evaluatorOf(expr: Expr): (env: Env) => Value {
  if (expr.type === 'int') {
    const value = expr.value;
    return () => value;
  }
  return expr.evaluate;
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/**
 * Compiles a Vault username template, checking its syntax, functions, fields,
 * argument counts and types, so that mistakes surface when the operator
 * writes the config.
 *
 * @throws UsernameTemplateError with a message for the operator, including the line and column.
 */
export function compileUsernameTemplate(template: string): UsernameTemplate {
  if (template === '') throw new UsernameTemplateError('the template is empty');
  const src = new Source(template);
  const parts: Array<(env: Env) => string> = lexTemplate(src).map((segment) => {
    if (segment.kind === 'text') {
      const text = segment.text;
      return () => text;
    }
    const expr = new ActionParser(src, segment.tokens, segment.end).compileAction();
    if (expr.type === 'int') {
      const text = String(expr.value);
      return () => text;
    }
    return expr.evaluate;
  });

  return {
    render(inputs: UsernameInputs, now: Date = new Date()): string {
      const env: Env = { inputs, now };
      let out = '';
      for (const part of parts) {
        out += part(env);
        if (out.length > MAX_VALUE_LENGTH) throw tooLong('the template', out.length);
      }
      return out;
    },
  };
}

/**
 * Renders a username and checks that PostgreSQL will store it unchanged: not
 * empty, valid Unicode without NUL, and at most MAX_IDENTIFIER_BYTES UTF-8
 * bytes. An over-long name is an error rather than cut short, because
 * PostgreSQL would truncate it silently and two leases could then share (or
 * revoke) the same role.
 *
 * With DEFAULT_USERNAME_TEMPLATE this cannot fail: `truncate` counts UTF-8
 * bytes (as Vault's does) and cuts on a character boundary, so multibyte
 * display and role names take at most 8 bytes each and the random part is
 * never cut.
 *
 * @throws UsernameTemplateError when the rendered username is unusable.
 */
export function generateUsername(template: UsernameTemplate, inputs: UsernameInputs): string {
  const username = template.render(inputs);
  if (username === '') throw new UsernameTemplateError('the username template rendered an empty username');
  if (username.includes('\0')) throw new UsernameTemplateError('the username template rendered a username containing a NUL character');
  if (Buffer.from(username, 'utf8').toString('utf8') !== username) {
    throw new UsernameTemplateError('the username template rendered a username that is not valid Unicode');
  }
  const bytes = Buffer.byteLength(username, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new UsernameTemplateError(
      `the username template rendered a ${bytes}-byte username; PostgreSQL allows at most ${MAX_IDENTIFIER_BYTES} bytes and would truncate it silently. ` +
        'Shorten the template, e.g. with truncate on .DisplayName and .RoleName, keeping the random part intact',
    );
  }
  return username;
}
