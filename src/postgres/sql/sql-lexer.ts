// A small PostgreSQL lexer: it cuts SQL text into segments that say in which
// lexical context each piece of text stands (code, a quoted literal or
// identifier, a dollar-quoted body, a comment, a `;`). It follows the rules of
// the server's scanner (src/backend/parser/scan.l) closely enough to find
// where every quote and comment begins and ends, which is all that statement
// splitting and safe value insertion need; it does not parse SQL.
//
// Plain '…' literals are read as standard-conforming strings (backslash is an
// ordinary character), the PostgreSQL default since 9.1.

/** The lexical context of a {@link Segment}. */
export type SegmentKind =
  /** One token of plain code: a run of whitespace, a word (keyword, identifier, number), a `$n` parameter or one other character. */
  | 'code'
  /** `'…'` with `''` for a quote; backslash is an ordinary character. */
  | 'string'
  /** `E'…'`: backslash escapes (`\'`, `\\`, `\n`, `\x41`, …) and `''`. */
  | 'escape-string'
  /** `U&'…'`: Unicode escapes, decoded after lexing with an escape character that UESCAPE may change. */
  | 'unicode-string'
  /** `B'…'` or `X'…'`: bit strings; a quote always ends them. */
  | 'bit-string'
  /** `"…"` with `""` for a double quote. */
  | 'identifier'
  /** `U&"…"`. */
  | 'unicode-identifier'
  /** `$tag$…$tag$` (tag may be empty); the body is verbatim. */
  | 'dollar-string'
  /** `-- …` up to, not including, the end of the line. */
  | 'line-comment'
  /** `/* … *\/`, nested. */
  | 'block-comment'
  /** A `;`. */
  | 'separator';

/** A piece of the lexed text and its context. Offsets are UTF-16 indices into the lexed text. */
export interface Segment {
  readonly kind: SegmentKind;
  /** The exact source text, including any prefix (`E`, `U&`, `B`, `X`) and the delimiters. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /**
   * Where the quoted content lies (after the opening quote, before the
   * closing one; inside the comment markers). For code and separators, the
   * whole segment.
   */
  readonly contentStart: number;
  readonly contentEnd: number;
  /** Dollar-quoted strings: the tag between the dollars (`''` for `$$`). */
  readonly tag?: string;
  /**
   * String literals: this part continues the previous literal (only
   * whitespace with a newline, and `--` comments, lie between them). The
   * server reads it in the same mode as the first part, so it has the same
   * kind: after `E'…'`, a continuation `'…'` is an escape string too.
   */
  readonly continued?: boolean;
}

/** The text cannot be lexed: an unterminated quote or comment. */
export class SqlLexError extends Error {
  /** What is unterminated, e.g. `quoted string`. */
  readonly construct: string;
  /** Offset (UTF-16 index) where the unterminated construct starts. */
  readonly position: number;
  /** 1-based line and column of {@link position}. */
  readonly line: number;
  readonly column: number;

