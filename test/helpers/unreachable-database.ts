/**
 * A mount whose database can never be reached: config `main` (allowing
 * every role) and role `app` are in storage, and every attempt to reach the
 * database (a connection check, a pooled connection) is recorded in
 * `touched` and fails with "the database was reached". For tests of what a
 * request does, and in which order, before and without the database.
 */
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { createLogger } from '../../src/log';
import { postgresBackendFactory } from '../../src/postgres';
import { decodeConfig, encodeConfig, type ConnectionConfig } from '../../src/postgres/connections/connection-config';
import { ROLE_KIND, type Role } from '../../src/postgres/roles/role';
import type { Operation, Request } from '../../src/vault';
import { InmemStorage, StaticSystemView, testRequest } from './fakes';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** Role `app` of the mount. */
export const UNREACHABLE_ROLE: Role = {
  dbName: 'main',
  creationStatements: ['CREATE ROLE "{{name}}" LOGIN'],
  revocationStatements: [],
  rollbackStatements: [],
  renewStatements: [],
  defaultTtl: 3600,
  maxTtl: 0,
  credentialType: 'password',
  credentialConfig: {},
  maxLiveCredentials: 0,
};

/** The mount on `storage` (written through InmemStorage's own put, whatever `storage` refuses); `config` overrides fields of config `main`. */
export async function unreachableDatabaseMount(storage: InmemStorage = new InmemStorage(), config: Partial<ConnectionConfig> = {}) {
  const touched: string[] = [];
  const main: ConnectionConfig = {
    ...decodeConfig(Buffer.from('{}')),
    connectionUrl: 'postgresql://{{username}}:{{password}}@db.invalid/app',
    username: 'vault',
    password: 'pw',
    allowedRoles: ['*'],
    ...config,
  };
  await InmemStorage.prototype.put.call(storage, { key: 'config/main', value: encodeConfig(main) });
  await InmemStorage.prototype.put.call(storage, { key: 'role/app', value: ROLE_KIND.encode(UNREACHABLE_ROLE) });
  const systemView = new StaticSystemView();
  const backend = await postgresBackendFactory(silent, {
    verify: async () => void touched.push('verify'),
    poolFactory: async (poolConfig) => {
      // A real pool object (creating one connects nowhere) whose connections all fail.
      const pool = new Pool(poolConfig);
      Object.defineProperty(pool, 'connect', {
        value: async () => {
          touched.push('connect');
          throw new Error('the database was reached');
        },
      });
      return pool;
    },
    now: () => new Date('2030-01-01T00:00:00Z'),
  })({ config: {}, backendUuid: 'unreachable-database', storage, systemView });
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}, extra: Partial<Request> = {}) =>
    backend.handleRequest(testRequest({ operation, path, data, storage, systemView, ...extra }));
  return { backend, storage, systemView, touched, call };
}
