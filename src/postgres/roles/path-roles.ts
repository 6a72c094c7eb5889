// `roles/:name` and `roles/`: what a credential is made of, with the field
// names and shapes of Vault's database engine (path_roles.go). Every
// statement list is tried in a transaction that is rolled back
// (validate-role.ts), so a typo is a 400 at role write rather than a failure
// at the first `creds` read or a lease that cannot be revoked.

import { calculateTtl, FORWARD_WRITES, genericNameRegex, optionalTrailingSlash, type FieldData, type Path } from '../../framework';
import { errorMessage, errorResponse, retryableError, type Request, type Response } from '../../vault';
import type { LoginState } from '../users/create-user';
import type { Engine } from '../engine';
import { sentOrStored } from '../field-update';
import { formatExpiration, validUntil } from '../users/expiration';
import { refusedStatement } from '../sql/refused-statement';
import { CREDENTIAL_TYPES, roleReadView, type CredentialType, type Role } from './role';
import { parseStatementsInput, statementListProblem } from '../sql/statements';
import { generateUsername, UsernameTemplateError } from '../users/username';
import { tryRoleStatements, type RoleTrial, type StatementProblem } from './validate-role';
import { isConnectionName } from '../connections/connection-config';
import { describeDatabaseError } from '../connections/verify';

const STATEMENTS_NOTE =
  'Accepts a ";"-separated string, a JSON array, or base64 of either; DO $$ … $$ bodies and quoted ";" are kept intact.';

const ROLE_FIELDS = {
  name: { type: 'string', description: 'Name of the role.', required: true },
  db_name: { type: 'string', description: 'Name of the database connection (config/<db_name>) this role uses. Required on create.' },
  creation_statements: {
    type: 'string-slice',
    description: `Statements that create the user, with {{name}}, {{password}} and {{expiration}}; run in one transaction. Required on create. ${STATEMENTS_NOTE}`,
  },
  revocation_statements: {
    type: 'string-slice',
    description: `Statements that remove the user, with {{name}}. Empty: NOLOGIN, end its sessions, REASSIGN OWNED and DROP OWNED in every database, DROP ROLE — revocation that always finishes. ${STATEMENTS_NOTE}`,
  },
  rollback_statements: {
    type: 'string-slice',
    description: `Statements that remove a user whose issuance was interrupted (crash before the lease was recorded), with {{name}}. Empty: as revocation. ${STATEMENTS_NOTE}`,
  },
  renew_statements: {
    type: 'string-slice',
    description: `Statements run on lease renewal, with {{name}} and {{expiration}}. Empty: ALTER ROLE … VALID UNTIL the new lease end. ${STATEMENTS_NOTE}`,
  },
  default_ttl: { type: 'duration', description: 'Lease duration of issued credentials (e.g. "1h"). 0: the mount default.', default: 0 },
  max_ttl: { type: 'duration', description: 'Maximum lifetime of issued credentials, renewals included. 0: the mount maximum.', default: 0 },
  credential_type: {
    type: 'string',
    description: 'Type of credential issued; only "password" is supported.',
    default: 'password',
  },
  credential_config: {
    type: 'map',
    description: 'Settings of the credential type: {"password_policy": "<Vault password policy>"} overrides the connection\'s password_policy.',
  },
  max_live_credentials: {
    type: 'int',
    description:
      'Most credentials of this role that may exist at once (users recorded in users/, issuing or issued); a creds read beyond it fails at once and creates nothing. 0: no limit.',
    default: 0,
  },
} as const;

/** Keys accepted in credential_config for password credentials. */
const PASSWORD_CREDENTIAL_KEYS = ['password_policy'];

/** Template variables each statement list may use. */
const ALLOWED_VARIABLES = {
  creation_statements: ['name', 'username', 'password', 'expiration'],
  revocation_statements: ['name', 'username'],
  rollback_statements: ['name', 'username'],
  renew_statements: ['name', 'username', 'expiration'],
} as const;

