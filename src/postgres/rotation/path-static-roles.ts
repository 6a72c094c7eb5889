// `static-roles/:name`, `static-roles/`, `static-creds/:name` and
// `rotate-role/:name`: existing database users whose passwords this mount
// owns and rotates, with the field names and shapes of Vault's database
// engine (path_roles.go, path_creds_create.go, path_rotate_credentials.go).
//
// Beyond Vault: rotation_strategy=dual (two users take turns, so a password
// handed out keeps working for a full period after the next rotation),
// skip_import_rotation without an Enterprise licence, and rotation errors
// shown on static-creds. Deleting a static role never touches its users.

import { FORWARD_WRITES, genericNameRegex, optionalTrailingSlash, type FieldData, type Path } from '../../framework';
import { errorMessage, errorResponse, retryableError, type Request, type Response } from '../../vault';
import { isConnectionName, roleAllowed } from '../connections/connection-config';
import { describeDatabaseError } from '../connections/verify';
import type { Connection, Engine } from '../engine';
import { nextRotation, sameTiming, staticRoleTiming, type RotationTiming } from '../rotation-schedule';
import { refusedStatement } from '../sql/refused-statement';
import { LOCK_NOT_AVAILABLE, sqlState } from '../sql/retry';
import { parseStatementsInput, passwordUnusedProblem, statementListProblem } from '../sql/statements';
import { staticLockKey } from './queue';
import { connectionUser, connectionUserProblem, missingUsers, ROTATION_VARIABLES, tryRotationStatements } from './rotate-static';
import { GO_ZERO_TIME_TEXT, isoTime, managedUsers, ROTATION_STRATEGIES, staticRoleReadView, type RotationStrategy, type StaticRole } from './static-role';

const STATEMENTS_NOTE =
  'Accepts a ";"-separated string, a JSON array, or base64 of either; DO $$ … $$ bodies and quoted ";" are kept intact.';
/** Keys credential_config takes for credential_type=password. */
const PASSWORD_CREDENTIAL_KEYS = ['password_policy'];

const NAME_FIELD = { name: { type: 'string', description: 'Name of the static role.', required: true } } as const;

const STATIC_ROLE_FIELDS = {
  ...NAME_FIELD,
  db_name: { type: 'string', description: 'Name of the database connection (config/<db_name>) the user lives in. Required on create.' },
  username: {
    type: 'string',
    description: 'The existing database user whose password this role manages. Required on create; cannot be changed.',
  },
  secondary_username: {
    type: 'string',
    description: 'With rotation_strategy=dual: the second existing database user, taking turns with username. Required then; cannot be changed.',
  },
  rotation_strategy: {
    type: 'string',
    description:
      '"single": rotate the one user\'s password in place (Vault\'s behaviour). "dual": manage username and secondary_username; each rotation changes the password of the user not handed out last, and static-creds then hands that one out, so a password read from static-creds keeps working for a full rotation after the next one. Set on create only.',
    default: 'single',
  },
  rotation_period: {
    type: 'duration',
    description: 'Rotate the password this often (at least 5s). Mutually exclusive with rotation_schedule; one of them is required on create.',
  },
  rotation_schedule: {
    type: 'string',
    description: 'Rotate the password at the times of this five-field cron schedule, in UTC (e.g. "0 0 * * SAT"). Mutually exclusive with rotation_period.',
  },
  rotation_window: {
    type: 'duration',
    description:
      'With rotation_schedule: how long after each scheduled time the rotation may run (at least 1h); past it, the rotation waits for the next scheduled time. Absent: no limit.',
  },
  rotation_statements: {
    type: 'string-slice',
    description: `Statements that change the password, with {{name}}/{{username}} and {{password}} (quoted for where they stand). Empty: ALTER ROLE {{name}} WITH PASSWORD {{password}}. ${STATEMENTS_NOTE}`,
  },
  credential_type: { type: 'string', description: 'Type of credential managed; only "password".', default: 'password' },
  credential_config: { type: 'map', description: 'Settings of the credential type: password_policy (a Vault password policy overriding the connection\'s).' },
  skip_import_rotation: {
    type: 'bool',
    description:
      'Create the role without rotating the password: the user keeps the password it has until the first scheduled rotation (or rotate-role), and static-creds returns an empty password until then. Applies on create only.',
    default: false,
  },
} as const;

