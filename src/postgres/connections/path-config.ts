// `config/:name` and `config/`: database connections, with the field names
// and defaults of Vault's database engine (path_config_connection.go).

import { FORWARD_WRITES, genericNameRegex, optionalTrailingSlash, type FieldData, type Path } from '../../framework';
import { errorResponse, type Request, type Response } from '../../vault';
import {
  CONFIG_DEFAULTS,
  PASSWORD_AUTHENTICATIONS,
  configReadView,
  type ConnectionConfig,
  type PasswordAuthentication,
} from './connection-config';
import { ConnectionStringError, clientConfig, hasLiteralUrlPassword, unusedTlsWarnings } from './dsn';
import type { Engine } from '../engine';
import { sentOrStored } from '../field-update';
import { passwordUnusedProblem, statementListProblem } from '../sql/statements';
import { compileUsernameTemplate, generateUsername } from '../users/username';
import { DatabaseUnreachable } from './verify';
import { NO_ROTATION, rootRotationTiming, rotates } from '../rotation-schedule';

const CONFIG_FIELDS = {
  name: { type: 'string', description: 'Name of this database connection.', required: true },
  plugin_name: {
    type: 'string',
    description:
      "Accepted for compatibility with Vault's database engine (e.g. postgresql-database-plugin) and shown on read; this plugin always talks to PostgreSQL.",
  },
  connection_url: {
    type: 'string',
    description:
      'PostgreSQL connection string: a URL (postgresql://{{username}}:{{password}}@host:5432/db?sslmode=verify-full) or libpq key=value pairs. {{username}} and {{password}} are replaced by the username and password fields. sslmode works as in libpq (default prefer); sslrootcert, sslcert and sslkey name files on the Vault server. Required when the connection is created.',
  },
  username: { type: 'string', description: 'Root user the plugin connects as; fills {{username}}.' },
  password: { type: 'string', description: 'Password of the root user; fills {{password}}. Never returned by reads.', sensitive: true },
  disable_escaping: {
    type: 'bool',
    description: 'Insert username and password into a URL connection_url verbatim instead of URL-escaping them.',
    default: false,
  },
  verify_connection: {
    type: 'bool',
    description: 'Connect to the database once when the configuration is written, and refuse it if that fails.',
    default: CONFIG_DEFAULTS.verifyConnection,
  },
  allowed_roles: {
    type: 'comma-string-slice',
    description: 'Roles allowed to use this connection: names or globs ("app-*"); "*" allows all. Empty allows none.',
  },
  max_open_connections: {
    type: 'int',
    description: 'Maximum number of open connections to the database.',
    default: CONFIG_DEFAULTS.maxOpenConnections,
  },
  max_idle_connections: {
    type: 'int',
    description: 'Maximum number of idle connections kept; 0 or more than max_open_connections means max_open_connections.',
    default: CONFIG_DEFAULTS.maxIdleConnections,
  },
  max_connection_lifetime: {
    type: 'duration',
    description: 'Maximum time a connection may be reused (e.g. "1h"); 0 means no limit.',
    default: '0s',
  },
  username_template: {
    type: 'string',
    description:
      'Template for generated usernames, e.g. "v-{{.RoleName}}-{{random 8}}". Empty: v-<display name>-<role>-<random>-<unix time>, at most 63 bytes.',
  },
  password_policy: { type: 'string', description: 'Name of a Vault password policy used to generate passwords. Empty: 24 random characters.' },
  password_authentication: {
    type: 'string',
    description:
      'How passwords reach PostgreSQL: "scram-sha-256" sends a SCRAM verifier so the cleartext never reaches the server or its logs (with the iteration count of the connection user\'s scram_iterations on PostgreSQL 16+, 4096 before); "password" sends the cleartext.',
    default: CONFIG_DEFAULTS.passwordAuthentication,
  },
  root_rotation_statements: {
    type: 'string-slice',
    description: 'Statements run by rotate-root, with {{name}}/{{username}} and {{password}}. Empty: ALTER ROLE … WITH PASSWORD.',
  },
  tls_ca: {
    type: 'string',
    description:
      "PEM CA certificate(s) to check the server certificate against (libpq's sslrootcert, by value): with sslmode verify-full, verify-ca, or require (which then checks the chain, as verify-ca); without sslmode it means verify-full.",
  },
  tls_certificate: { type: 'string', description: 'PEM client certificate for certificate authentication; sent whenever the connection uses TLS.' },
  private_key: { type: 'string', description: 'PEM private key of tls_certificate. Never returned by reads.', sensitive: true },
  rotation_period: {
    type: 'duration',
    description:
      'Rotate the root password automatically this often (at least 5s), as rotate-root does. Mutually exclusive with rotation_schedule; 0 turns it off.',
  },
  rotation_schedule: {
    type: 'string',
    description:
      'Rotate the root password automatically at the times of this five-field cron schedule, in UTC (e.g. "0 3 * * SAT"). Mutually exclusive with rotation_period; "" turns it off.',
  },
  rotation_window: {
    type: 'duration',
    description:
      'With rotation_schedule: how long after each scheduled time the rotation may still run (at least 1h); past it, the rotation waits for the next scheduled time. 0: no limit.',
  },
  disable_automated_rotation: {
    type: 'bool',
    description: 'Stop rotating the root password automatically, keeping rotation_period or rotation_schedule for later.',
    default: false,
  },
} as const;

