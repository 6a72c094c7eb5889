// Reading lease internal data and WAL entries, which arrive as untyped JSON
// and may have been written by any version of this plugin: a missing or
// mistyped field reads as empty rather than failing.

import { isPlainObject, ownValue } from '../framework';

function valueOf(data: unknown, key: string): unknown {
  return isPlainObject(data) ? ownValue(data, key) : undefined;
}

/** `data[key]` when it is a string, else `''`. */
export function stringField(data: unknown, key: string): string {
  const v = valueOf(data, key);
  return typeof v === 'string' ? v : '';
}

/** `data[key]` when it is a number, else 0. */
export function numberField(data: unknown, key: string): number {
  const v = valueOf(data, key);
  return typeof v === 'number' ? v : 0;
}

/** The strings of `data[key]` when it is an array, else `[]`. */
export function stringListField(data: unknown, key: string): string[] {
  const v = valueOf(data, key);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
