// Rotating a connection's root password, for rotate-root/ and for the
// automated root rotation (queue.ts). A WAL entry holding the new password
// is written first; if the process dies, or the connection is lost, after
// the database may have changed but before the config was saved, the entry
// stays, and rollback (wal-rollback.ts) stores the new password if it
// works. The old password stops working; the config keeps working.

import { deleteWal, putWal } from '../../framework';
import { retryableError, type Storage, type SystemView } from '../../vault';
import { hasLiteralUrlPassword } from '../connections/dsn';
import { describeDatabaseError } from '../connections/verify';
import type { Engine } from '../engine';
import { lockTimeoutPrefix, runQuery } from '../sql/query';
import { refusedStatement } from '../sql/refused-statement';
import { LOCK_NOT_AVAILABLE, sqlState, withConflictRetry } from '../sql/retry';
import { renderStatement, TemplateError } from '../sql/sql-template';
import { WAL_ROTATE_ROOT, type RotateRootWal } from './wal-rollback';

/** Used when the config has no root_rotation_statements. */
const DEFAULT_ROTATION_STATEMENT = 'ALTER ROLE {{username}} WITH PASSWORD {{password}}';

/**
 * Gives connection `name`'s root user a new password (see the module
 * comment); the caller holds the connection's rotation lock. Returns the
 * problem for the operator when the config or its statements are at fault
 * (nothing changed); throws a retryable error when the database or storage
 * failed. A failure that may have changed the password keeps the WAL entry,
 * so that rollback stores the new password if it works.
 */
export async function rotateRootPassword(engine: Engine, storage: Storage, systemView: SystemView, name: string): Promise<string | undefined> {
  const conn = await engine.connection(storage, name);
  if (!conn) return `connection "${name}" does not exist`;
  const { config } = conn;
  if (config.username === '') return `connection "${name}" has no username field; rotate-root needs it to know whose password to change`;
  if (hasLiteralUrlPassword(config.connectionUrl)) {
    return 'connection_url contains a literal password; use {{password}} and the password field before rotating';
  }

  const password = await engine.policyPassword(systemView, config.passwordPolicy);
  const statements = config.rootRotationStatements.length > 0 ? config.rootRotationStatements : [DEFAULT_ROTATION_STATEMENT];
  // The WAL entry is the first thing written, before the server is asked
  // anything: storage that is read-only (a standby) refuses it first.
  const wal: RotateRootWal = { name, new_password: password };
  const walId = await putWal(storage, WAL_ROTATE_ROOT, wal);
  let text: string;
  try {
    const value = await engine.passwordValue(conn, password);
    text = statements.map((s) => renderStatement(s, { name: config.username, username: config.username, password: value })).join(';\n');
  } catch (err) {
    // Nothing changed yet: the entry guards nothing.
    await deleteWal(storage, walId);
    // Statements stored before config writes checked them.
    if (err instanceof TemplateError) return `root_rotation_statements of connection "${name}": ${err.message}`;
    // Otherwise asking the server for its scram_iterations failed.
    throw retryableError(`changing the root password of connection "${name}" failed: ${describeDatabaseError(err)}`, err);
  }
  try {
    await withConflictRetry(() => runQuery(conn.pool, lockTimeoutPrefix(engine.rotations.lockTimeoutMs) + text));
  } catch (err) {
    const message = `changing the root password of connection "${name}" failed: ${describeDatabaseError(err)}`;
    // The server refused the statement (syntax, privileges): nothing changed, and only the config can fix it.
    // A lock held by another transaction is no refusal: a retryable error.
    if (refusedStatement(err) && sqlState(err) !== LOCK_NOT_AVAILABLE) {
      await deleteWal(storage, walId);
      return config.rootRotationStatements.length > 0 ? `${message}; check root_rotation_statements` : message;
    }
    throw retryableError(message, err);
  }
  engine.checkpoint('rotate-root-after-alter');
  await engine.configs.put(storage, name, { ...config, password });
  await engine.pools.close(name);
  await deleteWal(storage, walId);
  engine.log.info({ config: name }, 'rotated root password');
  return undefined;
}