/** The two config paths. */
export function configPaths(engine: Engine): Path[] {
  return [
    {
      pattern: `config/${genericNameRegex('name')}`,
      fields: CONFIG_FIELDS,
      existenceCheck: async (req, data) => (await engine.configs.get(req.storage, data.getString('name'))) !== undefined,
      operations: {
        create: { callback: (req, data) => writeConfig(engine, req, data), summary: 'Create a database connection.', ...FORWARD_WRITES },
        update: { callback: (req, data) => writeConfig(engine, req, data), summary: 'Update a database connection.', ...FORWARD_WRITES },
        read: { callback: (req, data) => readConfig(engine, req, data), summary: 'Read a database connection (secrets redacted).' },
        delete: { callback: (req, data) => deleteConfig(engine, req, data), summary: 'Delete a database connection.', ...FORWARD_WRITES },
      },
      helpSynopsis: 'Configure a connection to a PostgreSQL database.',
      helpDescription: CONFIG_HELP,
    },
    {
      pattern: `config${optionalTrailingSlash}`,
      operations: {
        list: {
          callback: async (req) => ({ data: { keys: await engine.configs.list(req.storage) } }),
          summary: 'List database connections.',
        },
      },
      helpSynopsis: 'List the configured database connections.',
      helpDescription: 'Lists the names of the configured database connections.',
    },
  ];
}

async function writeConfig(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  // Under the root rotation's lock: a rotation (rotate-root, or the automated
  // one) between reading the stored config and writing it back would have its
  // new password overwritten with the old one, locking the connection out.
  return engine.rotations.withRootLock(name, () => writeConfigLocked(engine, req, data, name));
}

async function writeConfigLocked(engine: Engine, req: Request, data: FieldData, name: string): Promise<Response | undefined> {
  const existing = await engine.configs.get(req.storage, name);
  if (!existing && !data.getOk('connection_url').ok) return errorResponse('connection_url is required when creating a connection');

  // Fields left out of an update keep their stored values, as in Vault.
  const pick = <T>(field: string, stored: T | undefined, read: (f: string) => T): T => sentOrStored(data, field, stored, read);
  const str = (f: string) => data.getString(f);
  const config: ConnectionConfig = {
    pluginName: pick('plugin_name', existing?.pluginName, str),
    connectionUrl: pick('connection_url', existing?.connectionUrl, str).trim(),
    username: pick('username', existing?.username, str),
    password: pick('password', existing?.password, str),
    disableEscaping: pick('disable_escaping', existing?.disableEscaping, (f) => data.getBool(f)),
    verifyConnection: data.getBool('verify_connection'),
    allowedRoles: pick('allowed_roles', existing?.allowedRoles, (f) => data.getStringSlice(f)),
    maxOpenConnections: pick('max_open_connections', existing?.maxOpenConnections, (f) => data.getInt(f)),
    maxIdleConnections: pick('max_idle_connections', existing?.maxIdleConnections, (f) => data.getInt(f)),
    maxConnectionLifetime: pick('max_connection_lifetime', existing?.maxConnectionLifetime, (f) => data.getDuration(f)),
    usernameTemplate: pick('username_template', existing?.usernameTemplate, str),
    passwordPolicy: pick('password_policy', existing?.passwordPolicy, str),
    passwordAuthentication: pick('password_authentication', existing?.passwordAuthentication, (f) =>
      data.getString(f) as PasswordAuthentication,
    ),
    rootRotationStatements: pick('root_rotation_statements', existing?.rootRotationStatements, (f) => data.getStringSlice(f)),
    tlsCa: pick('tls_ca', existing?.tlsCa, str),
    tlsCertificate: pick('tls_certificate', existing?.tlsCertificate, str),
    privateKey: pick('private_key', existing?.privateKey, str),
    rootRotation: existing?.rootRotation ?? NO_ROTATION,
    disableAutomatedRotation: pick('disable_automated_rotation', existing?.disableAutomatedRotation, (f) => data.getBool(f)),
  };
  const sentField = <T>(field: string, read: (f: string) => T): T | undefined => (data.getOk(field).ok ? read(field) : undefined);
  const timing = rootRotationTiming(
    {
      period: sentField('rotation_period', (f) => data.getDuration(f)),
      schedule: sentField('rotation_schedule', str),
      window: sentField('rotation_window', (f) => data.getDuration(f)),
    },
    config.rootRotation,
    engine.now(),
  );
  if ('problem' in timing) return errorResponse(timing.problem);
  config.rootRotation = timing.timing;

  const problem = validateConfig(config) ?? automatedRotationProblem(config);
  if (problem) return errorResponse(problem);
  let pgConfig;
  try {
    pgConfig = clientConfig(config, { checkTlsMaterial: true });
  } catch (err) {
    if (err instanceof ConnectionStringError) return errorResponse(err.message);
    throw err;
  }
  if (config.verifyConnection) {
    try {
      await engine.verify(pgConfig);
    } catch (err) {
      if (err instanceof DatabaseUnreachable) return errorResponse(`error verifying connection: ${err.message}`);
      throw err;
    }
  }
  await engine.configs.put(req.storage, name, config);
  await engine.pools.close(name);
  await engine.rotations.rootConfigChanged(req.storage, name, existing?.rootRotation);
  const warnings = [...passwordInUrlWarning(config), ...unusedTlsWarnings(config)];
  return warnings.length > 0 ? { warnings } : undefined;
}

