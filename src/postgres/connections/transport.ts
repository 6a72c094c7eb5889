// sslmode allow and prefer: libpq connects over one transport and, when the
// server turns it away, once more over the other (allow: plaintext, then
// TLS; prefer: TLS, then plaintext). node-postgres connects with one `ssl`
// setting, so this module makes the second attempt, for one-off clients and
// for every new connection of a pool. A pool then tries the transport that
// last worked first, so a server that takes only one of them does not see
// (and log) a refused attempt for every connection; a config write or
// reset/ starts a new pool with libpq's order again.
//
// "Turned away" means exactly:
//   - the server answered the SSLRequest with 'N' (ssl=off): TLS refused;
//   - SQLSTATE 28000 (invalid_authorization_specification): pg_hba.conf has
//     no line for this transport (hostssl/hostnossl), or rejects it.
// A wrong password (28P01), a network error or a failed certificate check
// is final. Only allow and prefer ever fall back, and neither checks
// certificates: no verifying mode is ever retried with less.

import * as net from 'node:net';
import type { Client, ClientConfig, Pool, PoolClient, PoolConfig } from 'pg';
import { sqlState } from '../sql/retry';
import type { SslSetting } from './sslmode';

/** node-postgres settings plus, for allow and prefer, the transport to retry with. */
export interface ConnectConfig extends ClientConfig {
  /** The `ssl` of the second attempt; absent: one attempt only. node-postgres ignores this key. */
  fallbackSsl?: SslSetting;
}

type PgModule = typeof import('pg');

/** SQLSTATE of "no pg_hba.conf entry" and "pg_hba.conf rejects connection". */
const HBA_REJECTED = '28000';
/** The byte a server with ssl=off answers an SSLRequest with. */
const SSL_REFUSED = 0x4e; // 'N'

/** One connection attempt over one transport. */
interface Attempt {
  ssl: SslSetting;
  /** True once the server answered this attempt's SSLRequest with 'N'. */
  refusedTls: boolean;
}

/** Connects a client for `config`; with fallbackSsl, retries over it when the server turns the first transport away. */
export async function connectClient(config: ConnectConfig): Promise<Client> {
  const pg = await import('pg');
  const { fallbackSsl, ...settings } = config;
  const first = sslSetting(settings.ssl);
  if (fallbackSsl === undefined) return connectOnce(pg, settings, newAttempt(first));
  const order = new TransportOrder(first, fallbackSsl);
  const attempts = new WeakMap<object, Attempt>();
  const connect = async () => {
    const attempt = newAttempt(order.current);
    try {
      return await connectOnce(pg, settings, attempt);
    } catch (err) {
      if (typeof err === 'object' && err !== null) attempts.set(err, attempt);
      throw err;
    }
  };
  return withFallback(connect, (err) => attemptOf(attempts, err), order);
}

/** A pg.Pool for `config`; with fallbackSsl, its new connections fall back as connectClient does. */
export function transportPool(pg: PgModule, config: PoolConfig & ConnectConfig): Pool {
  const { fallbackSsl, ...settings } = config;
  if (fallbackSsl === undefined) return new pg.Pool(settings);
  const order = new TransportOrder(sslSetting(settings.ssl), fallbackSsl);
  const attempts = new WeakMap<object, Attempt>();

  /** A client over the pool's current first transport, reporting how its connect went. */
  class TransportClient extends pg.Client {
    readonly #attempt: Attempt;

    constructor(options?: ClientConfig) {
      const attempt = newAttempt(order.current);
      // pg-pool keeps the password non-enumerable, which a spread would drop.
      super({ ...options, password: options?.password, ...clientTransport(attempt) });
      this.#attempt = attempt;
    }

    override connect(): Promise<Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, client: Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, client: Client) => void)): Promise<Client> | void {
      const connecting = super.connect().then(
        (client) => {
          order.worked(this.#attempt.ssl);
          return client;
        },
        (err: unknown) => {
          if (typeof err === 'object' && err !== null) attempts.set(err, this.#attempt);
          throw err;
        },
      );
      if (callback === undefined) return connecting;
      // pg's typings give the callback as a union of two signatures, which
      // TypeScript cannot call directly; pg-pool passes `(err) => …`.
      connecting.then(
        (client) => Reflect.apply(callback, undefined, [null, client]),
        (err: unknown) => Reflect.apply(callback, undefined, [err]),
      );
    }
  }

  /** pg.Pool whose connect() makes the second attempt when the first transport is turned away. */
  class TransportPool extends pg.Pool {
    override connect(): Promise<PoolClient>;
    override connect(callback: (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void): void;
    override connect(
      callback?: (err: Error | undefined, client: PoolClient | undefined, done: (release?: unknown) => void) => void,
    ): Promise<PoolClient> | void {
      const connecting = withFallback(() => super.connect(), (err) => attemptOf(attempts, err), order);
      if (callback === undefined) return connecting;
      connecting.then(
        (client) => callback(undefined, client, (release) => client.release(releaseArgument(release))),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), undefined, () => undefined),
      );
    }
  }

  return new TransportPool({ ...settings, Client: TransportClient });
}

