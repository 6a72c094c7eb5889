// Narrowing helpers for JSON-shaped data that arrives as `unknown`.

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The record's own value for `key`; never an inherited one, so a field
 * called `constructor` or `toString` reads as absent rather than as a
 * prototype function.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
