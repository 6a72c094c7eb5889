// `creds/:name`: issues a database user under a lease.
//
// Crash safety: a WAL entry naming the user is written before CREATE ROLE and
// deleted once the response is built. If the process dies in between, the
// periodic rollback finds the entry and drops the user, so no role outlives
// a crash without a lease.

import { calculateTtl, deleteWal, genericNameRegex, putWal, secretResponse, type FieldData, type Path, type SecretType } from '../framework';
import { errorMessage, errorResponse, retryableError, type Request, type Response } from '../vault';
import { roleAllowed } from './connection-config';
import { createUser } from './create-user';
import type { Engine } from './engine';
import { formatExpiration, validUntil } from './expiration';
import { sqlState } from './retry';
import type { CredsInternalData } from './secret-creds';
import { generateUsername } from './username';
import { describeDatabaseError } from './verify';
import { WAL_CREATED_USER, type CreatedUserWal } from './wal-rollback';

/** The creds path. */
export function credsPaths(engine: Engine, creds: SecretType): Path[] {
  return [
    {
      pattern: `creds/${genericNameRegex('name')}`,
      fields: { name: { type: 'string', description: 'Name of the role to issue credentials for.', required: true } },
      operations: {
        read: { callback: (req, data) => issueCreds(engine, creds, req, data), summary: 'Issue credentials for a role.' },
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

  const username = generateUsername(engine.usernameTemplate(conn.config), { displayName: req.displayName, roleName });
  const policy = role.credentialConfig['password_policy'] || conn.config.passwordPolicy;
  const wal: CreatedUserWal = { username, db_name: role.dbName, role: roleName, rollback_statements: role.rollbackStatements };
  // Independent steps run together: the WAL write and the lease limits are
  // round trips to Vault, the password's SCRAM hashing runs on the thread pool.
  const [walWrite, lease, secret] = await Promise.allSettled([
    putWal(req.storage, WAL_CREATED_USER, wal),
    calculateTtl(engine.leaseLimits(req.systemView), { backendTtl: role.defaultTtl, backendMaxTtl: role.maxTtl }),
    engine.newPassword(req.systemView, conn.config, policy),
  ]);
  if (walWrite.status === 'rejected') throw walWrite.reason;
  const walId = walWrite.value;
  if (lease.status === 'rejected') {
    await deleteWal(req.storage, walId);
    throw lease.reason;
  }
  if (secret.status === 'rejected') {
    await deleteWal(req.storage, walId);
    return errorResponse(
      `generating a password with password policy "${policy}" failed: ${errorMessage(secret.reason)} (check that "vault read sys/policies/password/${policy}" works)`,
    );
  }
  const { ttl } = lease.value;
  const password = secret.value;

  try {
    await createUser(conn.pool, role.creationStatements, { username, passwordValue: password.value, expiration: formatExpiration(validUntil(ttl)) }, req.signal);
  } catch (err) {
    // A SQL error means Postgres rolled the transaction back: nothing to undo.
    // Anything else (connection lost mid-commit) may have committed, so the
    // WAL entry stays for rollback to settle.
    if (sqlState(err) !== undefined) await deleteWal(req.storage, walId);
    throw retryableError(`creating database user for role "${roleName}" failed: ${describeDatabaseError(err)}`, err);
  }
  engine.checkpoint('creds-after-create');

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
  await deleteWal(req.storage, walId);
  engine.log.debug({ username, role: roleName }, 'issued database user');
  return resp;
}

const CREDS_HELP = `
Reading creds/<role> creates a PostgreSQL user with a random password using
the role's creation statements, and returns it under a Vault lease:

  vault read pg/creds/app

The user is created in one transaction with VALID UNTIL set shortly after the
lease's end, so PostgreSQL refuses logins even if a revocation is missed.
Renewing the lease (vault lease renew) moves VALID UNTIL; revoking it, or its
expiry, drops the user.
`.trim();