/** Both attempts failed, the first because the server turned its transport away; names both failures. */
export class TransportsFailed extends Error {
  /** SQLSTATE of the second attempt's failure, if the server answered it. */
  readonly code: string | undefined;

  constructor(first: { attempt: Attempt; error: unknown }, second: { attempt: Attempt | undefined; error: unknown }) {
    const label = (attempt: Attempt | undefined) => (attempt === undefined ? 'then' : attempt.ssl === false ? 'without TLS' : 'over TLS');
    super(`${label(first.attempt)}: ${attemptText(first.error)}; ${label(second.attempt)}: ${attemptText(second.error)}`, {
      cause: second.error,
    });
    this.name = 'TransportsFailed';
    this.code = sqlState(second.error);
  }
}

/** The transport a pool (or one connectClient call) tries first: libpq's order until one has worked. */
class TransportOrder {
  #current: SslSetting;
  readonly #first: SslSetting;
  readonly #second: SslSetting;

  constructor(first: SslSetting, second: SslSetting) {
    this.#first = first;
    this.#second = second;
    this.#current = first;
  }

  get current(): SslSetting {
    return this.#current;
  }

  /** `ssl` was turned away: the other transport goes first (unless another attempt already moved on). */
  turnedAway(ssl: SslSetting): void {
    if (this.#current === ssl) this.#current = ssl === this.#first ? this.#second : this.#first;
  }

  /** `ssl` worked: it goes first from now on. */
  worked(ssl: SslSetting): void {
    this.#current = ssl;
  }
}

/** Runs `connect`; when the server turns the transport away, moves `order` on and runs it once more. */
async function withFallback<T>(connect: () => Promise<T>, attemptOf: (err: unknown) => Attempt | undefined, order: TransportOrder): Promise<T> {
  let first: { attempt: Attempt; error: unknown };
  try {
    return await connect();
  } catch (err) {
    const attempt = attemptOf(err);
    if (attempt === undefined || !turnedAway(err, attempt)) throw err;
    order.turnedAway(attempt.ssl);
    first = { attempt, error: err };
  }
  try {
    return await connect();
  } catch (err) {
    // A server without TLS at all is the common case of prefer: its 'N' is
    // no news, the plaintext attempt's failure is.
    if (first.attempt.refusedTls) throw err;
    throw new TransportsFailed(first, { attempt: attemptOf(err), error: err });
  }
}

function turnedAway(err: unknown, attempt: Attempt): boolean {
  return attempt.refusedTls || sqlState(err) === HBA_REJECTED;
}

function attemptOf(attempts: WeakMap<object, Attempt>, err: unknown): Attempt | undefined {
  return typeof err === 'object' && err !== null ? attempts.get(err) : undefined;
}

/** pg's `ssl` in one form: `true` is pg's shorthand for default TLS options. */
function sslSetting(ssl: ClientConfig['ssl']): SslSetting {
  if (ssl === true) return {};
  return ssl ?? false;
}

function newAttempt(ssl: SslSetting): Attempt {
  return { ssl, refusedTls: false };
}

/**
 * The client settings of an attempt. A TLS attempt gets its own socket,
 * which notes a server answering the SSLRequest with 'N': node-postgres
 * reports that as a plain Error without a code.
 */
function clientTransport(attempt: Attempt): Pick<ClientConfig, 'ssl' | 'stream'> {
  if (attempt.ssl === false) return { ssl: false };
  const socket = new net.Socket();
  socket.once('data', (chunk: Buffer) => {
    attempt.refusedTls = chunk.length === 1 && chunk[0] === SSL_REFUSED;
  });
  return { ssl: attempt.ssl, stream: () => socket };
}

/** Connects one client over `attempt`'s transport; a failed client is closed. */
async function connectOnce(pg: PgModule, settings: ClientConfig, attempt: Attempt): Promise<Client> {
  const client = new pg.Client({ ...settings, ...clientTransport(attempt) });
  // A connection that breaks after connect emits 'error'; without a listener
  // that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/** One line about an attempt's failure: the message, and the SQLSTATE when the server sent one. */
function attemptText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const state = sqlState(err);
  return state === undefined ? message : `${message} (${state})`;
}

/** pg-pool's release(err): a truthy argument destroys the connection. */
function releaseArgument(release: unknown): Error | boolean | undefined {
  if (release === undefined || release === null || release === false) return undefined;
  return release instanceof Error ? release : true;
}
