// The plugin as an application reaches it: through the conformance host's
// HTTP API (`GET pg/creds/app`, `PUT sys/leases/revoke`), which forwards to
// the plugin over go-plugin gRPC exactly as Vault does.

import { registerAndMount, type VaultHost } from '../scripts/lib/vault-host';
import type { PostgresServer } from '../scripts/lib/postgres';
import type { Operation } from './load';

export const PLUGIN_NAME = 'vault-plugin-secrets-postgres';
export const MOUNT = 'pg';
export const ROLE = 'app';
export const CREATION_STATEMENTS =
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON bench_t TO "{{name}}";`;
/** Role TTL; the floor renders VALID UNTIL from the same value. */
export const DEFAULT_TTL_SECONDS = 3600;

type Reply = Awaited<ReturnType<VaultHost['request']>>;

function expectStatus(res: Reply, ok: readonly number[], what: string): void {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.text.trim().slice(0, 300)}`);
}

/**
 * Registers and mounts the plugin, writes config/main (pool of `poolSize`)
 * and roles/app. Returns the catalog command (the binary's name inside the
 * host's plugin dir), to find the plugin process by.
 */
export async function mountPlugin(host: VaultHost, pg: PostgresServer, binary: string, poolSize: number, env: string[]): Promise<string> {
  const { command } = await registerAndMount(host, { name: PLUGIN_NAME, binaryPath: binary, mount: MOUNT, env });
  const config = await host.request('POST', `${MOUNT}/config/main`, {
    connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres?sslmode=disable`,
    username: pg.user,
    password: pg.password,
    allowed_roles: ROLE,
    max_open_connections: poolSize,
    // Keep every connection: with fewer idle ones the plugin closes them after 1 s and reconnects.
    max_idle_connections: poolSize,
  });
  expectStatus(config, [200, 204], 'config write');
  const role = await host.request('POST', `${MOUNT}/roles/${ROLE}`, {
    db_name: 'main',
    creation_statements: CREATION_STATEMENTS,
    default_ttl: `${DEFAULT_TTL_SECONDS}s`,
    max_ttl: '24h',
  });
  expectStatus(role, [200, 204], 'role write');
  return command;
}

/** `GET pg/creds/app`; each issued lease id is appended to `leases`. */
export function issueViaHost(host: VaultHost, leases: string[]): Operation {
  return async () => {
    const res = await host.request('GET', `${MOUNT}/creds/${ROLE}`);
    expectStatus(res, [200], 'creds read');
    const leaseId: unknown = res.body?.lease_id;
    if (typeof leaseId !== 'string' || leaseId === '') throw new Error(`creds read returned no lease_id: ${res.text.slice(0, 200)}`);
    leases.push(leaseId);
  };
}

/** `PUT sys/leases/revoke` (synchronous: the reply comes after the plugin dropped the user) of `leases[offset + i]`. */
export function revokeViaHost(host: VaultHost, leases: readonly string[], offset: number): Operation {
  return async (index) => {
    const leaseId = leases[offset + index];
    if (leaseId === undefined) throw new Error(`no lease at ${offset + index}`);
    expectStatus(await host.request('PUT', 'sys/leases/revoke', { lease_id: leaseId }), [200, 204], 'lease revoke');
  };
}

/** A request that reaches the host only (no plugin): the HTTP floor. */
export function hostOnly(host: VaultHost): Operation {
  return async () => expectStatus(await host.request('GET', 'sys/health'), [200], 'sys/health');
}

/** A plugin round trip without database work: reading the role (served from the plugin's cache). */
export function pluginRoundTrip(host: VaultHost): Operation {
  return async () => expectStatus(await host.request('GET', `${MOUNT}/roles/${ROLE}`), [200], 'role read');
}

/** The same plus one plugin→host storage round trip over the go-plugin broker: listing roles is never cached. */
export function pluginStorageRoundTrip(host: VaultHost): Operation {
  return async () => expectStatus(await host.request('GET', `${MOUNT}/roles?list=true`), [200], 'role list');
}
