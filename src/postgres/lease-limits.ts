// The mount's default and maximum lease TTLs, remembered for a moment. Every
// credential needs them (VALID UNTIL follows the lease Vault will grant), and
// each is a round trip to Vault; under load one answer serves many requests.
// A tuning change (`vault secrets tune`) is seen within LEASE_LIMITS_TTL_MS.

import type { SystemView } from '../vault';

/** How long fetched lease limits are reused. */
export const LEASE_LIMITS_TTL_MS = 1_000;

interface Cached {
  value: Promise<number>;
  fetchedAt: number;
}

/** Lease limits of one mount, cached. */
export class LeaseLimits {
  readonly #cache = new Map<'default' | 'max', Cached>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** `systemView` with cached defaultLeaseTtl/maxLeaseTtl; everything else passes through. */
  view(systemView: SystemView): SystemView {
    return {
      defaultLeaseTtl: () => this.#get('default', () => systemView.defaultLeaseTtl()),
      maxLeaseTtl: () => this.#get('max', () => systemView.maxLeaseTtl()),
      tainted: () => systemView.tainted(),
      localMount: () => systemView.localMount(),
      replicationState: () => systemView.replicationState(),
      vaultVersion: () => systemView.vaultVersion(),
      generatePasswordFromPolicy: (policy) => systemView.generatePasswordFromPolicy(policy),
    };
  }

  #get(key: 'default' | 'max', fetch: () => Promise<number>): Promise<number> {
    const hit = this.#cache.get(key);
    if (hit && this.#now() - hit.fetchedAt < LEASE_LIMITS_TTL_MS) return hit.value;
    const value = fetch();
    const entry = { value, fetchedAt: this.#now() };
    this.#cache.set(key, entry);
    // A failed fetch must not be served from the cache.
    value.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return value;
  }
}
