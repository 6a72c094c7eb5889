// `users/` (list) and `users/<username>` (read): who holds which database
// user. Answers come from the user records in storage, so they show every
// user this mount created and has not dropped, whether or not Vault holds
// a lease for it (an `issuing` user is one whose request is running or died
// before its lease was recorded).

import { matchAllRegex, optionalTrailingSlash, type FieldData, type Path } from '../../framework';
import type { Request, Response } from '../../vault';
import type { Engine } from '../engine';
import type { UserRecord } from './record';

/** The two users paths. */
export function userPaths(engine: Engine): Path[] {
  return [
    {
      pattern: `users${optionalTrailingSlash}`,
      operations: {
        list: { callback: (req) => listUsers(engine, req), summary: 'List the database users this mount created, with who holds each.' },
      },
      helpSynopsis: 'List the database users this mount created and has not dropped.',
      helpDescription: USERS_HELP,
    },
    {
      pattern: `users/${matchAllRegex('username')}`,
      fields: { username: { type: 'string', description: 'Name of the database user.', required: true } },
      operations: {
        read: { callback: (req, data) => readUser(engine, req, data), summary: 'Read what is recorded about one database user.' },
      },
      helpSynopsis: 'Read what is recorded about one database user.',
      helpDescription: USERS_HELP,
    },
  ];
}

/** What users/ shows of a record. Times are RFC 3339; issued_at is null while issuing. */
export function userView(record: UserRecord): Record<string, unknown> {
  return {
    role: record.role,
    db_name: record.dbName,
    state: record.state,
    created_at: rfc3339(record.createdAt),
    issued_at: record.issuedAt === undefined ? null : rfc3339(record.issuedAt),
    lease_end: rfc3339(record.leaseEnd),
    display_name: record.displayName,
    entity_id: record.entityId,
  };
}

async function listUsers(engine: Engine, req: Request): Promise<Response> {
  const records = await engine.users.list(req.storage);
  records.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  return {
    data: {
      keys: records.map((r) => r.username),
      key_info: Object.fromEntries(records.map((r) => [r.username, userView(r)])),
    },
  };
}

async function readUser(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const record = await engine.users.get(req.storage, data.getString('username'));
  return record === undefined ? undefined : { data: { username: record.username, ...userView(record) } };
}

/** Unix seconds as Vault prints times: RFC 3339, UTC, no zero fraction. */
function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

const USERS_HELP = `
Every database user this mount creates is recorded before CREATE ROLE and
stays recorded until it is dropped: by revocation, or by the periodic sweep
once its lease has ended. A list answers "who holds which database user":

  vault list -detailed pg/users
  vault read pg/users/v-token-app-0123456789ABCDEFGHIJ-1700000000

Each user shows its role, connection (db_name), state, when it was created
and issued, the lease end (moved by every renewal), and the display name and
entity id of the token that asked for it. State "issuing" means its request
is still running or died before Vault recorded a lease; the sweep drops such
a user once it is older than the mount's wal_rollback_min_age.
`.trim();
