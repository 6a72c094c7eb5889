// Rotating the password of a static role's user, crash-safe as rotate-root
// is: a WAL entry with the new password is written before the database is
// changed, and deleted once the role in storage holds that password. A
// rotation interrupted anywhere in between (crash, lost connection, storage
// failure) is finished later with the same password from the entry: its
// statements run again, which is harmless if they already ran, and the
// password is stored. So the database and the stored password agree again
// whatever state the crash left, without logging in as the user (who may not
// be allowed to log in from Vault). The queue (queue.ts) finishes pending
// entries first when it starts; Vault's rollback finishes those older than
// wal_rollback_min_age (wal-rollback.ts).
//
// Also here: what a static role write checks in the database (the users
// exist, the rotation statements run).

import type { Pool } from 'pg';
import { deleteWal, putWal } from '../../framework';
import { errorMessage, type Storage, type SystemView } from '../../vault';
import { roleAllowed } from '../connections/connection-config';
import { describeDatabaseError } from '../connections/verify';
import type { Engine } from '../engine';
import { lockTimeoutPrefix, runQuery, withClient } from '../sql/query';
import { refusedStatement } from '../sql/refused-statement';
import { LOCK_NOT_AVAILABLE, sqlState, withConflictRetry } from '../sql/retry';
import { renderStatement, TemplateError } from '../sql/sql-template';
import { nextRotation } from '../rotation-schedule';
import { isoTime, rotationTarget, type StaticRole } from './static-role';

/** WAL kind written before a static role's password is changed (Vault's name). */
export const WAL_STATIC_ROTATION = 'static-rotation';

/** Data of a static-rotation entry; lives in Vault's encrypted storage, like the role and its password. */
export interface StaticRotationWal {
  role_name: string;
  /** The user whose password is being changed. */
  username: string;
  new_password: string;
  /** The role's last_vault_rotation when the rotation began ('' for none); once the role's differs, the entry is stale. */
  last_vault_rotation: string;
}

/** A rotation that may have reached the database but not storage. */
export interface PendingRotation {
  walId: string;
  username: string;
  password: string;
  /** See StaticRotationWal.last_vault_rotation. */
  lastVaultRotation: string;
}

/** Template variables rotation_statements may use; {{name}} and {{username}} are the static user. */
export const ROTATION_VARIABLES = ['name', 'username', 'password'];

/** Used when a role has no rotation_statements. */
const DEFAULT_ROTATION_STATEMENT = 'ALTER ROLE {{name}} WITH PASSWORD {{password}}';

/** What a rotation of a static role came to. */
export type StaticRotationResult =
  | { kind: 'rotated'; role: StaticRole }
  | {
      kind: 'failed';
      message: string;
      /** The role's statements or settings are at fault (a 400), rather than the database or storage failing. */
      refused: boolean;
      /** Set when the change may have reached the database: the next attempt must finish it with the same password. */
      pending?: PendingRotation;
    };

/** What a rotation runs against. */
export interface RotationContext {
  engine: Engine;
  storage: Storage;
  systemView: SystemView;
}

/** True when `pending` belongs to an earlier state of `role`: the rotation it guarded was completed (or superseded) since. */
export function stalePending(pending: PendingRotation, role: StaticRole): boolean {
  return pending.lastVaultRotation !== isoTime(role.lastVaultRotation);
}

/**
 * Rotates `role` (as read under the role's lock) now: a new password for
 * the user rotationTarget() names, or, with `pending`, the interrupted
 * rotation finished with its user and password. Stores the role with the
 * new password, the user handed out and the next rotation time.
 */
