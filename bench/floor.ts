// The floor: the same work without Vault and the plugin around it. A careful
// client holding a pg.Pool of the same size creates each credential the way
// the plugin does (random name and password, SCRAM verifier, the role's
// statements plus VALID UNTIL as one multi-statement query = one implicit
// transaction, bounded jittered retry of transient catalog conflicts), and
// drops users with the plugin's default revocation procedure (its own
// revokeUser). The plugin's helpers build the SQL, so both sides send
// byte-for-byte the same text.
//
// "Careful" includes keeping a connection after an error the server answered
// (it rolled the transaction back and is ready for the next query).
// pg-pool's own `pool.query` destroys the connection after any error, so
// every retried conflict pays for a new TCP connection, SCRAM authentication
// and a new PostgreSQL backend. Mode `pool-query` issues that naive way, to
// show what it costs.

import { randomBytes } from 'node:crypto';
import { Client, Pool, type QueryResult } from 'pg';
import type { PostgresServer } from '../scripts/lib/postgres';
import { creationQuery } from '../src/postgres/users/create-user';
import { formatExpiration, validUntil } from '../src/postgres/users/expiration';
import { generatePassword, scramSha256Verifier } from '../src/postgres/users/password';
import { isTransientConflict, sqlState, withConflictRetry } from '../src/postgres/sql/retry';
import { revokeUser } from '../src/postgres/users/revoke-user';
import { parseStatementsInput } from '../src/postgres/sql/statements';
import type { Operation } from './load';
import { CREATION_STATEMENTS, DEFAULT_TTL_SECONDS } from './through-host';

/** The statements as the plugin stores them after `roles/app` is written. */
const STATEMENTS = parseStatementsInput([CREATION_STATEMENTS]);

/** `careful`: keep connections on SQL errors; `pool-query`: pg-pool's pool.query (issuance only). */
export type FloorMode = 'careful' | 'pool-query';

export class Floor {
  readonly #pg: PostgresServer;
  readonly #pool: Pool;
  readonly #mode: FloorMode;
  /** Transient conflicts (XX000/40001/40P01) retried during issuance. */
  conflictsRetried = 0;

  constructor(pg: PostgresServer, poolSize: number, mode: FloorMode) {
    this.#pg = pg;
    this.#pool = new Pool({ connectionString: pg.url, max: poolSize, idleTimeoutMillis: 30_000 });
    // An idle client losing its connection must not crash the benchmark.
    this.#pool.on('error', () => undefined);
    this.#mode = mode;
  }

  /** Creates one user per call; its name is appended to `users`. */
  issue(users: string[]): Operation {
    return async () => {
      const verifier = await scramSha256Verifier(generatePassword());
      await this.#create(users, verifier);
    };
  }

  /** The creation SQL alone, with a verifier computed once: what remains when SCRAM hashing is taken out. */
  issueSqlOnly(users: string[], verifier: string): Operation {
    return () => this.#create(users, verifier);
  }

  /** Drops `users[offset + i]` with the plugin's own revokeUser: its default procedure (NOLOGIN, terminate, REASSIGN/DROP OWNED, DROP ROLE). */
  drop(users: readonly string[], offset: number): Operation {
    const target = { pool: this.#pool, clientConfig: { connectionString: this.#pg.url } };
    return async (index) => {
      const username = users[offset + index];
      if (username === undefined) throw new Error(`no user at ${offset + index}`);
      await revokeUser(target, username);
    };
  }

  async end(): Promise<void> {
    await this.#pool.end();
  }

  async #create(users: string[], passwordValue: string): Promise<void> {
    // Same shape and length as the plugin's default username template.
    const username = `v-token-app-${randomBytes(10).toString('hex')}-${Math.floor(Date.now() / 1000)}`;
    const text = creationQuery(STATEMENTS, { username, passwordValue, expiration: formatExpiration(validUntil(DEFAULT_TTL_SECONDS)) });
    await withConflictRetry(async () => {
      try {
        return await (this.#mode === 'careful' ? queryKeepingConnection(this.#pool, text) : this.#pool.query(text));
      } catch (err) {
        if (isTransientConflict(err)) this.conflictsRetried++;
        throw err;
      }
    });
    users.push(username);
  }
}

/**
 * `pool.query(text, values)` that releases the client normally when the
 * server answered with an SQL error (it has a SQLSTATE), and destroys it only
 * for other failures (broken socket, protocol error). pg-pool still drops a
 * client whose connection ended, so a dead one is never reused.
 */
async function queryKeepingConnection(pool: Pool, text: string, values?: unknown[]): Promise<QueryResult> {
  const client = await pool.connect();
  try {
    const result = await client.query(text, values);
    client.release();
    return result;
  } catch (err) {
    client.release(sqlState(err) !== undefined ? undefined : err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** SCRAM-SHA-256 verifier computation alone (PBKDF2, 4096 rounds, on libuv's thread pool). */
export function scramOnly(): Operation {
  return async () => {
    await scramSha256Verifier(generatePassword());
  };
}

/** One new connection (TCP, SCRAM authentication, a new PostgreSQL backend), one query, close: what pool.query pays again after every failed query. */
export function newConnection(pg: PostgresServer): Operation {
  return async () => {
    const client = new Client({ connectionString: pg.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query('SELECT 1');
    } finally {
      await client.end();
    }
  };
}