/** The four static-role paths. */
export function staticRolePaths(engine: Engine): Path[] {
  return [
    {
      pattern: `static-roles/${genericNameRegex('name')}`,
      fields: STATIC_ROLE_FIELDS,
      existenceCheck: async (req, data) => (await engine.staticRoles.get(req.storage, data.getString('name'))) !== undefined,
      operations: {
        create: { callback: (req, data) => writeStaticRole(engine, req, data), summary: 'Create a static role.', ...FORWARD_WRITES },
        update: { callback: (req, data) => writeStaticRole(engine, req, data), summary: 'Update a static role.', ...FORWARD_WRITES },
        read: { callback: (req, data) => readStaticRole(engine, req, data), summary: 'Read a static role (never its password).' },
        delete: { callback: (req, data) => deleteStaticRole(engine, req, data), summary: 'Delete a static role; its database users are left as they are.', ...FORWARD_WRITES },
      },
      helpSynopsis: 'Manage the password of an existing database user.',
      helpDescription: STATIC_ROLE_HELP,
    },
    {
      pattern: `static-roles${optionalTrailingSlash}`,
      operations: {
        list: { callback: async (req) => ({ data: { keys: await engine.staticRoles.list(req.storage) } }), summary: 'List static roles.' },
      },
      helpSynopsis: 'List the static roles.',
      helpDescription: 'Lists the names of the static roles.',
    },
    {
      pattern: `static-creds/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      operations: { read: { callback: (req, data) => readStaticCreds(engine, req, data), summary: "Read a static role's current username and password." } },
      helpSynopsis: "Read a static role's current credentials.",
      helpDescription: STATIC_CREDS_HELP,
    },
    {
      pattern: `rotate-role/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      operations: { update: { callback: (req, data) => rotateRole(engine, req, data), summary: "Rotate a static role's password now.", ...FORWARD_WRITES } },
      helpSynopsis: "Rotate a static role's password now.",
      helpDescription: ROTATE_ROLE_HELP,
    },
  ];
}

async function writeStaticRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  if ((await engine.roles.get(req.storage, name)) !== undefined) {
    return errorResponse(`role "${name}" is a dynamic role (roles/${name}); role and static role names must be unique`);
  }
  await engine.rotations.start();
  return engine.rotations.withLock(staticLockKey(name), async () => {
    const existing = await engine.staticRoles.get(req.storage, name);
    const built = buildRole(engine, data, existing);
    if (typeof built === 'string') return errorResponse(built);
    const role = built;

    const conn = isConnectionName(role.dbName) ? await engine.connection(req.storage, role.dbName) : undefined;
    if (!conn) return errorResponse(`db_name "${role.dbName}" does not name a configured connection (write config/${role.dbName} first)`);
    if (!roleAllowed(conn.config, name)) return errorResponse(`"${name}" is not an allowed role of connection "${role.dbName}"; add it to that config's allowed_roles`);
    const taken = await managedByAnother(engine, req, name, role);
    if (taken !== undefined) return errorResponse(taken);
    const rolePolicy = role.credentialConfig['password_policy'] ?? '';
    // An update that leaves the connection, the statements and the policy as
    // they were (users are immutable) needs no answer from the database, so
    // it is accepted while the database is unreachable, as Vault does: only
    // what the write changes is checked again.
    const checkedBefore =
      existing !== undefined &&
      existing.dbName === role.dbName &&
      (existing.credentialConfig['password_policy'] ?? '') === rolePolicy &&
      existing.rotationStatements.length === role.rotationStatements.length &&
      existing.rotationStatements.every((statement, i) => statement === role.rotationStatements[i]);
    if (!checkedBefore) {
      const problem = await checkAgainstDatabase(engine, req, role, conn, rolePolicy);
      if (problem !== undefined) return errorResponse(problem);
    }

    // A role moved to another connection holds the password of the old one's server: rotated like a new role's.
    const moved = existing !== undefined && existing.dbName !== role.dbName && role.password !== '';
    if ((existing !== undefined && !moved) || (existing === undefined && role.skipImportRotation)) {
      await engine.staticRoles.put(req.storage, name, role);
      engine.rotations.staticRoleChanged(name, role);
      return undefined;
    }
    const what = existing === undefined ? 'the new static role' : `static role "${name}" on connection "${role.dbName}"`;
    const undone = existing === undefined ? 'the role was not created' : 'db_name was not changed';
    // Created with rotation: the role exists only once the password is Vault's (Vault deletes it when the first rotation fails).
    // Dual: both users' passwords become Vault's, secondary_username's first (as if username had been handed out),
    // so that no password from before the import keeps working and username is handed out.
    const first: StaticRole = role.rotationStrategy === 'dual' ? { ...role, activeUsername: role.username } : role;
    await engine.staticRoles.put(req.storage, name, first);
    const result = await engine.rotations.rotateStaticNow(req.storage, req.systemView, name, first);
    if (result.kind === 'rotated') {
      if (role.rotationStrategy !== 'dual') return undefined;
      const second = await engine.rotations.rotateStaticNow(req.storage, req.systemView, name, result.role);
      if (second.kind === 'rotated') return undefined;
      // The role works (secondary_username is handed out); the queue retries username's rotation.
      return { warnings: [`the password of ${JSON.stringify(role.username)} for ${what} could not be rotated yet and will be retried: ${second.message}`] };
    }
    if (result.pending === undefined) {
      if (existing === undefined) await engine.staticRoles.delete(req.storage, name);
      else await engine.staticRoles.put(req.storage, name, existing);
      engine.rotations.staticRoleChanged(name, existing);
      if (result.refused) return errorResponse(`the password of ${what} could not be rotated, so ${undone}: ${result.message}`);
      throw retryableError(`the password of ${what} could not be rotated, so ${undone}: ${result.message}`);
    }
    // The change may have reached the database: the role stays, and the queue finishes the rotation.
    throw retryableError(`the first rotation of static role "${name}" did not finish and will be retried: ${result.message}`);
  });
}

