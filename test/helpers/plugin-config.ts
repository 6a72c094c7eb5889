/** Writing the plugin's own configuration through Vault's API, shared by the e2e tests. */
import type { PostgresServer } from './postgres';

/**
 * Body of `<mount>/config/<name>`: `pg`'s superuser over TCP on 127.0.0.1
 * (where a server on this machine reaches the tests' PostgreSQL), with
 * `allowed_roles` as given (`*`, a glob or a comma-separated list).
 */
export function connectionConfig(pg: PostgresServer, allowedRoles: string): Record<string, string> {
  return {
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres`,
    username: pg.user,
    password: pg.password,
    allowed_roles: allowedRoles,
  };
}
