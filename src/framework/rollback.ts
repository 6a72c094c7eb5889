// Vault's periodic `rollback` operation (sdk/framework backend.go
// handleRollback): the backend's periodic work, then WAL rollback of entries
// old enough that the request which wrote them must have died.

import { ErrorKind, VaultError, errorMessage, unsupportedOperation } from '../vault';
import type { Request } from '../vault';
import { deleteWal, getWal, listWal } from './wal';

/** Periodic work run on every rollback tick (about once a minute). */
export type PeriodicFunc = (req: Request) => Promise<void>;

/** Undoes the external change a leftover WAL entry describes; must be idempotent. */
export type WalRollbackFunc = (req: Request, kind: string, data: unknown) => Promise<void>;

/** What the rollback needs from the backend. */
export interface RollbackConfig {
  /** Absent: no periodic work. */
  periodic: PeriodicFunc | undefined;
  /** Absent: WAL entries are left alone. */
  walRollback: WalRollbackFunc | undefined;
  /** Entries younger than this (seconds) are still in flight and are kept. */
  walRollbackMinAge: number;
  /** The clock. */
  now: () => Date;
}

/**
 * Runs periodic work and WAL rollback. Every entry is tried even when some
 * fail; failures are reported together afterwards in one Unknown-kind error
 * (Vault logs it and retries on the next tick). Throws UnsupportedOperation
 * when there is nothing to do, which Vault's rollback manager ignores.
 */
export async function handleRollback(req: Request, config: RollbackConfig): Promise<undefined> {
  if (config.periodic === undefined && config.walRollback === undefined) throw unsupportedOperation();
  const failures: string[] = [];
  const causes: unknown[] = [];
  const record = (message: string, cause: unknown): void => {
    failures.push(`${message}: ${errorMessage(cause)}`);
    causes.push(cause);
  };

  if (config.periodic !== undefined) {
    try {
      await config.periodic(req);
    } catch (err) {
      record('periodic function failed', err);
    }
  }
  if (config.walRollback !== undefined) await rollbackWal(req, config.walRollback, config, record);

  if (failures.length > 0) {
    throw new VaultError(ErrorKind.Unknown, `rollback failed: ${failures.join('; ')}`, {
      cause: new AggregateError(causes, 'rollback failed'),
    });
  }
  return undefined;
}

async function rollbackWal(
  req: Request,
  walRollback: WalRollbackFunc,
  config: RollbackConfig,
  record: (message: string, cause: unknown) => void,
): Promise<void> {
  let ids: string[];
  try {
    ids = await listWal(req.storage);
  } catch (err) {
    record('listing WAL entries failed', err);
    return;
  }
  // `immediate` (any value) is how operators and tests force a full rollback.
  const cutoffMs = Object.hasOwn(req.data, 'immediate')
    ? Number.POSITIVE_INFINITY
    : config.now().getTime() - config.walRollbackMinAge * 1000;

  for (const id of ids) {
    if (req.signal.aborted) {
      // The rest is retried on the next tick; say so instead of pretending success.
      record('rollback interrupted', req.signal.reason ?? new Error('request aborted'));
      return;
    }
    try {
      const entry = await getWal(req.storage, id);
      if (entry === undefined || entry.createdAt.getTime() >= cutoffMs) continue;
      try {
        await walRollback(req, entry.kind, entry.data);
      } catch (err) {
        record(`error rolling back "${entry.kind}" entry ${id}`, err);
        continue;
      }
      await deleteWal(req.storage, id);
    } catch (err) {
      record(`WAL entry ${id}`, err);
    }
  }
}
