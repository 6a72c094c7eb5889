// The state one mount's engine shares across its paths: cached configs,
// roles and static roles, the user records and their index, the per-config
// pools, the rotation queue, compiled username templates, and how passwords
// are made. One instance per backend
// instance (mount).

import type { ClientConfig, Pool, PoolConfig } from 'pg';
import type { Logger } from '../log';
import type { Storage, SystemView } from '../vault';
import { CachedStore } from './cached-store';
import { CONFIG_KIND, connectionVersion, type ConnectionConfig } from './connections/connection-config';
import { clientConfig } from './connections/dsn';
import type { ConnectConfig } from './connections/transport';
import { LeaseLimits } from './lease-limits';
import { generatePassword, passwordValue } from './users/password';
import { PoolRegistry, type PoolFactory } from './connections/pools';
import type { ServerFacts } from './connections/server-facts';
import { ROLE_KIND } from './roles/role';
import { RotationQueue, type RotationQueueOptions } from './rotation/queue';
import { STATIC_ROLE_KIND } from './rotation/static-role';
import { UserRecords } from './users/user-records';
import { compileUsernameTemplate, DEFAULT_USERNAME_TEMPLATE, type UsernameTemplate } from './users/username';
import { DEFAULT_CONNECT_TIMEOUT_MS, verifyConnection } from './connections/verify';

/** Collaborators of an engine; all but the logger have defaults. */
export interface EngineOptions {
  log: Logger;
  poolFactory?: PoolFactory;
  /** Checks a connection on config write; default connects with pg. */
  verify?: (config: ClientConfig) => Promise<void>;
  /**
   * Seconds an unfinished issuance's WAL entry must age before rollback
   * drops its user; longer than Vault's 90 s request deadline.
   */
  walRollbackMinAge?: number;
  /**
   * Seconds past its recorded lease end before the sweep drops an issued
   * user; longer than Vault's 90 s request deadline, so a lease Vault
   * renews or registers late is never cut short.
   */
  userSweepGrace?: number;
  /** The clock, for user records and the sweep. Absent: the system clock. */
  now?: () => Date;
  /**
   * Crash-safety testing only: the named checkpoint (e.g.
   * `creds-after-create`) kills the process with SIGKILL when reached.
   * Absent: checkpoints do nothing.
   */
  crashAt?: string;
  /** How the rotation queue runs (tick, spreading, backoff). Absent: its defaults. */
  rotation?: RotationQueueOptions;
}

/** A config with its pool. */
export interface Connection {
  name: string;
  config: ConnectionConfig;
  pool: Pool;
  /** node-postgres settings of the config, made once per config: one-off connections (other databases at revocation) use them. */
  clientConfig: ClientConfig;
  /** The server's major version, whether the connection user is a superuser, and its scram_iterations; asked once per pool. */
  facts: () => Promise<ServerFacts>;
  /** The same if already asked; never reaches the database. */
  knownFacts: () => ServerFacts | undefined;
}

/** Node's longest timer, 2^31 - 1 ms, in whole seconds. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Default minimum WAL age: Vault's request deadline (90 s) plus a margin. */
export const DEFAULT_WAL_ROLLBACK_MIN_AGE = 120;
/** Default sweep grace past a recorded lease end: Vault's request deadline (90 s) plus a margin. */
export const DEFAULT_USER_SWEEP_GRACE = 120;

/** Per-mount engine state. */
export class Engine {
  readonly configs = new CachedStore(CONFIG_KIND);
  readonly roles = new CachedStore(ROLE_KIND);
  readonly staticRoles = new CachedStore(STATIC_ROLE_KIND);
  /** Automated rotation of static roles and root passwords; see rotation/queue.ts. */
  readonly rotations: RotationQueue;
  /** Every database user this mount created and has not dropped yet. */
  readonly users: UserRecords;
  readonly pools: PoolRegistry;
  readonly log: Logger;
  readonly verify: (config: ClientConfig) => Promise<void>;
  readonly walRollbackMinAge: number;
  readonly userSweepGrace: number;
  readonly now: () => Date;
  readonly #templates = new Map<string, UsernameTemplate>();
  readonly #leaseLimits = new LeaseLimits();
  /** Pool identity and client settings per config object: deriving them on every request is waste. */
  readonly #derived = new WeakMap<ConnectionConfig, { version: string; clientConfig: ClientConfig }>();
  readonly #crashAt: string | undefined;

  constructor(options: EngineOptions) {
    this.log = options.log;
    this.pools = new PoolRegistry(options.log, options.poolFactory);
    this.users = new UserRecords((username, err) =>
      this.log.warn({ username, error: err instanceof Error ? err.message : String(err) }, 'user record left out of the index: it cannot be read'),
    );
    this.verify = options.verify ?? verifyConnection;
    this.walRollbackMinAge = options.walRollbackMinAge ?? DEFAULT_WAL_ROLLBACK_MIN_AGE;
    this.userSweepGrace = options.userSweepGrace ?? DEFAULT_USER_SWEEP_GRACE;
    this.now = options.now ?? (() => new Date());
    this.#crashAt = options.crashAt;
    this.rotations = new RotationQueue(this, options.rotation);
  }