  constructor(construct: string, text: string, position: number) {
    const { line, column } = lineAndColumn(text, position);
    super(`unterminated ${construct} starting at line ${line}, column ${column}`);
    this.name = 'SqlLexError';
    this.construct = construct;
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

/**
 * Cuts `sql` into segments, in order, covering the whole text.
 * @throws SqlLexError for an unterminated quote, dollar quote or block comment.
 */
export function lexSql(sql: string): Segment[] {
  return new Scanner(sql).run();
}

/** PostgreSQL's whitespace, plus \v (accepted from PostgreSQL 16 on; reading more as whitespace only makes literal continuation more likely, the cautious side). */
export function isSqlSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/** First character of an unquoted identifier: letters, `_` and any non-ASCII character. */
export function isIdentStart(c: string | undefined): boolean {
  if (c === undefined) return false;
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c.charCodeAt(0) >= 0x80;
}

/** Later characters of an unquoted identifier: also digits and `$`. */
export function isIdentCont(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c) || c === '$';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Characters of a dollar-quote tag after the first: like an identifier, but without `$`. */
function isTagCont(c: string | undefined): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** How the characters between the quotes of a string literal are read. */
interface StringMode {
  kind: 'string' | 'escape-string' | 'unicode-string' | 'bit-string';
  /** Backslash escapes the next character (only E'…'). */
  backslash: boolean;
  /** `''` stands for a quote (not in bit strings, where a quote always ends the string). */
  doubledQuote: boolean;
}

const STRING_MODES: Record<StringMode['kind'], StringMode> = {
  string: { kind: 'string', backslash: false, doubledQuote: true },
  'escape-string': { kind: 'escape-string', backslash: true, doubledQuote: true },
  // Unicode escapes are decoded after the scanner has found the end of the
  // string, so a backslash cannot hide a quote here.
  'unicode-string': { kind: 'unicode-string', backslash: false, doubledQuote: true },
  'bit-string': { kind: 'bit-string', backslash: false, doubledQuote: false },
};

class Scanner {
  private pos = 0;
  private readonly segments: Segment[] = [];
  /** Where a continuation of the last string literal starts, with its mode; -1 if none. */
  private continuationAt = -1;
  private continuationMode: StringMode = STRING_MODES.string;

  constructor(private readonly src: string) {}

  run(): Segment[] {
    const src = this.src;
    while (this.pos < src.length) {
      const start = this.pos;
      const c = src[start];
      if (c === "'" && start === this.continuationAt) {
        this.quoted(start, start, this.continuationMode, true);
      } else if (isSqlSpace(c)) {
        let end = start + 1;
        while (isSqlSpace(src[end])) end++;
        this.code(start, end);
      } else if (src.startsWith('--', start)) {
        this.lineComment(start);
      } else if (src.startsWith('/*', start)) {
        this.blockComment(start);
      } else if (c === "'") {
        this.quoted(start, start, STRING_MODES.string, false);
      } else if (c === '"') {
        this.identifier(start, start, 'identifier');
      } else if (c === ';') {
        this.push('separator', start, start + 1, start, start + 1);
      } else if (c === '$') {
        this.dollar(start);
      } else if (isIdentStart(c)) {
        this.word(start);
      } else if (isDigit(c)) {
        this.number(start);
      } else {
        this.code(start, start + 1);
      }
    }
    return this.segments;
  }

  private push(kind: SegmentKind, start: number, end: number, contentStart: number, contentEnd: number, extra?: { tag?: string; continued?: boolean }): void {
    this.segments.push({ kind, text: this.src.slice(start, end), start, end, contentStart, contentEnd, ...extra });
    this.pos = end;
  }

  private code(start: number, end: number): void {
    this.push('code', start, end, start, end);
  }

  /** `--` up to the end of the line; the newline is not part of the comment. */
  private lineComment(start: number): void {
    let end = start + 2;
    while (end < this.src.length && this.src[end] !== '\n' && this.src[end] !== '\r') end++;
    this.push('line-comment', start, end, start + 2, end);
  }

  /** `/* … *\/` with nesting, as PostgreSQL (unlike the SQL standard's older rule) allows. */
  private blockComment(start: number): void {
    const src = this.src;
    let depth = 1;
    let i = start + 2;
    while (depth > 0) {
      if (i >= src.length) throw new SqlLexError('block comment', src, start);
      if (src.startsWith('/*', i)) {
        depth++;
        i += 2;
      } else if (src.startsWith('*/', i)) {
        depth--;
        i += 2;
      } else {
        i++;
      }
    }
    this.push('block-comment', start, i, start + 2, i - 2);
  }

  /**
   * A string literal whose opening quote is at `quote` (`start` is where its
   * prefix begins). Afterwards, looks ahead for a continuation: the server
   * joins `'a'` and `'b'` separated by whitespace that contains a newline
   * (and `--` comments), reading the second part in the first part's mode.
   */
  private quoted(start: number, quote: number, mode: StringMode, continued: boolean): void {
    const src = this.src;
    let i = quote + 1;
    for (;;) {
      if (i >= src.length) throw new SqlLexError(describeString(mode.kind), src, start);
      const c = src[i];
      if (c === '\\' && mode.backslash) {
        if (i + 1 >= src.length) throw new SqlLexError(describeString(mode.kind), src, start);
        i += 2;
      } else if (c === "'") {
        if (mode.doubledQuote && src[i + 1] === "'") {
          i += 2;
        } else {
          break;
        }
      } else {
        i++;
      }
    }
    this.push(mode.kind, start, i + 1, quote + 1, i, continued ? { continued: true } : undefined);
    this.continuationAt = this.continuationStart(i + 1);
    this.continuationMode = mode;
  }

  /** Offset of the quote that continues a literal ending at `from`, or -1. */
  private continuationStart(from: number): number {
    const src = this.src;
    let i = from;
    let sawNewline = false;
    for (;;) {
      const c = src[i];
      if (c === '\n' || c === '\r') {
        sawNewline = true;
        i++;
      } else if (isSqlSpace(c)) {
        i++;
      } else if (src.startsWith('--', i)) {
        while (i < src.length && src[i] !== '\n' && src[i] !== '\r') i++;
      } else {
        return sawNewline && c === "'" ? i : -1;
      }
    }
  }

  /** A quoted identifier; `""` stands for a double quote. */
  private identifier(start: number, quote: number, kind: 'identifier' | 'unicode-identifier'): void {
    const src = this.src;
    let i = quote + 1;
    for (;;) {
      if (i >= src.length) throw new SqlLexError('quoted identifier', src, start);
      if (src[i] === '"') {
        if (src[i + 1] !== '"') break;
        i += 2;
      } else {
        i++;
      }
    }
    this.push(kind, start, i + 1, quote + 1, i);
  }

  /**
   * At a `$` outside a word: `$1` is a parameter, `$tag$` (tag empty or
   * identifier-like, not starting with a digit) opens a dollar quote that
   * ends at the first following `$tag$`; anything else is a lone `$`.
   */
  private dollar(start: number): void {
    const src = this.src;
    let i = start + 1;
    if (isDigit(src[i])) {
      while (isDigit(src[i])) i++;
      this.code(start, i);
      return;
    }
    if (isIdentStart(src[i])) {
      while (isTagCont(src[i])) i++;
    }
    if (src[i] !== '$') {
      this.code(start, start + 1);
      return;
    }
    const delimiter = src.slice(start, i + 1);
    const close = src.indexOf(delimiter, i + 1);
    if (close < 0) throw new SqlLexError('dollar-quoted string', src, start);
    this.push('dollar-string', start, close + delimiter.length, i + 1, close, { tag: delimiter.slice(1, -1) });
  }

  /**
   * A keyword or unquoted identifier (which may contain `$`, so `a$b$` is
   * one word, not a dollar quote). A one-letter word right before a quote
   * is a string prefix: E'…', B'…', X'…', U&'…', U&"…" (N'…' is the word
   * NCHAR followed by an ordinary literal, so it needs nothing special).
   */
  private word(start: number): void {
    let end = start + 1;
    while (isIdentCont(this.src[end])) end++;
    if (end === start + 1 && this.prefixedQuote(start)) return;
    this.code(start, end);
  }

  /**
   * A number. PostgreSQL 15 rejects a number with trailing letters, but older
   * servers read `1e'…'` as `1` followed by E'…', so a number ending in a
   * prefix letter right before a quote is read that way (the cautious
   * reading: backslashes in it are then escaped).
   */
  private number(start: number): void {
    const src = this.src;
    let end = start + 1;
    while (isDigit(src[end]) || src[end] === '.' || src[end] === '_' || isIdentStart(src[end])) end++;
    const last = end - 1;
    if (last > start && (src[end] === "'" || src[end] === '&') && this.prefixedQuote(last)) {
      // prefixedQuote pushed the literal; the digits before its prefix letter go first.
      const literal = this.segments.pop();
      if (literal === undefined) throw new Error('unreachable: prefixed literal without segment');
      this.segments.push({ kind: 'code', text: src.slice(start, last), start, end: last, contentStart: start, contentEnd: last });
      this.segments.push(literal);
      return;
    }
    this.code(start, end);
  }

  /** Reads a prefixed literal whose one-letter prefix is at `at`; false if there is none. */
  private prefixedQuote(at: number): boolean {
    const src = this.src;
    const letter = src[at]?.toLowerCase();
    const next = src[at + 1];
    if (next === "'") {
      if (letter === 'e') {
        this.quoted(at, at + 1, STRING_MODES['escape-string'], false);
        return true;
      }
      if (letter === 'b' || letter === 'x') {
        this.quoted(at, at + 1, STRING_MODES['bit-string'], false);
        return true;
      }
    }
    if (letter === 'u' && next === '&') {
      if (src[at + 2] === "'") {
        this.quoted(at, at + 2, STRING_MODES['unicode-string'], false);
        return true;
      }
      if (src[at + 2] === '"') {
        this.identifier(at, at + 2, 'unicode-identifier');
        return true;
      }
    }
    return false;
  }
}

function describeString(kind: StringMode['kind']): string {
  switch (kind) {
    case 'string':
      return 'quoted string';
    case 'escape-string':
      return "escape string (E'…')";
    case 'unicode-string':
      return "Unicode string (U&'…')";
    case 'bit-string':
      return 'bit string';
  }
}

/** 1-based line and column of `position` in `text`; \r\n, \r and \n each end a line. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}