/**
 * What the database must confirm before `role` is stored: the password
 * policy makes a password, the users exist, none is the user the connection
 * logs in as, and the rotation statements run (in a rolled-back
 * transaction). Returns the problem for a 400, or undefined; throws a
 * retryable error when the database cannot be asked.
 */
async function checkAgainstDatabase(engine: Engine, req: Request, role: StaticRole, conn: Connection, rolePolicy: string): Promise<string | undefined> {
  // The statements are tried with a password of the policy rotations will use: a policy that cannot make one is refused now.
  const policy = rolePolicy || conn.config.passwordPolicy;
  let password: string;
  try {
    password = await engine.policyPassword(req.systemView, policy);
  } catch (err) {
    const field = rolePolicy !== '' ? 'credential_config: password_policy' : `password_policy of connection "${role.dbName}"`;
    return `${field} ${JSON.stringify(policy)} cannot generate a password: ${errorMessage(err)}`;
  }
  try {
    const value = await engine.passwordValue(conn, password);
    const missing = await missingUsers(conn.pool, managedUsers(role));
    if (missing.length > 0) return `database user(s) ${missing.map((u) => JSON.stringify(u)).join(', ')} do not exist on connection "${role.dbName}"; a static role manages existing users`;
    const loginUser = await connectionUser(conn.pool);
    const field = loginUser === role.username ? 'username' : role.rotationStrategy === 'dual' && loginUser === role.secondaryUsername ? 'secondary_username' : undefined;
    if (field !== undefined) return `${field}: ${connectionUserProblem(loginUser, role.dbName)}`;
    return await tryRotationStatements(conn.pool, role.rotationStatements, managedUsers(role), value, engine.rotations.lockTimeoutMs);
  } catch (err) {
    if (refusedStatement(err) && sqlState(err) !== LOCK_NOT_AVAILABLE) return `the rotation statements could not be tried on connection "${role.dbName}": ${describeDatabaseError(err)}`;
    throw retryableError(`checking the static role on connection "${role.dbName}" failed: ${describeDatabaseError(err)}`, err);
  }
}

/**
 * The problem when another static role on the same connection manages one of
 * `role`'s users: each rotation of one role would break the password the
 * other hands out.
 */
async function managedByAnother(engine: Engine, req: Request, name: string, role: StaticRole): Promise<string | undefined> {
  const fields: [string, string][] = [['username', role.username]];
  if (role.rotationStrategy === 'dual') fields.push(['secondary_username', role.secondaryUsername]);
  for (const otherName of await engine.staticRoles.list(req.storage)) {
    if (otherName === name || otherName.endsWith('/')) continue;
    const other = await engine.staticRoles.get(req.storage, otherName);
    if (other === undefined || other.dbName !== role.dbName) continue;
    const users = managedUsers(other);
    const clash = fields.find(([, user]) => users.includes(user));
    if (clash !== undefined) {
      return `${clash[0]}: database user ${JSON.stringify(clash[1])} is already managed by static role "${otherName}" on connection "${role.dbName}"; two roles rotating one user would each break the password the other hands out`;
    }
  }
  return undefined;
}


