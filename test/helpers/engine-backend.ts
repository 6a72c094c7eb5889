/**
 * The engine's backend as Vault would build it for one mount, on in-memory
 * storage and a static system view, with a clock the test sets: for
 * integration tests that drive creds, renew, revoke and rollback against a
 * real PostgreSQL without a Vault in between.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import { postgresBackendFactory } from '../../src/postgres';
import type { EngineOptions } from '../../src/postgres/engine';
import type { Backend, Operation, Request, Response, Secret } from '../../src/vault';
import { InmemStorage, StaticSystemView, testRequest } from './fakes';
import type { PostgresServer } from './postgres';

/** A settable clock: the engine reads `now`. */
export interface TestClock {
  now: Date;
  /** Moves the clock by `seconds`. */
  advance(seconds: number): void;
}

/** One mount's backend and what it runs on. */
export interface EngineBackend {
  backend: Backend;
  storage: InmemStorage;
  systemView: StaticSystemView;
  clock: TestClock;
  /** Sends a request; `extra` sets further request fields (secret, displayName, …). */
  call(operation: Operation, path: string, data?: Record<string, unknown>, extra?: Partial<Request>): Promise<Response | undefined>;
  /** A rollback tick, as Vault sends it. */
  rollback(): Promise<void>;
  /** Vault's renew of the lease `secret` came with, asking for `increment` seconds. */
  renew(secret: Secret, increment: number): Promise<Response | undefined>;
  /** Vault's revoke of that lease. */
  revoke(secret: Secret): Promise<Response | undefined>;
}

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/**
 * A backend for one mount with mount `options` (e.g. `{ user_sweep_grace: '30s' }`); its clock starts at `start`.
 * The rotation queue runs no timer unless `engineOptions.rotation` asks for one.
 */
export async function engineBackend(
  options: Record<string, string> = {},
  start = new Date('2030-01-01T00:00:00Z'),
  engineOptions: Omit<EngineOptions, 'log' | 'now'> = {},
): Promise<EngineBackend> {
  const storage = new InmemStorage();
  const systemView = new StaticSystemView();
  const clock: TestClock = {
    now: start,
    advance(seconds) {
      this.now = new Date(this.now.getTime() + seconds * 1000);
    },
  };
  // No rotation timer: the test's clock and its rollback ticks decide when rotations run.
  const backend = await postgresBackendFactory(silent, { rotation: { tickMs: 0 }, ...engineOptions, now: () => clock.now })({ config: options, backendUuid: 'test', storage, systemView });
  const call: EngineBackend['call'] = (operation, path, data = {}, extra = {}) =>
    backend.handleRequest(testRequest({ operation, path, data, storage, systemView, ...extra }));
  return {
    backend,
    storage,
    systemView,
    clock,
    call,
    rollback: async () => void (await call('rollback', '')),
    renew: (secret, increment) => call('renew', 'creds/x', {}, { secret: { ...secret, leaseOptions: { ...secret.leaseOptions, increment } } }),
    revoke: (secret) => call('revoke', 'creds/x', {}, { secret }),
  };
}

/** Body of `config/<name>` for `pg`'s superuser (or `user`/`password`), allowing every role. */
export function pgConnection(pg: PostgresServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres`,
    username: pg.user,
    password: pg.password,
    allowed_roles: '*',
    ...extra,
  };
}

/** Throws the error text of an error response, so that setup steps fail loudly. */
export function expectOk(resp: Response | undefined, what: string): Response | undefined {
  const error = resp?.data?.['error'];
  if (typeof error === 'string') throw new Error(`${what}: ${error}`);
  return resp;
}
