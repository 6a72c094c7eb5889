// The state one mount's engine shares across its paths: cached configs, the
// per-config pools, and the logger. One instance per backend instance (mount).

import type { ClientConfig, Pool } from 'pg';
import type { Logger } from '../log';
import type { Storage } from '../vault';
import { ConfigStore } from './config-store';
import { connectionVersion, type ConnectionConfig } from './connection-config';
import { clientConfig } from './dsn';
import { PoolRegistry, type PoolFactory } from './pools';
import { DEFAULT_CONNECT_TIMEOUT_MS, verifyConnection } from './verify';

/** Collaborators of an engine; all but the logger have defaults. */
export interface EngineOptions {
  log: Logger;
  poolFactory?: PoolFactory;
  /** Checks a connection on config write; default connects with pg. */
  verify?: (config: ClientConfig) => Promise<void>;
}

/** Per-mount engine state. */
export class Engine {
  readonly configs = new ConfigStore();
  readonly pools: PoolRegistry;
  readonly log: Logger;
  readonly verify: (config: ClientConfig) => Promise<void>;

  constructor(options: EngineOptions) {
    this.log = options.log;
    this.pools = new PoolRegistry(options.log, options.poolFactory);
    this.verify = options.verify ?? verifyConnection;
  }

  /** The pool of config `name`; undefined when the config does not exist. */
  async pool(storage: Storage, name: string): Promise<{ config: ConnectionConfig; pool: Pool } | undefined> {
    const config = await this.configs.get(storage, name);
    if (!config) return undefined;
    const pool = await this.pools.get(name, connectionVersion(config), () => poolConfig(config));
    return { config, pool };
  }

  /** A storage key changed elsewhere: drop what was derived from it. */
  invalidate(key: string): void {
    const name = ConfigStore.nameOfKey(key);
    if (name === undefined) return;
    this.configs.forget(name);
    void this.pools.close(name);
  }

  /** Releases every pool (unmount, seal, reload). */
  async close(): Promise<void> {
    await this.pools.closeAll();
  }
}

/** node-postgres pool settings for a config. */
export function poolConfig(config: ConnectionConfig): import('pg').PoolConfig {
  return {
    connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
    ...clientConfig(config),
    max: config.maxOpenConnections,
    // pg-pool keeps every released client until it has been idle this long;
    // a limit on idle connections below max is approximated by closing idle
    // ones quickly.
    idleTimeoutMillis: config.maxIdleConnections > 0 && config.maxIdleConnections < config.maxOpenConnections ? 1_000 : 30_000,
    maxLifetimeSeconds: config.maxConnectionLifetime,
  };
}
