// Transient catalog conflicts. Concurrent GRANTs on one table update the same
// pg_class row and Postgres answers `tuple concurrently updated` (XX000) to
// all but one; serialization failures and deadlocks are the same kind of
// conflict. The whole transaction is safe to run again (it rolled back), so
// it is retried a bounded number of times with jittered backoff; an app never
// sees these errors, and nothing is reported that did not commit.

import { setTimeout as sleep } from 'node:timers/promises';

/** SQLSTATEs that mean "another transaction got there first; try again". */
const TRANSIENT_SQLSTATES = new Set([
  'XX000', // internal_error: tuple concurrently updated/deleted on catalog rows
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Attempts in all, including the first. */
export const MAX_ATTEMPTS = 12;
/** First backoff; doubles per attempt up to MAX_BACKOFF_MS, with full jitter. */
const BASE_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 200;

/** SQLSTATE of a node-postgres error, if it has one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = err.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when retrying the same transaction can succeed. */
export function isTransientConflict(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && TRANSIENT_SQLSTATES.has(state);
}

/** Runs `work`, retrying transient conflicts; other errors pass through at once. */
export async function withConflictRetry<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isTransientConflict(err) || signal?.aborted) throw err;
      const cap = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}
