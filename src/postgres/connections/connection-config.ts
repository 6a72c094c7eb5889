// A named database connection (`config/:name`): how to reach Postgres as the
// root user, which roles may use it, and how credentials for it are made.
// Stored at `config/<name>` in the layout of Vault's database engine
// (top-level settings plus `connection_details`), so reads look familiar.

import { createHash } from 'node:crypto';
import { genericNameRegex } from '../../framework';
import type { ConnectionTarget } from './dsn';
import { redactConnectionUrl } from './dsn';
import type { StoredKind } from '../cached-store';
import type { RotationTiming } from '../rotation-schedule';

/** How the plugin sets passwords on the roles it creates. */
export type PasswordAuthentication = 'scram-sha-256' | 'password';

export const PASSWORD_AUTHENTICATIONS: readonly PasswordAuthentication[] = ['scram-sha-256', 'password'];

/** A connection config as the engine uses it. */
export interface ConnectionConfig extends ConnectionTarget {
  /** Recorded for compatibility with Vault's database engine; not used. */
  pluginName: string;
  /** Connect once when the config is written. */
  verifyConnection: boolean;
  /** Role names (or globs, `*` for all) allowed to use this connection; empty: none. */
  allowedRoles: string[];
  /** Pool size: connections open at once. */
  maxOpenConnections: number;
  /** Idle connections kept; never more than maxOpenConnections. */
  maxIdleConnections: number;
  /** Seconds after which a pooled connection is replaced; 0: never. */
  maxConnectionLifetime: number;
  /** Template for generated usernames; empty: the engine's default. */
  usernameTemplate: string;
  /** Vault password policy for generated passwords; empty: built-in generator. */
  passwordPolicy: string;
  /** `scram-sha-256`: Postgres receives a verifier, never the cleartext. */
  passwordAuthentication: PasswordAuthentication;
  /** Statements run by rotate-root; empty: ALTER ROLE … PASSWORD. */
  rootRotationStatements: string[];
  /** Automated root rotation (rotation_period, or rotation_schedule with rotation_window); NO_ROTATION: none. */
  rootRotation: RotationTiming;
  /** Automated root rotation is switched off (the timing is kept). */
  disableAutomatedRotation: boolean;
}

/** Defaults of a new config, as Vault's database engine has them. */
export const CONFIG_DEFAULTS = {
  verifyConnection: true,
  maxOpenConnections: 4,
  maxIdleConnections: 0,
  maxConnectionLifetime: 0,
  passwordAuthentication: 'scram-sha-256',
} as const;

/** How configs are stored: `config/<name>`. */
export const CONFIG_KIND: StoredKind<ConnectionConfig> = {
  prefix: 'config/',
  encode: (config) => encodeConfig(config),
  decode: (value) => decodeConfig(value),
};

/** The stored JSON form (Vault's DatabaseConfig layout). */
interface StoredConfig {
  plugin_name: string;
  verify_connection: boolean;
  allowed_roles: string[];
  password_policy: string;
  root_credentials_rotate_statements: string[];
  rotation_period: number;
  rotation_schedule: string;
  rotation_window: number;
  disable_automated_rotation: boolean;
  connection_details: {
    connection_url: string;
    username: string;
    password: string;
    disable_escaping: boolean;
    max_open_connections: number;
    max_idle_connections: number;
    max_connection_lifetime: number;
    username_template: string;
    password_authentication: PasswordAuthentication;
    tls_ca: string;
    tls_certificate: string;
    private_key: string;
  };
}

/** The stored form of a config. */
function toStored(config: ConnectionConfig): StoredConfig {
  return {
    plugin_name: config.pluginName,
    verify_connection: config.verifyConnection,
    allowed_roles: config.allowedRoles,
    password_policy: config.passwordPolicy,
    root_credentials_rotate_statements: config.rootRotationStatements,
    rotation_period: config.rootRotation.period,
    rotation_schedule: config.rootRotation.schedule,
    rotation_window: config.rootRotation.window,
    disable_automated_rotation: config.disableAutomatedRotation,
    connection_details: {
      connection_url: config.connectionUrl,
      username: config.username,
      password: config.password,
      disable_escaping: config.disableEscaping,
      max_open_connections: config.maxOpenConnections,
      max_idle_connections: config.maxIdleConnections,
      max_connection_lifetime: config.maxConnectionLifetime,
      username_template: config.usernameTemplate,
      password_authentication: config.passwordAuthentication,
      tls_ca: config.tlsCa,
      tls_certificate: config.tlsCertificate,
      private_key: config.privateKey,
    },
  };
}