/** The two role paths. */
export function rolePaths(engine: Engine): Path[] {
  return [
    {
      pattern: `roles/${genericNameRegex('name')}`,
      fields: ROLE_FIELDS,
      existenceCheck: async (req, data) => (await engine.roles.get(req.storage, data.getString('name'))) !== undefined,
      operations: {
        create: { callback: (req, data) => writeRole(engine, req, data), summary: 'Create a role.', ...FORWARD_WRITES },
        update: { callback: (req, data) => writeRole(engine, req, data), summary: 'Update a role.', ...FORWARD_WRITES },
        read: { callback: (req, data) => readRole(engine, req, data), summary: 'Read a role.' },
        delete: {
          callback: (req, data) => deleteRole(engine, req, data),
          summary: 'Delete a role; issued credentials stay valid until their leases end.',
          ...FORWARD_WRITES,
        },
      },
      helpSynopsis: 'Manage the roles that credentials are issued for.',
      helpDescription: ROLES_HELP,
    },
    {
      pattern: `roles${optionalTrailingSlash}`,
      operations: {
        list: { callback: async (req) => ({ data: { keys: await engine.roles.list(req.storage) } }), summary: 'List roles.' },
      },
      helpSynopsis: 'List the configured roles.',
      helpDescription: 'Lists the names of the configured roles.',
    },
  ];
}

type StatementField = keyof typeof ALLOWED_VARIABLES;

async function writeRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  // One name space for roles/ and static-roles/, as in Vault.
  if ((await engine.staticRoles.get(req.storage, name)) !== undefined) return errorResponse(`role "${name}" is a static role (static-roles/${name}); role and static role names must be unique`);
  const existing = await engine.roles.get(req.storage, name);

  const statements = (field: StatementField, stored: string[] | undefined): string[] =>
    sentOrStored(data, field, stored, (f) => parseStatementsInput(data.getStringSlice(f)));
  const pick = <T>(field: string, stored: T | undefined, read: (f: string) => T): T => sentOrStored(data, field, stored, read);

  let role: Role;
  try {
    role = {
      dbName: pick('db_name', existing?.dbName, (f) => data.getString(f)),
      creationStatements: statements('creation_statements', existing?.creationStatements),
      revocationStatements: statements('revocation_statements', existing?.revocationStatements),
      rollbackStatements: statements('rollback_statements', existing?.rollbackStatements),
      renewStatements: statements('renew_statements', existing?.renewStatements),
      defaultTtl: pick('default_ttl', existing?.defaultTtl, (f) => data.getDuration(f)),
      maxTtl: pick('max_ttl', existing?.maxTtl, (f) => data.getDuration(f)),
      credentialType: pick('credential_type', existing?.credentialType, (f) => data.getString(f) as CredentialType),
      credentialConfig: pick('credential_config', existing?.credentialConfig, (f) => stringMap(data.getMap(f))),
      maxLiveCredentials: pick('max_live_credentials', existing?.maxLiveCredentials, (f) => data.getInt(f)),
    };
  } catch (err) {
    // The lexer names the problem and its position; statements carry no secrets.
    return errorResponse(`statements could not be parsed: ${errorMessage(err)}`);
  }

  const problem = validateRole(role);
  if (problem) return errorResponse(problem);

  // Connection names are generic names (config/<name>); anything else names none, and must not reach storage as a key.
  const conn = isConnectionName(role.dbName) ? await engine.connection(req.storage, role.dbName) : undefined;
  if (!conn) return errorResponse(`db_name "${role.dbName}" does not name a configured connection (write config/${role.dbName} first)`);

  // A username as creds would make it, for this role name and this caller.
  let username: string;
  try {
    username = generateUsername(engine.usernameTemplate(conn.config), { displayName: req.displayName || 'validate', roleName: name });
  } catch (err) {
    if (!(err instanceof UsernameTemplateError)) throw err;
    return errorResponse(
      `the username_template of connection "${role.dbName}" does not work for this role name (name "${name}"): ${err.message}; or choose a shorter role name`,
    );
  }

  // Try the statements with values like the real ones, then roll back.
  const { ttl } = await calculateTtl(engine.leaseLimits(req.systemView), { backendTtl: role.defaultTtl, backendMaxTtl: role.maxTtl });
  let trial: RoleTrial;
  try {
    const password = await engine.newPassword(req.systemView, conn, '');
    trial = await tryRoleStatements(conn.pool, role, { username, passwordValue: password.value, expiration: formatExpiration(validUntil(ttl)) });
  } catch (err) {
    // Refused outside any one list (e.g. no CREATEROLE for the throw-away user): the connection user's privileges are at fault.
    if (refusedStatement(err)) return errorResponse(`the statements could not be tried on connection "${role.dbName}": ${describeDatabaseError(err)}`);
    throw retryableError(`trying the role's statements on connection "${role.dbName}" failed: ${describeDatabaseError(err)}`, err);
  }
  if (trial.problems.length > 0) return errorResponse(trial.problems.map(problemText).join('; '));

  await engine.roles.put(req.storage, name, role);
  const warnings = [...trial.warnings, ...loginWarnings(trial.login, name)];
  return warnings.length > 0 ? { warnings } : undefined;
}


