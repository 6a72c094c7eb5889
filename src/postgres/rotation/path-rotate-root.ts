// `rotate-root/:name` and `reset/:name`.
//
// rotate-root gives the connection's root user a new password only Vault
// knows. A WAL entry holding the new password is written first; if the
// process dies after the database changed but before the config was saved,
// rollback finds that the new password works and stores it. The old
// password stops working; the config keeps working.

import { deleteWal, FORWARD_WRITES, genericNameRegex, putWal, type FieldData, type Path } from '../../framework';
import { errorResponse, retryableError, type Request, type Response } from '../../vault';
import { hasLiteralUrlPassword } from '../connections/dsn';
import type { Engine } from '../engine';
import { runQuery } from '../sql/query';
import { refusedStatement } from '../sql/refused-statement';
import { withConflictRetry } from '../sql/retry';
import { renderStatement, TemplateError } from '../sql/sql-template';
import { describeDatabaseError } from '../connections/verify';
import { WAL_ROTATE_ROOT, type RotateRootWal } from './wal-rollback';

/** Used when the config has no root_rotation_statements. */
const DEFAULT_ROTATION_STATEMENT = 'ALTER ROLE {{username}} WITH PASSWORD {{password}}';

const NAME_FIELD = { name: { type: 'string', description: 'Name of the database connection.', required: true } } as const;

/** The rotate-root and reset paths. */
export function rootPaths(engine: Engine): Path[] {
  return [
    {
      pattern: `rotate-root/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      operations: {
        update: { callback: (req, data) => rotateRoot(engine, req, data), summary: "Rotate the connection's root password.", ...FORWARD_WRITES },
      },
      helpSynopsis: "Give the connection's root user a new password that only Vault knows.",
      helpDescription: ROTATE_HELP,
    },
    {
      pattern: `reset/${genericNameRegex('name')}`,
      fields: NAME_FIELD,
      // Writes nothing, but the pool an operator means is the active node's.
      operations: { update: { callback: (req, data) => reset(engine, req, data), summary: 'Close and reopen the connection pool.', ...FORWARD_WRITES } },
      helpSynopsis: 'Close the connection pool of a connection; the next request reopens it from the stored config.',
      helpDescription:
        'Closes every pooled connection of the named connection and forgets the cached config. Use it after changing something outside Vault (certificates, network) that open connections still hold.',
    },
  ];
}

async function rotateRoot(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  const conn = await engine.connection(req.storage, name);
  if (!conn) return errorResponse(`connection "${name}" does not exist`);
  const { config } = conn;
  if (config.username === '') return errorResponse(`connection "${name}" has no username field; rotate-root needs it to know whose password to change`);
  if (hasLiteralUrlPassword(config.connectionUrl)) {
    return errorResponse('connection_url contains a literal password; use {{password}} and the password field before rotating');
  }

  const { password, value } = await engine.newPassword(req.systemView, config, config.passwordPolicy);
  const statements = config.rootRotationStatements.length > 0 ? config.rootRotationStatements : [DEFAULT_ROTATION_STATEMENT];
  let text: string;
  try {
    text = statements.map((s) => renderStatement(s, { name: config.username, username: config.username, password: value })).join(';\n');
  } catch (err) {
    // Statements stored before config writes checked them.
    if (!(err instanceof TemplateError)) throw err;
    return errorResponse(`root_rotation_statements of connection "${name}": ${err.message}`);
  }

  const wal: RotateRootWal = { name, new_password: password };
  const walId = await putWal(req.storage, WAL_ROTATE_ROOT, wal);
  try {
    await withConflictRetry(() => runQuery(conn.pool, text));
  } catch (err) {
    await deleteWal(req.storage, walId);
    const message = `changing the root password of connection "${name}" failed: ${describeDatabaseError(err)}`;
    // The server refused the statement (syntax, privileges): nothing changed, and only the config can fix it.
    if (refusedStatement(err)) return errorResponse(config.rootRotationStatements.length > 0 ? `${message}; check root_rotation_statements` : message);
    throw retryableError(message, err);
  }
  engine.checkpoint('rotate-root-after-alter');
  await engine.configs.put(req.storage, name, { ...config, password });
  await engine.pools.close(name);
  await deleteWal(req.storage, walId);
  engine.log.info({ config: name }, 'rotated root password');
  return undefined;
}

async function reset(engine: Engine, req: Request, data: FieldData): Promise<Response | undefined> {
  const name = data.getString('name');
  engine.configs.invalidate(`config/${name}`);
  if (!(await engine.configs.get(req.storage, name))) return errorResponse(`connection "${name}" does not exist`);
  await engine.pools.close(name);
  return undefined;
}

const ROTATE_HELP = `
Generates a new password for the connection's root user (the username
field), sets it in PostgreSQL with root_rotation_statements (default:
ALTER ROLE … WITH PASSWORD, as a SCRAM verifier under scram-sha-256), and
stores it in the config. Afterwards only Vault knows the root password.

  vault write -f pg/rotate-root/main

The connection_url must use {{password}}, not a literal password.
`.trim();
