// One answer of an asynchronous question, reused for a while: for what Vault
// answers the same way request after request (the replication state), where
// asking is a broker round trip.

/**
 * The answer of `fetch`, reused for `ttlMs` after it was asked for.
 * Concurrent callers share one call; a failed call is not reused (the next
 * caller asks again).
 */
export class Recent<T> {
  #value: Promise<T> | undefined;
  #askedAt = 0;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #fetch: () => Promise<T>;

  /** `now` gives milliseconds (Date.now); `ttlMs` is in the same unit. */
  constructor(ttlMs: number, now: () => number, fetch: () => Promise<T>) {
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#fetch = fetch;
  }

  /** The answer asked for less than `ttlMs` ago, or a new one. Rejects as `fetch` does. */
  get(): Promise<T> {
    const now = this.#now();
    if (this.#value !== undefined && now - this.#askedAt < this.#ttlMs) return this.#value;
    const value = this.#fetch();
    this.#value = value;
    this.#askedAt = now;
    value.catch(() => {
      if (this.#value === value) this.#value = undefined;
    });
    return value;
  }
}