/** Serialises a config for storage. */
export function encodeConfig(config: ConnectionConfig): Buffer {
  return Buffer.from(JSON.stringify(toStored(config)));
}

/** Reads a stored config; missing keys take today's defaults. */
export function decodeConfig(value: Buffer): ConnectionConfig {
  const stored = JSON.parse(value.toString('utf8')) as Partial<StoredConfig>;
  const d: Partial<StoredConfig['connection_details']> = stored.connection_details ?? {};
  return {
    pluginName: stored.plugin_name ?? '',
    verifyConnection: stored.verify_connection ?? CONFIG_DEFAULTS.verifyConnection,
    allowedRoles: stored.allowed_roles ?? [],
    passwordPolicy: stored.password_policy ?? '',
    rootRotationStatements: stored.root_credentials_rotate_statements ?? [],
    rootRotation: { period: stored.rotation_period ?? 0, schedule: stored.rotation_schedule ?? '', window: stored.rotation_window ?? 0 },
    disableAutomatedRotation: stored.disable_automated_rotation ?? false,
    connectionUrl: d.connection_url ?? '',
    username: d.username ?? '',
    password: d.password ?? '',
    disableEscaping: d.disable_escaping ?? false,
    maxOpenConnections: d.max_open_connections ?? CONFIG_DEFAULTS.maxOpenConnections,
    maxIdleConnections: d.max_idle_connections ?? CONFIG_DEFAULTS.maxIdleConnections,
    maxConnectionLifetime: d.max_connection_lifetime ?? CONFIG_DEFAULTS.maxConnectionLifetime,
    usernameTemplate: d.username_template ?? '',
    passwordAuthentication: d.password_authentication ?? CONFIG_DEFAULTS.passwordAuthentication,
    tlsCa: d.tls_ca ?? '',
    tlsCertificate: d.tls_certificate ?? '',
    privateKey: d.private_key ?? '',
  };
}

/** Identity of the settings a pool depends on; changes when any of them does. */
export function connectionVersion(config: ConnectionConfig): string {
  return createHash('sha256').update(encodeConfig(config)).digest('hex');
}

/** What `read config/:name` returns: the stored form without password or private key. */
export function configReadView(config: ConnectionConfig): Record<string, unknown> {
  const { password: _password, private_key: _privateKey, ...details } = toStored(config).connection_details;
  return {
    ...toStored(config),
    plugin_version: '',
    connection_details: { ...details, connection_url: redactConnectionUrl(config.connectionUrl) },
  };
}

/** Whether role `role` may use this connection (`*` and `?` globs allowed). */
export function roleAllowed(config: ConnectionConfig, role: string): boolean {
  return config.allowedRoles.some((pattern) => globMatch(pattern, role));
}

/**
 * `*` matches any run of characters, `?` any one; everything else itself.
 * Matched without regular expressions, in time proportional to the
 * pattern's length times the value's: a pattern of any size (the operator's
 * input) can neither exceed the regex engine's limits nor backtrack
 * exponentially.
 */
function globMatch(pattern: string, value: string): boolean {
  const p = [...pattern];
  const v = [...value];
  let pi = 0;
  let vi = 0;
  // Where the last `*` was, and how much of the value it has taken so far.
  let star = -1;
  let starValue = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === v[vi]))) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      starValue = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++starValue;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Vault's generic name rule, which config/<name> paths enforce. */
const CONNECTION_NAME = new RegExp(`^${genericNameRegex('name')}$`);

/** True when `name` is one a config/<name> path accepts: a role's db_name that is not can name no connection. */
export function isConnectionName(name: string): boolean {
  return CONNECTION_NAME.test(name);
}