function problemText(problem: StatementProblem): string {
  if (problem.kind === 'template') return `${problem.field}: ${problem.message}`;
  const against = problem.field === 'creation_statements' ? '' : ', against a throw-away user';
  return `${problem.field} failed in a test transaction (rolled back${against}): ${problem.message}`;
}

/** At role write: the role's credentials will not be able to log in. */
function loginWarnings(login: LoginState, roleName: string): string[] {
  if (login === 'missing') return [`creation_statements create no role named {{name}}: credentials of role "${roleName}" will not be able to log in`];
  if (login === 'nologin') return [`creation_statements create {{name}} without LOGIN: credentials of role "${roleName}" will not be able to log in`];
  return [];
}

/** Values of a map field as strings; the map type may carry any JSON. */
function stringMap(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** The first problem with a role, in words for the operator; undefined if none. */
function validateRole(role: Role): string | undefined {
  if (role.dbName === '') return 'db_name is required';
  if (role.creationStatements.length === 0) return 'creation_statements is required: at least one statement, usually one that creates {{name}}';
  if (!CREDENTIAL_TYPES.includes(role.credentialType)) {
    return `credential_type must be one of ${CREDENTIAL_TYPES.join(', ')}; got ${JSON.stringify(role.credentialType)}`;
  }
  const unknownKeys = Object.keys(role.credentialConfig).filter((k) => !PASSWORD_CREDENTIAL_KEYS.includes(k));
  if (unknownKeys.length > 0) {
    return `credential_config: unknown key(s) ${unknownKeys.join(', ')}; accepted: ${PASSWORD_CREDENTIAL_KEYS.join(', ')}`;
  }
  if (role.maxTtl > 0 && role.defaultTtl > role.maxTtl) return 'default_ttl cannot be greater than max_ttl';
  if (role.maxLiveCredentials < 0) return `max_live_credentials must be 0 (no limit) or more; got ${role.maxLiveCredentials}`;
  const lists: Record<StatementField, string[]> = {
    creation_statements: role.creationStatements,
    revocation_statements: role.revocationStatements,
    rollback_statements: role.rollbackStatements,
    renew_statements: role.renewStatements,
  };
  for (const [field, list] of Object.entries(lists) as [StatementField, string[]][]) {
    // Transaction control is refused too: a COMMIT inside a list would
    // leave creation half done, and make the test transaction no test.
    const problem = statementListProblem(list, ALLOWED_VARIABLES[field]);
    if (problem !== undefined) return `${field}: ${problem}`;
  }
  return undefined;
}

async function readRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const role = await engine.roles.get(req.storage, data.getString('name'));
  return role ? { data: roleReadView(role) } : undefined;
}

async function deleteRole(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  await engine.roles.delete(req.storage, data.getString('name'));
  return undefined;
}

const ROLES_HELP = `
A role says how credentials are created: which connection (db_name), the SQL
that creates the user, and the lease durations.

  vault write pg/roles/app db_name=main default_ttl=1h max_ttl=24h \\
      creation_statements="CREATE ROLE \\"{{name}}\\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \\"{{name}}\\";"

Template values are inserted quoted for where they stand ("{{name}}" as an
identifier, '{{password}}' as a literal), never by raw substitution. Every
statement list is tried in a transaction that is rolled back when the role
is written (renew, revocation and rollback statements against the user the
creation statements make), so a typo is reported immediately, naming the
field. Without revocation_statements, revocation ends the user's sessions,
hands its objects to the connection user and drops it, in every database.
Revocation runs the role's current revocation_statements (those recorded at
issue once the role is deleted), so fixing a role makes its leases
revocable; a lease whose role was deleted cannot be renewed. Creation
statements that make no role named {{name}} are accepted, with a warning
that such credentials cannot log in.
max_live_credentials caps how many users of the role may exist at once; a
creds read beyond it fails at once and creates nothing.
`.trim();
