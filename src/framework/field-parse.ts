// Raw request input → typed field values, following sdk/framework
// field_data.go (mapstructure's weak decoding) and parseutil. Reasons never
// quote the input, so a sensitive value cannot leak through them.

import { parseGoDurationSeconds } from './duration';
import type { FieldType, FieldValue, FieldValueTypes } from './field-schema';
import { isPlainObject } from './records';

/** The outcome of parsing one value: the value, or why it was rejected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Vault's GenericNameRegex rule for TypeNameString values. */
const NAME_RULE = /^\w(([\w.-]+)?\w)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;

/** strconv.ParseBool's spellings, which mapstructure's weak decoding accepts. */
const BOOL_TEXT: Readonly<Record<string, boolean>> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

type Parsers = { [T in FieldType]: (raw: unknown) => Parsed<FieldValueTypes[T]> };

const PARSERS: Parsers = {
  string: parseString,
  'lowercase-string': (raw) => mapParsed(parseString(raw), (s) => s.toLowerCase()),
  name: parseName,
  int: parseInteger,
  bool: parseBool,
  duration: parseDuration,
  'comma-string-slice': (raw) => parseSlice(raw, true),
  'string-slice': (raw) => parseSlice(raw, false),
  map: parseMap,
};

/** Parses one non-null raw value as `type`. */
export function parseFieldValue(type: FieldType, raw: unknown): Parsed<FieldValue> {
  return PARSERS[type](raw);
}

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

function mapParsed<A, B>(parsed: Parsed<A>, f: (a: A) => B): Parsed<B> {
  return parsed.ok ? ok(f(parsed.value)) : parsed;
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  if (typeof raw === 'object') return 'an object';
  return `a ${typeof raw}`;
}

/** A UTF-16 surrogate that is not half of a pair: JSON can carry one ("\ud800"), UTF-8 and PostgreSQL cannot. */
const LONE_SURROGATE = /\p{Cs}/u;

function parseString(raw: unknown): Parsed<string> {
  if (typeof raw === 'string') return LONE_SURROGATE.test(raw) ? fail('expected Unicode text, got a lone surrogate (\\ud800-\\udfff)') : ok(raw);
  if (typeof raw === 'number' || typeof raw === 'bigint') return ok(String(raw));
  // mapstructure's weak decoding turns booleans into "1"/"0"; keep that so
  // behaviour matches the Go framework.
  if (typeof raw === 'boolean') return ok(raw ? '1' : '0');
  return fail(`expected a string, got ${describe(raw)}`);
}

function parseName(raw: unknown): Parsed<string> {
  const parsed = parseString(raw);
  if (!parsed.ok) return parsed;
  if (!NAME_RULE.test(parsed.value)) {
    return fail(
      'not a valid name: use letters, digits, "_", "-" and ".", starting and ending with a letter, digit or "_"',
    );
  }
  return parsed;
}

function parseInteger(raw: unknown): Parsed<number> {
  if (typeof raw === 'number') {
    return Number.isSafeInteger(raw) ? ok(raw) : fail('expected an integer');
  }
  if (typeof raw === 'bigint') return bigintToSafe(raw);
  if (typeof raw === 'string') {
    // Weak decoding reads an empty string as zero (e.g. `?max=` in a query).
    if (raw === '') return ok(0);
    if (!INTEGER_TEXT.test(raw)) return fail('expected an integer');
    const value = Number(raw);
    return Number.isSafeInteger(value) ? ok(value) : fail('integer out of range');
  }
  return fail(`expected an integer, got ${describe(raw)}`);
}

function bigintToSafe(raw: bigint): Parsed<number> {
  const value = Number(raw);
  return Number.isSafeInteger(value) ? ok(value) : fail('integer out of range');
}

function parseBool(raw: unknown): Parsed<boolean> {
  if (typeof raw === 'boolean') return ok(raw);
  if (typeof raw === 'number') return Number.isFinite(raw) ? ok(raw !== 0) : fail('expected a boolean');
  if (typeof raw === 'string') {
    if (raw === '') return ok(false);
    const value = BOOL_TEXT[raw];
    return value === undefined ? fail('expected a boolean (true/false, 1/0, t/f)') : ok(value);
  }
  return fail(`expected a boolean, got ${describe(raw)}`);
}

function parseDuration(raw: unknown): Parsed<number> {
  let seconds: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return fail('expected a duration');
    // Go converts the float to whole seconds first, dropping the fraction.
    seconds = Math.trunc(raw);
  } else if (typeof raw === 'bigint') {
    const parsed = bigintToSafe(raw);
    if (!parsed.ok) return fail('duration out of range');
    seconds = parsed.value;
  } else if (typeof raw === 'string') {
    if (raw === '') return ok(0);
    const parsed = INTEGER_TEXT.test(raw) ? Number(raw) : parseGoDurationSeconds(raw);
    if (parsed === undefined || !Number.isSafeInteger(parsed)) {
      return fail('expected a duration: seconds ("300") or a Go duration ("90s", "1h30m", "2d")');
    }
    seconds = parsed;
  } else {
    return fail(`expected a duration, got ${describe(raw)}`);
  }
  // `-0` would print as 0 but compare oddly; normalise it.
  if (seconds === 0) return ok(0);
  return seconds < 0 ? fail('duration cannot be negative') : ok(seconds);
}

function parseSlice(raw: unknown, splitCommas: boolean): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(raw)) {
    items = raw;
  } else if (typeof raw === 'string') {
    if (raw === '') return ok([]);
    const fromJson = parseJsonArray(raw);
    if (fromJson !== undefined) items = fromJson;
    else items = splitCommas ? raw.split(',') : [raw];
  } else if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') {
    // Weak decoding wraps a single scalar into a one-element slice.
    items = [raw];
  } else {
    return fail(`expected a list of strings, got ${describe(raw)}`);
  }
  const out: string[] = [];
  for (const [index, item] of items.entries()) {
    const parsed = parseString(item);
    if (!parsed.ok) return fail(`element ${index}: ${parsed.reason}`);
    const trimmed = parsed.value.trim();
    if (splitCommas && trimmed === '') continue;
    out.push(trimmed);
  }
  return ok(out);
}

/** A string that is a JSON array (`'["a","b"]'`), as CLIs and forms send lists. */
function parseJsonArray(text: string): unknown[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  const parsed = parseJson(text);
  return Array.isArray(parsed) ? parsed : undefined;
}

function parseMap(raw: unknown): Parsed<Record<string, unknown>> {
  if (typeof raw === 'string') {
    const parsed = parseJson(raw);
    return isPlainObject(parsed) ? ok({ ...parsed }) : fail('expected a JSON object');
  }
  // Weak decoding treats an empty array as an empty map.
  if (Array.isArray(raw) && raw.length === 0) return ok({});
  if (isPlainObject(raw)) return ok({ ...raw });
  return fail(`expected an object, got ${describe(raw)}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: callers fall back to treating the text as a plain value.
    return undefined;
  }
}
