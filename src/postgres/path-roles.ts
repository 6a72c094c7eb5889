// `roles/:name` and `roles/`: what a credential is made of, with the field
// names and shapes of Vault's database engine (path_roles.go). Creation
// statements are tried in a transaction that is rolled back, so a typo is a
// 400 at role write rather than a failure at the first `creds` read.

import { genericNameRegex, optionalTrailingSlash, type FieldData, type Path } from '../framework';
import { errorMessage, errorResponse, type Request, type Response } from '../vault';
import { validateCreation } from './create-user';
import type { Engine } from './engine';
import { sentOrStored } from './field-update';
import { formatExpiration, validUntil } from './expiration';
import { sqlState } from './retry';
import { CREDENTIAL_TYPES, roleReadView, type CredentialType, type Role } from './role';
import { TemplateError, templateVariables } from './sql-template';
import { parseStatementsInput } from './statements';
import { generateUsername } from './username';
import { describeDatabaseError } from './verify';

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
        create: { callback: (req, data) => writeRole(engine, req, data), summary: 'Create a role.' },
        update: { callback: (req, data) => writeRole(engine, req, data), summary: 'Update a role.' },
        read: { callback: (req, data) => readRole(engine, req, data), summary: 'Read a role.' },
        delete: { callback: (req, data) => deleteRole(engine, req, data), summary: 'Delete a role; issued credentials stay valid until their leases end.' },
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

  const conn = await engine.connection(req.storage, role.dbName);
  if (!conn) return errorResponse(`db_name "${role.dbName}" does not name a configured connection (write config/${role.dbName} first)`);

  // Try the creation statements with values like the real ones, then roll back.
  const ttl = role.defaultTtl > 0 ? role.defaultTtl : await req.systemView.defaultLeaseTtl();
  try {
    const password = await engine.newPassword(req.systemView, conn.config, '');
    const username = generateUsername(engine.usernameTemplate(conn.config), { displayName: req.displayName || 'validate', roleName: name });
    await validateCreation(conn.pool, role.creationStatements, {
      username,
      passwordValue: password.value,
      expiration: formatExpiration(validUntil(ttl)),
    });
  } catch (err) {
    if (err instanceof TemplateError) return errorResponse(`creation_statements: ${err.message}`);
    if (sqlState(err) !== undefined) return errorResponse(`creation_statements failed in a test transaction (rolled back): ${describeDatabaseError(err)}`);
    throw err;
  }

  await engine.roles.put(req.storage, name, role);
  return undefined;
}

/** Values of a map field as strings; the map type may carry any JSON. */
function stringMap(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** The first problem with a role, in words for the operator; undefined if none. */
function validateRole(role: Role): string | undefined {
  if (role.dbName === '') return 'db_name is required';
  if (role.creationStatements.length === 0) return 'creation_statements is required: at least one statement that creates {{name}}';
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
    const allowed: readonly string[] = ALLOWED_VARIABLES[field];
    for (const statement of list) {
      let used: string[];
      try {
        used = templateVariables(statement);
      } catch (err) {
        return `${field}: ${errorMessage(err)}`;
      }
      const bad = used.filter((v) => !allowed.includes(v));
      if (bad.length > 0) return `${field}: {{${bad[0]}}} cannot be used here; allowed: ${allowed.map((v) => `{{${v}}}`).join(', ')}`;
    }
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
identifier, '{{password}}' as a literal), never by raw substitution. The
creation statements are tried in a transaction that is rolled back when the
role is written, so a typo is reported immediately. Without
revocation_statements, revocation ends the user's sessions, hands its objects
to the connection user and drops it, in every database.
max_live_credentials caps how many users of the role may exist at once; a
creds read beyond it fails at once and creates nothing.
`.trim();
