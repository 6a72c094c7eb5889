// Quoting values as SQL tokens, for statement text that cannot use bind
// parameters (utility statements such as CREATE ROLE take no parameters).
// Both functions give the same result whatever standard_conforming_strings
// is set to, like libpq's PQescapeIdentifier and PQescapeLiteral.

/**
 * `value` as a quoted identifier: `"` + value with `"` doubled + `"`.
 * The server truncates identifiers longer than 63 bytes (with a NOTICE);
 * callers that need the exact name must keep it shorter.
 * @throws Error when `value` is empty or contains a NUL character, neither
 *   of which an identifier can hold.
 */
export function quoteIdentifier(value: string): string {
  if (value.includes('\0')) throw new Error('an identifier cannot contain a NUL character');
  if (value === '') throw new Error('an identifier cannot be empty');
  return `"${value.replaceAll('"', '""')}"`;
}

/**
 * `value` as a string literal. Without backslashes: `'…'` with `'` doubled.
 * With backslashes: ` E'…'` with `'` and `\` doubled, because in a plain
 * `'…'` literal a backslash is an escape character when
 * standard_conforming_strings is off; the leading space keeps a preceding
 * word from turning `E` into part of an identifier.
 * @throws Error when `value` contains a NUL character, which text cannot hold.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a string literal cannot contain a NUL character');
  const quotesDoubled = value.replaceAll("'", "''");
  if (!value.includes('\\')) return `'${quotesDoubled}'`;
  return ` E'${quotesDoubled.replaceAll('\\', '\\\\')}'`;
}
