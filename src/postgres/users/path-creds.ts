// `creds/:name`: issues a database user under a lease.
//
// Crash safety: a user record (record.ts) in state `issuing` is
// written before CREATE ROLE and turned `issued`, with the lease end, before
// the response is built. Whenever the process dies, the periodic sweep
// (sweep.ts) finds the record: an `issuing` one whose request can no
// longer be running is rolled back, an `issued` one is dropped once its
// lease end plus a grace has passed. No role outlives its lease, whether or
// not Vault ever learned of it.

import { calculateTtl, FORWARD_WRITES, genericNameRegex, secretResponse, type FieldData, type Path, type SecretType, type TtlResult } from '../../framework';
import { errorMessage, errorResponse, retryableError, type Request, type Response } from '../../vault';
import { roleAllowed } from '../connections/connection-config';
import { createUser, loginWarning, type LoginState } from './create-user';
import type { Connection, Engine } from '../engine';
import { formatExpiration, validUntil } from './expiration';
import { sqlState } from '../sql/retry';
import type { Role } from '../roles/role';
import type { CredsInternalData } from './secret-creds';
import { leaseEndAt, type UserRecord } from './record';
import { indexed } from './user-records';
import { generateUsername, UsernameTemplateError } from './username';
import { describeDatabaseError } from '../connections/verify';

/** The creds path. */
export function credsPaths(engine: Engine, creds: SecretType): Path[] {
  return [
    {
      pattern: `creds/${genericNameRegex('name')}`,
      fields: { name: { type: 'string', description: 'Name of the role to issue credentials for.', required: true } },
      operations: {
        // Issuing writes a user record before CREATE ROLE.
        read: { callback: (req, data) => issueCreds(engine, creds, req, data), summary: 'Issue credentials for a role.', ...FORWARD_WRITES },
      },
      helpSynopsis: 'Request database credentials for a role.',
      helpDescription: CREDS_HELP,
    },
  ];
}

async function issueCreds(engine: Engine, creds: SecretType, req: Request, data: FieldData): Promise<Response | undefined> {
  const roleName = data.getString('name');
  const role = await engine.roles.get(req.storage, roleName);
  if (!role) return errorResponse(`unknown role: ${roleName}`);
  const conn = await engine.connection(req.storage, role.dbName);
  if (!conn) return errorResponse(`role "${roleName}" uses connection "${role.dbName}", which does not exist (write config/${role.dbName})`);
  if (!roleAllowed(conn.config, roleName)) {
    return errorResponse(`"${roleName}" is not an allowed role of connection "${role.dbName}"; add it to that config's allowed_roles`);
  }

  let username: string;
  try {
    username = generateUsername(engine.usernameTemplate(conn.config), { displayName: req.displayName, roleName });
  } catch (err) {
    // The role write tried the template with its writer's display name; this caller's may be longer.
    if (!(err instanceof UsernameTemplateError)) throw err;
    return errorResponse(
      `the username_template of connection "${role.dbName}" does not work for role "${roleName}" and display name ${JSON.stringify(req.displayName)}: ${err.message}`,
    );
  }
  const policy = role.credentialConfig['password_policy'] || conn.config.passwordPolicy;
  // Independent steps run together: the lease limits are a round trip to
  // Vault (usually cached), a password policy is one too, and the user index
  // (in memory once loaded) says which names and how many places are taken.
  const password = settle(engine.policyPassword(req.systemView, policy));
  const lease = settle(calculateTtl(engine.leaseLimits(req.systemView), { backendTtl: role.defaultTtl, backendMaxTtl: role.maxTtl }));
  const index = await engine.users.index(req.storage);
  const ttl = await lease;
  if (!ttl.ok) throw ttl.reason;

  const now = engine.now();
  const record: UserRecord = {
    username,
    dbName: role.dbName,
    role: roleName,
    state: 'issuing',
    createdAt: Math.floor(now.getTime() / 1000),
    leaseEnd: leaseEndAt(now, ttl.value.ttl),
    displayName: req.displayName,
    entityId: req.entityId,
    revocationStatements: role.revocationStatements,
    rollbackStatements: role.rollbackStatements,
  };
  // Counting and registering in one synchronous step: concurrent reads
  // cannot together pass the limit.
  const issuance = engine.users.beginIssuance(index, username, indexed(record), role.maxLiveCredentials);
  if ('limit' in issuance) {
    return errorResponse(
      `role "${roleName}" has ${issuance.live} live credentials, its max_live_credentials; revoke one or raise the limit`,
    );
  }
  if ('inUse' in issuance) {
    return errorResponse(
      `the username_template of connection "${role.dbName}" produced "${username}", which a live user of this mount already has; ` +
        'the template must give a new name every time (keep (random N) or unix_time in it)',
    );
  }
  try {
    return await issueRecorded(engine, creds, req, { role, record, conn, ttl: ttl.value, now, policy, password });
  } finally {
    issuance.end();
  }
}

/** What issueRecorded works with, all known before anything is written. */
interface Issue {
  role: Role;
  /** The `issuing` record to write. */
  record: UserRecord;
  conn: Connection;
  ttl: TtlResult;
  now: Date;
  policy: string;
  /** The new password (not yet hashed). */
  password: Promise<Settled<string>>;
}