  /** A point where a crash must not leave anything behind; see EngineOptions.crashAt. */
  checkpoint(name: string): void {
    if (this.#crashAt !== name) return;
    this.log.warn({ checkpoint: name }, 'crashing on purpose at checkpoint');
    process.kill(process.pid, 'SIGKILL');
  }

  /** Config `name` with its pool; undefined when the config does not exist. */
  async connection(storage: Storage, name: string): Promise<Connection | undefined> {
    const config = await this.configs.get(storage, name);
    if (!config) return undefined;
    let derived = this.#derived.get(config);
    if (derived === undefined) {
      derived = { version: connectionVersion(config), clientConfig: clientConfig(config) };
      this.#derived.set(config, derived);
    }
    const pool = await this.pools.get(name, derived.version, () => poolConfig(config));
    return { name, config, pool, clientConfig: derived.clientConfig, facts: () => this.pools.facts(pool), knownFacts: () => this.pools.knownFacts(pool) };
  }

  /** `systemView` with the mount's lease limits cached for a moment (see lease-limits.ts). */
  leaseLimits(systemView: SystemView): SystemView {
    return this.#leaseLimits.view(systemView);
  }

  /** The compiled username template of a config (the default when it has none). */
  usernameTemplate(config: ConnectionConfig): UsernameTemplate {
    const source = config.usernameTemplate || DEFAULT_USERNAME_TEMPLATE;
    let compiled = this.#templates.get(source);
    if (!compiled) {
      compiled = compileUsernameTemplate(source);
      this.#templates.set(source, compiled);
    }
    return compiled;
  }

  /**
   * A new password (from the Vault password policy when one is named) and
   * what `{{password}}` becomes on `conn` (see passwordValue).
   */
  async newPassword(systemView: SystemView, conn: Connection, policy: string): Promise<{ password: string; value: string }> {
    const password = await this.policyPassword(systemView, policy);
    return { password, value: await this.passwordValue(conn, password) };
  }

  /**
   * A new password from the Vault password policy `policy`; empty: 24
   * random characters. Throws Vault's error for a policy that fails, and an
   * error of its own for one that makes an empty password.
   */
  async policyPassword(systemView: SystemView, policy: string): Promise<string> {
    const password = policy ? await systemView.generatePasswordFromPolicy(policy) : generatePassword();
    if (password === '') throw new Error('the policy generated an empty password');
    return password;
  }

  /**
   * What `{{password}}` becomes for `password` on `conn`: under
   * scram-sha-256 a SCRAM verifier, so the cleartext never reaches the
   * server, its logs or pg_stat_statements, made with the iteration count
   * PostgreSQL would use for that cleartext in the connection's sessions
   * (scram_iterations on 16+, 4096 before; see server-facts.ts). PostgreSQL
   * spends that count again on every CREATE/ALTER ROLE … PASSWORD with a
   * verifier, to refuse empty passwords.
   *
   * @throws the database's error when the pool's facts are not known yet
   *   and the server cannot be asked.
   */
  async passwordValue(conn: Connection, password: string): Promise<string> {
    const { passwordAuthentication } = conn.config;
    if (passwordAuthentication !== 'scram-sha-256') return password;
    const facts = conn.knownFacts() ?? (await conn.facts());
    return passwordValue(password, passwordAuthentication, facts.scramIterations);
  }

  /** A storage key changed elsewhere: drop what was derived from it. */
  invalidate(key: string): void {
    this.rotations.keyChanged(key);
    if (this.users.invalidate(key)) return;
    this.roles.invalidate(key);
    this.staticRoles.invalidate(key);
    const name = this.configs.invalidate(key);
    if (name !== undefined) void this.pools.close(name);
  }

  /** Releases every pool (unmount, seal, reload). */
  async close(): Promise<void> {
    await this.rotations.stop();
    await this.pools.closeAll();
  }
}

/** node-postgres pool settings for a config. */
export function poolConfig(config: ConnectionConfig): PoolConfig & ConnectConfig {
  return {
    connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS,
    ...clientConfig(config),
    max: config.maxOpenConnections,
    // pg-pool keeps every released client until it has been idle this long;
    // a limit on idle connections below the maximum is approximated by
    // closing idle ones quickly.
    idleTimeoutMillis: config.maxIdleConnections > 0 && config.maxIdleConnections < config.maxOpenConnections ? 1_000 : 30_000,
    // pg-pool arms a timer with it: beyond Node's longest timer (≈24.8 days) the timer fires at once, and every connection would be used once.
    maxLifetimeSeconds: Math.min(config.maxConnectionLifetime, MAX_TIMER_SECONDS),
  };
}
