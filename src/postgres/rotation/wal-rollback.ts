// Undoing what a crash interrupted. Vault sends `rollback` about every
// minute; WAL entries older than the engine's minimum age belong to requests
// that can no longer finish, and are settled here:
//   - created-user: a user was (perhaps) created but its lease never
//     recorded: drop it (rollback_statements when the role has them). Only
//     versions before user records wrote these; entries left by them at an
//     upgrade are still settled. Issuance now records users instead (see
//     users/sweep.ts);
//   - rotate-root: the root password was (perhaps) changed but the new one
//     never stored: keep whichever password actually works;
//   - static-rotation: a static role's password was (perhaps) changed but
//     the new one never stored: finish the rotation with that password
//     (rotate-static.ts). The rotation queue finishes such entries as soon
//     as the plugin starts; rollback is the backstop.

import type { WalRollbackFunc } from '../../framework';
import type { Request, Storage } from '../../vault';
import { clientConfig } from '../connections/dsn';
import type { Engine } from '../engine';
import { revokeUser } from '../users/revoke-user';
import { stringField, stringListField } from '../stored-fields';
import { DatabaseUnreachable } from '../connections/verify';
import { WAL_STATIC_ROTATION } from './rotate-static';

/** WAL kind written before CREATE ROLE in creds by versions before user records. */
export const WAL_CREATED_USER = 'created-user';
/** WAL kind written before the root password is changed. */
export const WAL_ROTATE_ROOT = 'rotate-root';

/** Data of a created-user entry. */
export interface CreatedUserWal {
  username: string;
  db_name: string;
  role: string;
  rollback_statements: string[];
}

/** Data of a rotate-root entry; lives in Vault's encrypted storage like the config. */
export interface RotateRootWal {
  name: string;
  new_password: string;
}

/** The engine's rollback function for the framework. */
export function walRollback(engine: Engine): WalRollbackFunc {
  return async (req, kind, data) => {
    switch (kind) {
      case WAL_CREATED_USER:
        return rollbackCreatedUser(engine, req, data);
      case WAL_ROTATE_ROOT:
        // Under the rotation lock, like rotate-root and config writes, which also write the config's password.
        await engine.rotations.withRootLock(stringField(data, 'name'), () => finishRootRotation(engine, req.storage, data));
        return;
      case WAL_STATIC_ROTATION:
        return engine.rotations.finishFromRollback(req.storage, req.systemView, data);
      default:
        // An entry this version does not know: keeping it forever helps no
        // one, and failing would block the other entries' reports.
        engine.log.warn({ kind }, 'dropping WAL entry of unknown kind');
    }
  };
}

async function rollbackCreatedUser(engine: Engine, req: Request, data: unknown): Promise<void> {
  const username = stringField(data, 'username');
  const dbName = stringField(data, 'db_name');
  if (username === '') return;
  const conn = await engine.connection(req.storage, dbName);
  // Without its connection the user cannot be reached; the entry is kept and
  // retried until the config is back.
  if (!conn) throw new Error(`connection "${dbName}" of unfinished user ${username} does not exist`);
  const statements = stringListField(data, 'rollback_statements');
  await revokeUser(conn, username, statements);
  engine.log.info({ username, role: stringField(data, 'role') }, 'dropped database user of an unfinished request');
}

/**
 * Settles a rotate-root entry: when its new password works, stores it (the
 * database has it but the config was never updated) and returns true; false
 * when there is nothing to store (the config is gone, already has it, or the
 * new password does not work: the change never reached the database).
 */
export async function finishRootRotation(engine: Engine, storage: Storage, data: unknown): Promise<boolean> {
  const name = stringField(data, 'name');
  const newPassword = stringField(data, 'new_password');
  const config = await engine.configs.get(storage, name);
  if (!config || newPassword === '' || config.password === newPassword) return false;
  const candidate = { ...config, password: newPassword };
  try {
    await engine.verify(clientConfig(candidate));
  } catch (err) {
    if (err instanceof DatabaseUnreachable) return false;
    throw err;
  }
  await engine.configs.put(storage, name, candidate);
  await engine.pools.close(name);
  engine.log.info({ config: name }, 'completed an interrupted root rotation');
  return true;
}