export async function rotateStaticRole(ctx: RotationContext, name: string, role: StaticRole, pending: PendingRotation | undefined): Promise<StaticRotationResult> {
  const { engine, storage } = ctx;
  const conn = await engine.connection(storage, role.dbName);
  if (!conn) return { kind: 'failed', refused: true, message: `connection "${role.dbName}" does not exist`, pending };
  if (!roleAllowed(conn.config, name)) {
    return { kind: 'failed', refused: true, message: `"${name}" is not an allowed role of connection "${role.dbName}"; add it to that config's allowed_roles`, pending };
  }
  const target = pending?.username ?? rotationTarget(role);
  // The config, rather than this role, may have changed to log in as the role's user since the role was written.
  try {
    if ((await connectionUser(conn.pool)) === target) return { kind: 'failed', refused: true, message: connectionUserProblem(target, role.dbName), pending };
    // The verifier's iteration count is the server's (Engine.passwordValue): asked here, where a failure is the database's.
    await conn.facts();
  } catch (err) {
    return { kind: 'failed', refused: false, message: `changing the password of ${JSON.stringify(target)} failed: ${describeDatabaseError(err)}`, pending };
  }
  let password: string;
  let value: string;
  let walId: string;
  if (pending !== undefined) {
    ({ password, walId } = pending);
    value = await engine.passwordValue(conn, password);
  } else {
    const policy = role.credentialConfig['password_policy'] || conn.config.passwordPolicy;
    try {
      ({ password, value } = await engine.newPassword(ctx.systemView, conn, policy));
    } catch (err) {
      return { kind: 'failed', refused: true, message: `generating a password with password policy "${policy}" failed: ${errorMessage(err)}` };
    }
    const wal: StaticRotationWal = { role_name: name, username: target, new_password: password, last_vault_rotation: isoTime(role.lastVaultRotation) };
    walId = await putWal(storage, WAL_STATIC_ROTATION, wal, engine.now());
  }
  const started: PendingRotation = { walId, username: target, password, lastVaultRotation: isoTime(role.lastVaultRotation) };

  try {
    await withConflictRetry(() => runQuery(conn.pool, lockTimeoutPrefix(engine.rotations.lockTimeoutMs) + rotationQuery(role.rotationStatements, target, value)));
  } catch (err) {
    const message = `changing the password of ${JSON.stringify(target)} failed: ${describeDatabaseError(err)}`;
    if (sqlState(err) === LOCK_NOT_AVAILABLE) {
      // Another open transaction holds a lock the statements need: nothing changed, and a retry may succeed.
      const locked = `${message}; another open transaction holds a lock on ${JSON.stringify(target)}`;
      if (pending !== undefined) return { kind: 'failed', refused: false, message: locked, pending: started };
      await deleteWal(storage, walId);
      return { kind: 'failed', refused: false, message: locked };
    }
    if (err instanceof TemplateError || refusedStatement(err)) {
      // The server refused the statements: nothing changed, the entry guards nothing.
      if (walId !== '') await deleteWal(storage, walId);
      return { kind: 'failed', refused: true, message: role.rotationStatements.length > 0 ? `${message}; check rotation_statements` : message };
    }
    return { kind: 'failed', refused: false, message, pending: started };
  }
  if (pending === undefined) engine.checkpoint('static-rotation-after-alter');

  const now = engine.now().getTime();
  const rotated: StaticRole = {
    ...role,
    activeUsername: target,
    password,
    lastVaultRotation: now,
    nextVaultRotation: nextRotation(role.timing, new Date(now))?.getTime() ?? 0,
    lastRotationError: '',
  };
  try {
    await engine.staticRoles.put(storage, name, rotated);
  } catch (err) {
    return { kind: 'failed', refused: false, message: `storing the new password failed: ${errorMessage(err)}`, pending: started };
  }
  try {
    // '' when Vault's rollback finishes the entry: it deletes the entry itself.
    if (walId !== '') await deleteWal(storage, walId);
  } catch (err) {
    // Stale from now on (the role's last rotation moved): dropped when next seen.
    engine.log.warn({ role: name, error: errorMessage(err) }, 'deleting the WAL entry of a finished rotation failed');
  }
  return { kind: 'rotated', role: rotated };
}

/** The rotation statements for `username` with the password as PostgreSQL should receive it. */
function rotationQuery(statements: readonly string[], username: string, passwordValue: string): string {
  const list = statements.length > 0 ? statements : [DEFAULT_ROTATION_STATEMENT];
  return list.map((s) => renderStatement(s, { name: username, username, password: passwordValue })).join(';\n');
}

/** The user `pool`'s connections log in as: the one whose password the connection holds. */
export async function connectionUser(pool: Pool): Promise<string> {
  const { rows } = await runQuery<{ u: string }>(pool, 'SELECT session_user AS u');
  return rows[0]?.u ?? '';
}

/** Why a static role may not manage `username`, the login user of connection `dbName`. */
export function connectionUserProblem(username: string, dbName: string): string {
  return `database user ${JSON.stringify(username)} is the user connection "${dbName}" logs in as; a static role rotating its password would lock the connection out (rotate it with rotate-root/${dbName} or the connection's rotation_period instead)`;
}

/** The users of `usernames` that do not exist in the database. */
export async function missingUsers(pool: Pool, usernames: readonly string[]): Promise<string[]> {
  const { rows } = await runQuery<{ u: string }>(pool, 'SELECT u FROM unnest($1::text[]) AS u WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = u)', [usernames]);
  return rows.map((r) => r.u);
}

/**
 * Runs the rotation statements for each user with `passwordValue` in one
 * transaction that is rolled back, so a typo or a missing privilege is a
 * 400 at role write rather than a failed rotation later. Returns the first
 * problem, in words for the operator; throws when the database cannot be
 * used at all.
 */
export async function tryRotationStatements(pool: Pool, statements: readonly string[], usernames: readonly string[], value: string, lockTimeoutMs: number): Promise<string | undefined> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    await client.query(lockTimeoutPrefix(lockTimeoutMs));
    try {
      for (const username of usernames) {
        let text: string;
        try {
          text = rotationQuery(statements, username, value);
        } catch (err) {
          if (err instanceof TemplateError) return `rotation_statements: ${err.message}`;
          throw err;
        }
        try {
          await client.query(text);
        } catch (err) {
          // A lock held elsewhere says nothing about the statements: a 500 to retry.
          if (sqlState(err) === undefined || sqlState(err) === LOCK_NOT_AVAILABLE) throw err;
          return `rotation_statements failed in a test transaction (rolled back) for user ${JSON.stringify(username)}: ${describeDatabaseError(err)}`;
        }
      }
      return undefined;
    } finally {
      await client.query('ROLLBACK');
    }
  });
}