/** The role a write leads to (fields left out keep their stored values), or the problem in words for the operator. */
function buildRole(engine: Engine, data: FieldData, existing: StaticRole | undefined): StaticRole | string {
  const sent = (field: string): boolean => data.getOk(field).ok;
  const now = engine.now();

  const username = data.getString('username');
  if (existing === undefined && username === '') return 'username is required to create a static role';
  if (existing !== undefined && sent('username') && username !== existing.username) return 'username cannot be changed on an existing static role';

  const strategy = data.getString('rotation_strategy');
  if (!(ROTATION_STRATEGIES as readonly string[]).includes(strategy)) {
    return `rotation_strategy must be one of ${ROTATION_STRATEGIES.join(', ')}; got ${JSON.stringify(strategy)}`;
  }
  if (existing !== undefined && sent('rotation_strategy') && strategy !== existing.rotationStrategy) return 'rotation_strategy cannot be changed on an existing static role';
  const rotationStrategy: RotationStrategy = existing?.rotationStrategy ?? (strategy === 'dual' ? 'dual' : 'single');

  const secondary = data.getString('secondary_username');
  if (existing !== undefined && sent('secondary_username') && secondary !== existing.secondaryUsername) return 'secondary_username cannot be changed on an existing static role';
  const secondaryUsername = existing?.secondaryUsername ?? secondary;
  if (rotationStrategy === 'dual' && secondaryUsername === '') return 'secondary_username is required with rotation_strategy=dual';
  if (rotationStrategy === 'single' && secondaryUsername !== '') return 'secondary_username applies only to rotation_strategy=dual';
  if (rotationStrategy === 'dual' && secondaryUsername === (existing?.username ?? username)) return 'secondary_username must name a different user than username';

  const dbName = sent('db_name') ? data.getString('db_name') : (existing?.dbName ?? '');
  if (dbName === '') return 'db_name is required to create a static role';

  const timing = staticRoleTiming(
    {
      period: sent('rotation_period') ? data.getDuration('rotation_period') : undefined,
      schedule: sent('rotation_schedule') ? data.getString('rotation_schedule') : undefined,
      window: sent('rotation_window') ? data.getDuration('rotation_window') : undefined,
    },
    existing?.timing,
    now,
  );
  if ('problem' in timing) return timing.problem;

  let rotationStatements = existing?.rotationStatements ?? [];
  if (sent('rotation_statements') || existing === undefined) {
    try {
      rotationStatements = parseStatementsInput(data.getStringSlice('rotation_statements'));
    } catch (err) {
      return `rotation_statements could not be parsed: ${errorMessage(err)}`;
    }
  }
  const statementProblem = statementListProblem(rotationStatements, ROTATION_VARIABLES) ?? passwordUnusedProblem(rotationStatements);
  if (statementProblem !== undefined) return `rotation_statements: ${statementProblem}`;

  const credentialType = data.getString('credential_type');
  if (credentialType !== 'password') return `credential_type must be password; got ${JSON.stringify(credentialType)}`;
  let credentialConfig = existing?.credentialConfig ?? {};
  if (sent('credential_config')) {
    const map = data.getMap('credential_config');
    const unknownKeys = Object.keys(map).filter((k) => !PASSWORD_CREDENTIAL_KEYS.includes(k));
    if (unknownKeys.length > 0) return `credential_config: unknown key(s) ${unknownKeys.join(', ')}; accepted: ${PASSWORD_CREDENTIAL_KEYS.join(', ')}`;
    const policy = map['password_policy'];
    if (policy !== undefined && typeof policy !== 'string') return 'credential_config: password_policy must be a string';
    credentialConfig = policy === undefined || policy === '' ? {} : { password_policy: policy };
  }

  const skipImportRotation = existing?.skipImportRotation ?? data.getBool('skip_import_rotation');
  return {
    dbName,
    username: existing?.username ?? username,
    secondaryUsername,
    rotationStrategy,
    timing: timing.timing,
    rotationStatements,
    credentialType: 'password',
    credentialConfig,
    skipImportRotation,
    activeUsername: existing?.activeUsername ?? (skipImportRotation ? username : ''),
    password: existing?.password ?? '',
    lastVaultRotation: existing?.lastVaultRotation ?? 0,
    nextVaultRotation: nextAfterWrite(existing, timing.timing, now),
    lastRotationError: existing?.lastRotationError ?? '',
  };
}

