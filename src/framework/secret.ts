// Leased secrets carry their type (sdk/framework Secret): the type name is
// stored in the lease's internal data under Vault's key `secret_type`, and
// renew/revoke requests are dispatched by it. Leases outlive plugin versions,
// so the key and its meaning must never change.

import { ErrorKind, VaultError, errorResponse, unsupportedOperation } from '../vault';
import type { Request, Response } from '../vault';
import { FieldData } from './field-data';
import type { FieldSchemas } from './field-schema';
import type { OperationHandler } from './path';

/** Where the Go framework keeps the secret type; kept for compatibility. */
export const SECRET_TYPE_KEY = 'secret_type';

/** Vault's answer for a lease this backend cannot handle. */
const UNSUPPORTED_SECRET = 'secret is unsupported by this backend';

/** A kind of leased secret the backend issues. */
export interface SecretType {
  /** Stored in every lease of this type; never rename it. */
  type: string;
  /** Schema of the response data, which renew/revoke receive back as `data`. Absent: none. */
  fields?: FieldSchemas;
  /** Lease TTL in seconds when the response does not set one. Absent: 0 (mount default). */
  defaultDuration?: number;
  /** Extends a lease. Absent: the secret is not renewable and renew gets UnsupportedOperation. */
  renew?: OperationHandler;
  /**
   * Destroys the secret; must be idempotent. Absent: revoke gets
   * UnsupportedOperation, which Vault treats as irrevocable at once.
   */
  revoke?: OperationHandler;
}

/** Lease parameters of a new secret, seconds. */
export interface SecretLease {
  /** Absent: the type's defaultDuration, else 0 (mount default). */
  ttl?: number;
  /** Absent or 0: only the mount/system maximum applies. */
  maxTtl?: number;
}

/**
 * A response issuing a secret of `secretType`: `data` goes to the client,
 * `internalData` (plus `secret_type`) stays with the lease for renew/revoke.
 */
export function secretResponse(
  secretType: SecretType,
  data: Record<string, unknown>,
  internalData: Record<string, unknown>,
  lease: SecretLease = {},
  now: Date = new Date(),
): Response {
  return {
    data,
    secret: {
      leaseOptions: {
        ttl: lease.ttl ?? secretType.defaultDuration ?? 0,
        maxTtl: lease.maxTtl ?? 0,
        renewable: secretType.renew !== undefined,
        increment: 0,
        issueTime: now,
      },
      internalData: { ...internalData, [SECRET_TYPE_KEY]: secretType.type },
      leaseId: '',
    },
  };
}

/** Runs the renew or revoke handler of the request's secret type. */
export async function dispatchSecretOperation(
  secretTypes: ReadonlyMap<string, SecretType>,
  req: Request,
): Promise<Response | undefined> {
  if (req.secret === undefined) {
    // Vault always sends the lease's secret; without it nothing can be done,
    // and retrying will not help.
    throw new VaultError(ErrorKind.InvalidRequest, 'request has no secret');
  }
  const typeName = req.secret.internalData[SECRET_TYPE_KEY];
  const secretType = typeof typeName === 'string' ? secretTypes.get(typeName) : undefined;
  if (secretType === undefined) return errorResponse(UNSUPPORTED_SECRET);
  let handler: OperationHandler | undefined;
  if (req.operation === 'renew') handler = secretType.renew;
  else if (req.operation === 'revoke') handler = secretType.revoke;
  if (handler === undefined) throw unsupportedOperation();
  return handler(req, new FieldData(req.data, secretType.fields ?? {}));
}
