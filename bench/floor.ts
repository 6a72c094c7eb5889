// The floor: the same work without Vault and the plugin around it. A careful
// client holding a pg.Pool of the same size creates each credential the way
// the plugin does (random name and password, SCRAM verifier, the role's
// statements plus VALID UNTIL as one multi-statement query = one implicit
// transaction, bounded jittered retry of transient catalog conflicts), and
// drops users with the plugin's default revocation procedure. The plugin's
// own helpers are used so that both sides send byte-for-byte the same SQL.

import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { PostgresServer } from '../scripts/lib/postgres';
import { creationQuery } from '../src/postgres/create-user';
import { formatExpiration, validUntil } from '../src/postgres/expiration';
import { generatePassword, scramSha256Verifier } from '../src/postgres/password';
import { isTransientConflict, withConflictRetry } from '../src/postgres/retry';
import { revokeUser } from '../src/postgres/revoke-user';
import { parseStatementsInput } from '../src/postgres/statements';
import type { Operation } from './load';
import { CREATION_STATEMENTS, DEFAULT_TTL_SECONDS } from './through-host';

/** The statements as the plugin stores them after `roles/app` is written. */
const STATEMENTS = parseStatementsInput([CREATION_STATEMENTS]);

export class Floor {
  readonly #pg: PostgresServer;
  readonly pool: Pool;
  /** Transient conflicts (XX000/40001/40P01) that were retried during issuance. */
  conflictsRetried = 0;

  constructor(pg: PostgresServer, poolSize: number) {
    this.#pg = pg;
    this.pool = new Pool({ connectionString: pg.url, max: poolSize, idleTimeoutMillis: 30_000 });
    // An idle client losing its connection must not crash the benchmark.
    this.pool.on('error', () => undefined);
  }

  /** Creates one user per call; its name is appended to `users`. */
  issue(users: string[]): Operation {
    return async () => {
      // Same shape and length as the plugin's default username template.
      const username = `v-token-app-${randomBytes(10).toString('hex')}-${Math.floor(Date.now() / 1000)}`;
      const verifier = await scramSha256Verifier(generatePassword());
      const text = creationQuery(STATEMENTS, {
        username,
        passwordValue: verifier,
        expiration: formatExpiration(validUntil(DEFAULT_TTL_SECONDS)),
      });
      await withConflictRetry(() => this.#countConflicts(this.pool.query(text)));
      users.push(username);
    };
  }

  /** The creation SQL alone, with a verifier computed once: what remains when SCRAM hashing is taken out. */
  issueSqlOnly(users: string[], verifier: string): Operation {
    return async () => {
      const username = `v-token-app-${randomBytes(10).toString('hex')}-${Math.floor(Date.now() / 1000)}`;
      const text = creationQuery(STATEMENTS, { username, passwordValue: verifier, expiration: formatExpiration(validUntil(DEFAULT_TTL_SECONDS)) });
      await withConflictRetry(() => this.#countConflicts(this.pool.query(text)));
      users.push(username);
    };
  }

  /** Drops `users[offset + i]` with the plugin's default procedure (NOLOGIN, terminate, REASSIGN/DROP OWNED, DROP ROLE). */
  drop(users: readonly string[], offset: number): Operation {
    const target = { pool: this.pool, clientConfig: { connectionString: this.#pg.url } };
    return async (index) => {
      const username = users[offset + index];
      if (username === undefined) throw new Error(`no user at ${offset + index}`);
      await revokeUser(target, username);
    };
  }

  async end(): Promise<void> {
    await this.pool.end();
  }

  async #countConflicts<T>(query: Promise<T>): Promise<T> {
    try {
      return await query;
    } catch (err) {
      if (isTransientConflict(err)) this.conflictsRetried++;
      throw err;
    }
  }
}

/** SCRAM-SHA-256 verifier computation alone (PBKDF2, 4096 rounds, on libuv's thread pool). */
export function scramOnly(): Operation {
  return async () => {
    await scramSha256Verifier(generatePassword());
  };
}