/**
 * When the next rotation is due after a write: unchanged when the timing
 * is; a new period counts from the last rotation (or now, if there was
 * none, or if that time has passed); a new schedule from now.
 */
function nextAfterWrite(existing: StaticRole | undefined, timing: RotationTiming, now: Date): number {
  if (existing !== undefined && existing.nextVaultRotation > 0 && sameTiming(existing.timing, timing)) return existing.nextVaultRotation;
  const base = timing.period > 0 && existing !== undefined && existing.lastVaultRotation > 0 ? new Date(existing.lastVaultRotation) : now;
  const next = nextRotation(timing, base)?.getTime() ?? 0;
  return next > 0 && next < now.getTime() ? now.getTime() : next;
}

async function readStaticRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const role = await engine.staticRoles.get(req.storage, data.getString('name'));
  return role ? { data: staticRoleReadView(role) } : undefined;
}

async function deleteStaticRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  await engine.rotations.withLock(staticLockKey(name), async () => {
    await engine.staticRoles.delete(req.storage, name);
    engine.rotations.staticRoleChanged(name, undefined);
  });
  return undefined;
}

async function readStaticCreds(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  // An interrupted rotation is finished first: the password handed out is the one the database has.
  await engine.rotations.start();
  const role = await engine.staticRoles.get(req.storage, name);
  if (!role) return errorResponse(`unknown static role: ${name}`);
  const now = engine.now().getTime();
  const view: Record<string, unknown> = {
    username: role.activeUsername || role.username,
    password: role.password,
    last_vault_rotation: role.lastVaultRotation > 0 ? isoTime(role.lastVaultRotation) : GO_ZERO_TIME_TEXT,
    ttl: role.nextVaultRotation > 0 ? Math.max(0, Math.floor((role.nextVaultRotation - now) / 1000)) : 0,
    ...timingView(role),
  };
  if (role.rotationStrategy === 'dual') view['rotation_strategy'] = 'dual';
  if (role.lastRotationError !== '') view['last_rotation_error'] = role.lastRotationError;
  return { data: view };
}

/** The timing fields static-creds shows, as Vault: only those in use. */
function timingView(role: StaticRole): Record<string, unknown> {
  const view = staticRoleReadView(role);
  const out: Record<string, unknown> = {};
  for (const key of ['rotation_period', 'rotation_schedule', 'rotation_window']) if (key in view) out[key] = view[key];
  return out;
}

async function rotateRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  await engine.rotations.start();
  return engine.rotations.withLock(staticLockKey(name), async () => {
    const role = await engine.staticRoles.get(req.storage, name);
    if (!role) return errorResponse(`no static role found for role name "${name}"`);
    const result = await engine.rotations.rotateStaticNow(req.storage, req.systemView, name, role);
    if (result.kind === 'rotated') return undefined;
    if (result.refused) return errorResponse(`rotating static role "${name}" failed: ${result.message}`);
    throw retryableError(`rotating static role "${name}" failed and will be retried: ${result.message}`);
  });
}

const STATIC_ROLE_HELP = `
A static role manages the password of a database user that already exists
(a migration user, a reporting account, a service that cannot change
usernames). The plugin rotates the password every rotation_period, or at the
times of rotation_schedule (five-field cron, UTC) within rotation_window, and
static-creds/<name> returns the current one.

  vault write pg/static-roles/reporting db_name=main username=reporting \\
      rotation_period=24h

The password is rotated when the role is created (with dual, both users')
unless skip_import_rotation=true. rotation_strategy=dual manages two users
(username and secondary_username): each rotation changes the password of the
user not handed out last, and static-creds then hands that one out, so a
password read from static-creds keeps working for a full rotation after the
next one. Role names are shared with roles/. Reads never return the password.
Deleting a static role leaves the database users as they are.
`.trim();

const STATIC_CREDS_HELP = `
Returns the static role's current username and password, when it was last
rotated (last_vault_rotation), the seconds until the next rotation (ttl), and
its rotation_period or rotation_schedule/rotation_window. With
rotation_strategy=dual, the user handed out changes at each rotation. When
the last automated rotation failed, last_rotation_error says why (it is
retried with backoff).
`.trim();

const ROTATE_ROLE_HELP = `
Rotates the static role's password now; the next scheduled rotation counts
from this one. With rotation_strategy=dual, the user not handed out gets the
new password and is handed out from now on.
`.trim();
