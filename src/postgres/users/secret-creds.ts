// The `creds` secret type: a database user under a Vault lease, with Vault's
// lease rules (builtin/logical/database/secret_creds.go):
//   - revocation runs the role's current revocation_statements while the
//     role exists, and those recorded at issue (internal data) once it is
//     deleted, so fixing a role makes its stuck leases revocable;
//   - renewal needs the role: a lease whose role was deleted cannot be
//     renewed, and nothing (lease, record, user) is touched.
// Both act on the connection the user was created through (internal data),
// even if the role now names another. Renewal moves the user record's lease
// end before it touches the database; revocation deletes the record once
// the user is gone. Where storage is read-only (a performance standby)
// both answer Vault's read-only error before anything else.

import { calculateTtl, storageReadOnly, type SecretType } from '../../framework';
import { ErrorKind, errorMessage, GO_ZERO_TIME, ReadOnlyError, retryableError, VaultError, type Request, type Response, type Secret } from '../../vault';
import type { Engine } from '../engine';
import { formatExpiration, validUntil } from './expiration';
import { renewUser, UserGone } from './renew-user';
import type { Role } from '../roles/role';
import { revokeUser } from './revoke-user';
import { numberField, stringField, stringListField } from '../stored-fields';
import { leaseEndAt, type UserRecord } from './record';
import { describeDatabaseError } from '../connections/verify';

/** Vault's database engine calls its dynamic secret type `creds`; so do we. */
export const CREDS_SECRET_TYPE = 'creds';

/** What a creds lease remembers. */
export interface CredsInternalData {
  username: string;
  role: string;
  db_name: string;
  revocation_statements: string[];
  renew_statements: string[];
  default_ttl: number;
  max_ttl: number;
}

/** Reads internal data written by any version of this plugin. */
function internalData(req: Request): CredsInternalData {
  const d = req.secret?.internalData;
  return {
    username: stringField(d, 'username'),
    role: stringField(d, 'role'),
    db_name: stringField(d, 'db_name'),
    revocation_statements: stringListField(d, 'revocation_statements'),
    renew_statements: stringListField(d, 'renew_statements'),
    default_ttl: numberField(d, 'default_ttl'),
    max_ttl: numberField(d, 'max_ttl'),
  };
}

/** The secret type, with renew and revoke bound to `engine`. */
export function credsSecret(engine: Engine): SecretType {
  return {
    type: CREDS_SECRET_TYPE,
    fields: {
      username: { type: 'string', description: 'Username of the database user.' },
      password: { type: 'string', description: 'Password of the database user.', sensitive: true },
    },
    renew: (req) => renewCreds(engine, req),
    revoke: (req) => revokeCreds(engine, req),
  };
}

async function connectionFor(engine: Engine, req: Request, lease: CredsInternalData) {
  if (lease.username === '' || lease.db_name === '') throw retryableError('lease has no username or db_name in its internal data');
  const conn = await engine.connection(req.storage, lease.db_name);
  if (!conn) {
    throw retryableError(
      `connection "${lease.db_name}" no longer exists; write config/${lease.db_name} again so the lease can be revoked, or force-revoke it`,
    );
  }
  return conn;
}

/** The role a lease was issued for, if it still exists. */
async function leaseRole(engine: Engine, req: Request, lease: CredsInternalData): Promise<Role | undefined> {
  return lease.role === '' ? undefined : engine.roles.get(req.storage, lease.role);
}

/** Vault's answer to renewing a lease whose role was deleted (secret_creds.go). */
export function roleNotFoundOnRenew(roleName: string): VaultError {
  return new VaultError(ErrorKind.Unknown, `error during renew: could not find role with name ${JSON.stringify(roleName)}`);
}

async function revokeCreds(engine: Engine, req: Request): Promise<Response | undefined> {
  // Elsewhere the user would be dropped and its record then fail to go.
  if (await storageReadOnly(req.systemView)) throw new ReadOnlyError();
  const lease = internalData(req);
  const conn = await connectionFor(engine, req, lease);
  const role = await leaseRole(engine, req, lease);
  const statements = role ? role.revocationStatements : lease.revocation_statements;
  try {
    await revokeUser(conn, lease.username, statements);
  } catch (err) {
    // Any failure is worth retrying (database down, object in use): never
    // report a kind that would make Vault give up on the lease at once.
    throw retryableError(`revoking database user ${lease.username} failed: ${describeDatabaseError(err)}`, err);
  }
  try {
    await engine.users.delete(req.storage, lease.username);
  } catch (err) {
    // Vault retries; dropping a user that is gone succeeds.
    throw retryableError(`deleting the record of database user ${lease.username} failed: ${errorMessage(err)}`, err);
  }
  engine.log.debug({ username: lease.username, role: lease.role }, 'revoked database user');
  return undefined;
}

async function renewCreds(engine: Engine, req: Request): Promise<Response | undefined> {
  if (await storageReadOnly(req.systemView)) throw new ReadOnlyError();
  const lease = internalData(req);
  const secret = req.secret;
  if (!secret) return undefined;
  // The role's current TTLs and renew statements apply, as in Vault.
  const role = await leaseRole(engine, req, lease);
  if (!role) throw roleNotFoundOnRenew(lease.role);
  const conn = await connectionFor(engine, req, lease);
  const { defaultTtl, maxTtl } = role;
  const { ttl } = await calculateTtl(engine.leaseLimits(req.systemView), {
    increment: secret.leaseOptions.increment,
    backendTtl: defaultTtl,
    backendMaxTtl: maxTtl,
    startTime: secret.leaseOptions.issueTime,
  });
  // The record first: from here on the sweep leaves the user alone until the
  // new lease end (plus its grace), even if what follows fails.
  try {
    await recordRenewal(engine, req, lease, secret, ttl);
  } catch (err) {
    throw retryableError(`recording the renewal of database user ${lease.username} failed: ${errorMessage(err)}`, err);
  }
  try {
    await renewUser(conn.pool, lease.username, formatExpiration(validUntil(ttl, engine.now())), role.renewStatements);
  } catch (err) {
    if (err instanceof UserGone) throw retryableError(`cannot renew: ${err.message}`);
    throw retryableError(`renewing database user ${lease.username} failed: ${describeDatabaseError(err)}`, err);
  }
  return {
    secret: { ...secret, leaseOptions: { ...secret.leaseOptions, ttl: defaultTtl, maxTtl } },
  };
}

/**
 * Moves the record's lease end to now + `ttl`. A lease issued by a version
 * that kept no records gets one here, so the sweep covers it from now on.
 */
async function recordRenewal(engine: Engine, req: Request, lease: CredsInternalData, secret: Secret, ttl: number): Promise<void> {
  const now = engine.now();
  const leaseEnd = leaseEndAt(now, ttl);
  const existing = await engine.users.get(req.storage, lease.username);
  const issueTime = secret.leaseOptions.issueTime.getTime() === GO_ZERO_TIME.getTime() ? now : secret.leaseOptions.issueTime;
  const issuedAt = Math.floor(issueTime.getTime() / 1000);
  const record: UserRecord = existing ?? {
    username: lease.username,
    dbName: lease.db_name,
    role: lease.role,
    state: 'issued',
    createdAt: issuedAt,
    leaseEnd,
    displayName: '',
    entityId: '',
    revocationStatements: lease.revocation_statements,
    rollbackStatements: [],
  };
  await engine.users.put(req.storage, { ...record, state: 'issued', issuedAt: record.issuedAt ?? issuedAt, leaseEnd });
}
