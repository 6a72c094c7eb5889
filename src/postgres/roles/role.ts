// A role (`roles/:name`): which connection it uses, the statements that
// create, renew and revoke its users, and the lease durations. Stored at
// `role/<name>`, as Vault's database engine does.

import type { StoredKind } from '../cached-store';

/** The only credential type: a username and password. */
export const CREDENTIAL_TYPES = ['password'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** A role as the engine uses it; statement lists hold single statements. */
export interface Role {
  dbName: string;
  creationStatements: string[];
  /** Empty: the built-in revocation that always finishes. */
  revocationStatements: string[];
  /** Run instead of the built-in drop when an unfinished issuance is rolled back. */
  rollbackStatements: string[];
  /** Empty: ALTER ROLE … VALID UNTIL the new lease end. */
  renewStatements: string[];
  /** Seconds; 0: the mount's default lease TTL. */
  defaultTtl: number;
  /** Seconds; 0: the mount's maximum lease TTL. */
  maxTtl: number;
  credentialType: CredentialType;
  /** `password_policy`: a Vault password policy overriding the config's. */
  credentialConfig: Record<string, string>;
  /** Most users of this role recorded at once (issuing or issued); 0: no limit. */
  maxLiveCredentials: number;
}

interface StoredRole {
  db_name: string;
  creation_statements: string[];
  revocation_statements: string[];
  rollback_statements: string[];
  renew_statements: string[];
  default_ttl: number;
  max_ttl: number;
  credential_type: CredentialType;
  credential_config: Record<string, string>;
  max_live_credentials: number;
}

function toStored(role: Role): StoredRole {
  return {
    db_name: role.dbName,
    creation_statements: role.creationStatements,
    revocation_statements: role.revocationStatements,
    rollback_statements: role.rollbackStatements,
    renew_statements: role.renewStatements,
    default_ttl: role.defaultTtl,
    max_ttl: role.maxTtl,
    credential_type: role.credentialType,
    credential_config: role.credentialConfig,
    max_live_credentials: role.maxLiveCredentials,
  };
}

/** How roles are stored: `role/<name>`. */
export const ROLE_KIND: StoredKind<Role> = {
  prefix: 'role/',
  encode: (role) => Buffer.from(JSON.stringify(toStored(role))),
  decode: (value) => {
    const s = JSON.parse(value.toString('utf8')) as Partial<StoredRole>;
    return {
      dbName: s.db_name ?? '',
      creationStatements: s.creation_statements ?? [],
      revocationStatements: s.revocation_statements ?? [],
      rollbackStatements: s.rollback_statements ?? [],
      renewStatements: s.renew_statements ?? [],
      defaultTtl: s.default_ttl ?? 0,
      maxTtl: s.max_ttl ?? 0,
      credentialType: s.credential_type ?? 'password',
      credentialConfig: s.credential_config ?? {},
      maxLiveCredentials: s.max_live_credentials ?? 0,
    };
  },
};

/** What `read roles/:name` returns (Vault's shape: durations in seconds). */
export function roleReadView(role: Role): Record<string, unknown> {
  return toStored(role) as unknown as Record<string, unknown>;
}
