// A static role (`static-roles/:name`): an existing database user whose
// password this mount owns and rotates, with Vault's field names; with
// `rotation_strategy=dual`, two users that take turns. Stored at
// `static-role/<name>` (Vault's key) with the credential state: which user
// is handed out, its password, and when it was and will next be rotated.

import type { StoredKind } from '../cached-store';
import { numberField, stringField, stringListField } from '../stored-fields';
import { timingView, type RotationTiming } from '../rotation-schedule';
import { isPlainObject } from '../../framework';

/** `single`: one user, rotated in place (Vault). `dual`: two users; each rotation changes the one not handed out. */
export const ROTATION_STRATEGIES = ['single', 'dual'] as const;
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];

/** Storage prefix of static roles. */
export const STATIC_ROLE_PREFIX = 'static-role/';

/** A static role as the engine uses it. Times are ms since the epoch, 0 for never. */
export interface StaticRole {
  dbName: string;
  /** The database user (dual: the first one handed out). Never changes. */
  username: string;
  /** Dual only: the other user; '' for single. Never changes. */
  secondaryUsername: string;
  rotationStrategy: RotationStrategy;
  timing: RotationTiming;
  /** Empty: ALTER ROLE … WITH PASSWORD. */
  rotationStatements: string[];
  /** Only `password`. */
  credentialType: 'password';
  /** `password_policy`: a Vault password policy overriding the connection's. */
  credentialConfig: Record<string, string>;
  /** The role was created without rotating the password. */
  skipImportRotation: boolean;
  /** The user static-creds hands out ('' before the first rotation of a role created without a password). */
  activeUsername: string;
  /** Its password; '' when not known (created with skip_import_rotation and no password). */
  password: string;
  /** When the password was last rotated by this mount; 0: never. */
  lastVaultRotation: number;
  /** When the next rotation is due; 0: none scheduled. */
  nextVaultRotation: number;
  /** Why the last attempt failed; '' after a success. */
  lastRotationError: string;
}

/** The users a role manages. */
export function managedUsers(role: Pick<StaticRole, 'username' | 'secondaryUsername' | 'rotationStrategy'>): string[] {
  return role.rotationStrategy === 'dual' ? [role.username, role.secondaryUsername] : [role.username];
}

/** The user the next rotation changes: single, the one user; dual, the one not handed out. */
export function rotationTarget(role: StaticRole): string {
  if (role.rotationStrategy !== 'dual' || role.activeUsername === '') return role.username;
  return role.activeUsername === role.username ? role.secondaryUsername : role.username;
}

interface StoredStaticRole {
  db_name: string;
  username: string;
  secondary_username: string;
  rotation_strategy: RotationStrategy;
  rotation_period: number;
  rotation_schedule: string;
  rotation_window: number;
  rotation_statements: string[];
  credential_type: 'password';
  credential_config: Record<string, string>;
  skip_import_rotation: boolean;
  active_username: string;
  password: string;
  last_vault_rotation: string;
  next_vault_rotation: string;
  last_rotation_error: string;
}

function toStored(role: StaticRole): StoredStaticRole {
  return {
    db_name: role.dbName,
    username: role.username,
    secondary_username: role.secondaryUsername,
    rotation_strategy: role.rotationStrategy,
    rotation_period: role.timing.period,
    rotation_schedule: role.timing.schedule,
    rotation_window: role.timing.window,
    rotation_statements: role.rotationStatements,
    credential_type: role.credentialType,
    credential_config: role.credentialConfig,
    skip_import_rotation: role.skipImportRotation,
    active_username: role.activeUsername,
    password: role.password,
    last_vault_rotation: isoTime(role.lastVaultRotation),
    next_vault_rotation: isoTime(role.nextVaultRotation),
    last_rotation_error: role.lastRotationError,
  };
}

function decode(value: Buffer): StaticRole {
  const s: unknown = JSON.parse(value.toString('utf8'));
  const config = isPlainObject(s) && isPlainObject(s['credential_config']) ? s['credential_config'] : {};
  return {
    dbName: stringField(s, 'db_name'),
    username: stringField(s, 'username'),
    secondaryUsername: stringField(s, 'secondary_username'),
    rotationStrategy: stringField(s, 'rotation_strategy') === 'dual' ? 'dual' : 'single',
    timing: { period: numberField(s, 'rotation_period'), schedule: stringField(s, 'rotation_schedule'), window: numberField(s, 'rotation_window') },
    rotationStatements: stringListField(s, 'rotation_statements'),
    credentialType: 'password',
    credentialConfig: Object.fromEntries(Object.entries(config).filter((e): e is [string, string] => typeof e[1] === 'string')),
    skipImportRotation: isPlainObject(s) && s['skip_import_rotation'] === true,
    activeUsername: stringField(s, 'active_username'),
    password: stringField(s, 'password'),
    lastVaultRotation: msTime(stringField(s, 'last_vault_rotation')),
    nextVaultRotation: msTime(stringField(s, 'next_vault_rotation')),
    lastRotationError: stringField(s, 'last_rotation_error'),
  };
}

/** How static roles are stored: `static-role/<name>`. */
export const STATIC_ROLE_KIND: StoredKind<StaticRole> = {
  prefix: STATIC_ROLE_PREFIX,
  encode: (role) => Buffer.from(JSON.stringify(toStored(role))),
  decode,
};

/** Go's zero time as Vault's JSON shows it: what last_vault_rotation says before any rotation. */
export const GO_ZERO_TIME_TEXT = '0001-01-01T00:00:00Z';

/** RFC 3339 (UTC, milliseconds); '' for 0. */
export function isoTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '';
}

function msTime(text: string): number {
  const ms = text === '' ? 0 : Date.parse(text);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * What `read static-roles/:name` returns: Vault's fields (only the timing
 * fields in use, last_vault_rotation once there was one, credential_config
 * when set) plus rotation_strategy, secondary_username (dual) and
 * skip_import_rotation. Never the password.
 */
export function staticRoleReadView(role: StaticRole): Record<string, unknown> {
  const view: Record<string, unknown> = {
    db_name: role.dbName,
    username: role.username,
    rotation_statements: role.rotationStatements,
    credential_type: role.credentialType,
    rotation_strategy: role.rotationStrategy,
    skip_import_rotation: role.skipImportRotation,
    ...timingView(role.timing),
  };
  if (role.rotationStrategy === 'dual') view['secondary_username'] = role.secondaryUsername;
  if (role.lastVaultRotation > 0) view['last_vault_rotation'] = isoTime(role.lastVaultRotation);
  if (Object.keys(role.credentialConfig).length > 0) view['credential_config'] = role.credentialConfig;
  return view;
}