/**
 * Why the automated root rotation a config asks for could never run (what
 * rotate-root refuses), in words for the operator; undefined if it can, or
 * none is asked for. Without this check it would fail on every attempt, seen
 * only in the server log.
 */
function automatedRotationProblem(config: ConnectionConfig): string | undefined {
  if (config.disableAutomatedRotation || !rotates(config.rootRotation)) return undefined;
  const field = config.rootRotation.period > 0 ? 'rotation_period' : 'rotation_schedule';
  if (config.username === '') return `${field} needs the username field: the automated root rotation changes that user's password`;
  if (hasLiteralUrlPassword(config.connectionUrl)) {
    return `${field} needs {{password}} in connection_url instead of a literal password, or the rotated password could not be used`;
  }
  return undefined;
}

/** The first problem with a config, in words for the operator; undefined if none. */
function validateConfig(config: ConnectionConfig): string | undefined {
  if (config.connectionUrl === '') return 'connection_url must not be empty';
  if (config.maxOpenConnections < 1) return 'max_open_connections must be at least 1';
  if (config.maxIdleConnections < 0) return 'max_idle_connections must not be negative';
  if (!PASSWORD_AUTHENTICATIONS.includes(config.passwordAuthentication)) {
    return `password_authentication must be one of ${PASSWORD_AUTHENTICATIONS.join(', ')}; got ${JSON.stringify(config.passwordAuthentication)}`;
  }
  if ((config.tlsCertificate === '') !== (config.privateKey === '')) {
    return 'tls_certificate and private_key must be given together';
  }
  if (config.usernameTemplate !== '') {
    try {
      // Rendered once for a short role name: a template that can make no
      // usable username (NUL, too long, empty) is refused here; one too
      // long only for long role names, when such a role is written.
      generateUsername(compileUsernameTemplate(config.usernameTemplate), { displayName: 'token', roleName: 'r' });
    } catch (err) {
      return `username_template is invalid: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const rotation = statementListProblem(config.rootRotationStatements, ROTATION_VARIABLES) ?? passwordUnusedProblem(config.rootRotationStatements);
  if (rotation !== undefined) return `root_rotation_statements: ${rotation}`;
  return undefined;
}

/** Template variables root_rotation_statements may use; {{name}} and {{username}} are the root user. */
const ROTATION_VARIABLES = ['name', 'username', 'password'];

/** Vault warns when the root password sits in the URL instead of {{password}}. */
function passwordInUrlWarning(config: ConnectionConfig): string[] {
  if (!hasLiteralUrlPassword(config.connectionUrl)) return [];
  return ['connection_url contains a literal password; use {{password}} and the password field so that rotate-root can change it'];
}

async function readConfig(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const config = await engine.configs.get(req.storage, data.getString('name'));
  return config ? { data: configReadView(config) } : undefined;
}

async function deleteConfig(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  await engine.rotations.withRootLock(name, async () => {
    await engine.configs.delete(req.storage, name);
    await engine.pools.close(name);
    await engine.rotations.rootConfigChanged(req.storage, name, undefined);
  });
  return undefined;
}

const CONFIG_HELP = `
Configures how the plugin connects to a PostgreSQL database as a privileged
("root") user, which roles may use the connection, and how the credentials it
issues are generated.

  vault write pg/config/main \\
      connection_url='postgresql://{{username}}:{{password}}@db.example.com:5432/postgres?sslmode=verify-full' \\
      username=vault password=... allowed_roles='app-*'

Reads never return the password, the private key or a password embedded in
connection_url. With verify_connection=true (the default) the write fails
with PostgreSQL's error if the database cannot be reached or refuses the
credentials, and nothing is stored.

Automated root rotation: with rotation_period (e.g. "24h") or
rotation_schedule (five-field cron, UTC, optionally with rotation_window),
the plugin rotates the root password as rotate-root/<name> does, WAL-protected
against crashes. disable_automated_rotation=true pauses it. Rotations are
never run on a performance standby or performance secondary.
`.trim();
