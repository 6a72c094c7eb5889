// What the server and the connection's user are, as far as dropping users
// cares. On managed PostgreSQL (AWS RDS, Cloud SQL, Azure) the connection
// user holds CREATEROLE but is no superuser; REASSIGN OWNED, DROP OWNED and
// pg_terminate_backend then need the privileges of the user being dropped,
// that is membership in it (with INHERIT). The connection user may give
// itself that membership: CREATEROLE allows granting any non-superuser role
// before PostgreSQL 16; from 16 on, CREATE ROLE gives the creator ADMIN
// OPTION on the new role (but, unless createrole_self_grant says otherwise,
// neither INHERIT nor SET), which allows the same grant.
//
// Also the session's scram_iterations (PostgreSQL 16+): the iteration count
// PostgreSQL itself would hash a cleartext password with in the connection's
// sessions, which the SCRAM verifiers sent in its place must carry.

import type { ClientBase } from 'pg';
import { quoteIdentifier } from '../sql/quote';

/** The server's major version, the connection user's standing and its SCRAM iteration count; asked once per pool. */
export interface ServerFacts {
  /** Major version (server_version_num / 10000), e.g. 16. */
  major: number;
  /** The connection user is a superuser: it has every role's privileges already. */
  superuser: boolean;
  /**
   * The session's scram_iterations (postgresql.conf, ALTER DATABASE/ROLE …
   * SET): a positive integer on PostgreSQL 16+, undefined before 16, where
   * the count is always 4096.
   */
  scramIterations?: number;
}

/** First major version whose GRANT takes WITH INHERIT/SET options and whose CREATE ROLE gives the creator ADMIN OPTION. */
const GRANT_OPTIONS_MAJOR = 16;

/** Asks the server on `client`; one round trip. */
export async function probeServer(client: ClientBase): Promise<ServerFacts> {
  const res = await client.query<{ version: number; superuser: boolean; scram_iterations: string | null }>(
    `SELECT current_setting('server_version_num')::int AS version,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            current_setting('scram_iterations', true) AS scram_iterations`,
  );
  const row = res.rows[0];
  const iterations = Number(row?.scram_iterations ?? NaN);
  return {
    major: Math.floor(Number(row?.version ?? 0) / 10000),
    superuser: row?.superuser === true,
    ...(Number.isInteger(iterations) && iterations >= 1 ? { scramIterations: iterations } : {}),
  };
}

/**
 * The statement that makes the connection user inherit the privileges of
 * `username`, so that it may end its sessions, REASSIGN OWNED and DROP
 * OWNED; undefined for a superuser, who needs none. SET is not needed and
 * not given on 16+, where the grant can say so.
 */
export function membershipGrant(facts: ServerFacts, username: string): string | undefined {
  if (facts.superuser) return undefined;
  const role = quoteIdentifier(username);
  return facts.major >= GRANT_OPTIONS_MAJOR ? `GRANT ${role} TO CURRENT_USER WITH INHERIT TRUE, SET FALSE` : `GRANT ${role} TO CURRENT_USER`;
}
