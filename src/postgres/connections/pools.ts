// One pg.Pool per connection config, created on first use and reused by every
// request: no connection per request, no ping per operation. node-postgres is
// loaded on first use too, so a plugin start that serves no request stays fast.

import type { Pool, PoolConfig } from 'pg';
import type { Logger } from '../../log';
import { withClient } from '../sql/query';
import { probeServer, type ServerFacts } from './server-facts';
import { transportPool, type ConnectConfig } from './transport';

/** Creates a pool; tests may inject their own. `fallbackSsl`: the second transport of sslmode allow and prefer. */
export type PoolFactory = (config: PoolConfig & ConnectConfig) => Promise<Pool>;

/** The default factory: node-postgres, loaded lazily; sslmode allow and prefer fall back per connection (transport.ts). */
export const pgPoolFactory: PoolFactory = async (config) => transportPool(await import('pg'), config);

interface Entry {
  pool: Promise<Pool>;
  /** Identity of the settings the pool was built from. */
  version: string;
}

/** Pools by config name. */
export class PoolRegistry {
  readonly #pools = new Map<string, Entry>();
  /** Server facts per pool, asked on first need; a pool that is replaced takes its facts with it. */
  readonly #facts = new WeakMap<Pool, Promise<ServerFacts>>();
  /** The same once answered, for callers that must not reach the database just to learn them. */
  readonly #known = new WeakMap<Pool, ServerFacts>();
  readonly #factory: PoolFactory;
  readonly #log: Logger;

  constructor(log: Logger, factory: PoolFactory = pgPoolFactory) {
    this.#log = log;
    this.#factory = factory;
  }

  /**
   * The pool for config `name`; `version` identifies the settings, and a
   * changed version replaces the pool (the old one drains and closes).
   */
  get(name: string, version: string, config: () => PoolConfig): Promise<Pool> {
    const existing = this.#pools.get(name);
    if (existing && existing.version === version) return existing.pool;
    if (existing) void this.close(name);
    const pool = this.#factory(config()).then((p) => {
      // An idle client losing its connection must not crash the process.
      p.on('error', (err) => this.#log.warn({ config: name, error: err.message }, 'idle database connection failed'));
      return p;
    });
    this.#pools.set(name, { pool, version });
    return pool;
  }

  /** The server's major version, the connection user's standing and its scram_iterations, asked once per pool. */
  facts(pool: Pool): Promise<ServerFacts> {
    let facts = this.#facts.get(pool);
    if (facts === undefined) {
      const asked = withClient(pool, probeServer);
      // A probe that failed (server unreachable) is asked again next time.
      asked.then(
        (known) => this.#known.set(pool, known),
        () => {
          if (this.#facts.get(pool) === asked) this.#facts.delete(pool);
        },
      );
      this.#facts.set(pool, asked);
      facts = asked;
    }
    return facts;
  }

  /** The pool's facts if the server has already told them; never asks. */
  knownFacts(pool: Pool): ServerFacts | undefined {
    return this.#known.get(pool);
  }

  /** Closes and forgets the pool of config `name`, if any. */
  async close(name: string): Promise<void> {
    const entry = this.#pools.get(name);
    if (!entry) return;
    this.#pools.delete(name);
    try {
      await (await entry.pool).end();
    } catch (err) {
      this.#log.warn({ config: name, error: err instanceof Error ? err.message : String(err) }, 'closing pool failed');
    }
  }

  /** Closes every pool. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#pools.keys()].map((name) => this.close(name)));
  }
}