/** Record, CREATE ROLE, record again, response: in that order, each step awaited. */
async function issueRecorded(engine: Engine, creds: SecretType, req: Request, issue: Issue): Promise<Response> {
  const { role, record, conn, ttl, now } = issue;
  const { username, role: roleName } = record;
  // The SCRAM hashing needs the pool's scram_iterations. Once the server has
  // told them, the password is hashed (on the thread pool) while the record
  // is written; a pool's first credential asks the server only after the
  // record is written, so that nothing reaches the database before it.
  const writing = settle(engine.users.put(req.storage, record));
  const early = conn.knownFacts() === undefined ? undefined : hashPassword(engine, conn, issue.password);
  const written = await writing;
  if (!written.ok) throw written.reason;
  const password = await (early ?? hashPassword(engine, conn, issue.password));
  if (!password.ok) {
    await forget(engine, req, username);
    if ('database' in password) {
      throw retryableError(`creating database user for role "${roleName}" failed: ${describeDatabaseError(password.database)}`, password.database);
    }
    return errorResponse(
      `generating a password with password policy "${issue.policy}" failed: ${errorMessage(password.policy)} (check that "vault read sys/policies/password/${issue.policy}" works)`,
    );
  }

  let login: LoginState;
  try {
    login = await createUser(conn.pool, role.creationStatements, { username, passwordValue: password.value, expiration: formatExpiration(validUntil(ttl.ttl, now)) }, req.signal);
  } catch (err) {
    // A SQL error means Postgres rolled the transaction back: nothing was
    // created. Anything else (connection lost mid-commit) may have
    // committed, so the record stays for the sweep to settle.
    if (sqlState(err) !== undefined) await forget(engine, req, username);
    throw retryableError(`creating database user for role "${roleName}" failed: ${describeDatabaseError(err)}`, err);
  }
  engine.checkpoint('creds-after-create');

  // Issued from here on. The lease Vault registers once it has the response
  // ends a moment after leaseEnd; the sweep's grace covers that moment.
  const issuedAt = engine.now();
  await engine.users.put(req.storage, { ...record, state: 'issued', issuedAt: Math.floor(issuedAt.getTime() / 1000), leaseEnd: leaseEndAt(issuedAt, ttl.ttl) });
  engine.checkpoint('creds-after-issued');

  const internal: CredsInternalData = {
    username,
    role: roleName,
    db_name: role.dbName,
    revocation_statements: role.revocationStatements,
    renew_statements: role.renewStatements,
    default_ttl: role.defaultTtl,
    max_ttl: role.maxTtl,
  };
  const resp = secretResponse(creds, { username, password: password.password }, { ...internal }, { ttl: role.defaultTtl, maxTtl: role.maxTtl });
  // Creation statements may make no role of the user's name (a bootstrap DO block) or one without LOGIN.
  const warning = loginWarning(login, username);
  if (warning !== undefined) resp.warnings = [warning];
  engine.log.debug({ username, role: roleName }, 'issued database user');
  return resp;
}

/**
 * Deletes the record of a user that was never created. Failing to is no
 * reason to hide the request's own error: the sweep deletes the record later
 * (dropping a user that does not exist succeeds).
 */
async function forget(engine: Engine, req: Request, username: string): Promise<void> {
  try {
    await engine.users.delete(req.storage, username);
  } catch (err) {
    engine.log.warn({ username, error: errorMessage(err) }, 'could not delete the record of a user that was never created; the sweep will');
  }
}

/** A new password and its `{{password}}` value, or why there is none: the password policy failed, or the server could not be asked for its facts. */
type HashedPassword = { ok: true; password: string; value: string } | { ok: false; policy: unknown } | { ok: false; database: unknown };

/** Hashes the password once generated; never rejects. */
async function hashPassword(engine: Engine, conn: Connection, generated: Promise<Settled<string>>): Promise<HashedPassword> {
  const password = await generated;
  if (!password.ok) return { ok: false, policy: password.reason };
  const value = await settle(engine.passwordValue(conn, password.value));
  return value.ok ? { ok: true, password: password.value, value: value.value } : { ok: false, database: value.reason };
}

/** A promise's outcome, so that one started early never rejects unobserved. */
type Settled<T> = { ok: true; value: T } | { ok: false; reason: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (reason: unknown) => ({ ok: false, reason }),
  );
}

const CREDS_HELP = `
Reading creds/<role> creates a PostgreSQL user with a random password using
the role's creation statements, and returns it under a Vault lease:

  vault read pg/creds/app

The user is created in one transaction with VALID UNTIL set shortly after the
lease's end, so PostgreSQL refuses logins even if a revocation is missed.
Renewing the lease (vault lease renew) moves VALID UNTIL; revoking it, or its
expiry, drops the user. Every user is recorded (see users/) before it is
created, so one whose lease Vault never learned of, because a process died at
the wrong moment, is dropped by the periodic sweep once its lease would have
ended. A role with max_live_credentials refuses a read at once when that many
of its users are recorded.
`.trim();
