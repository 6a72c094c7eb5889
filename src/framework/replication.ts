// Where Vault's storage is read-only for a mount, and so where a request
// that writes must go elsewhere. Vault reports the node's replication state
// as a bit set (sdk/helper/consts/replication.go ReplicationState); a
// backend that answers a write there with ErrReadOnly makes Vault forward
// the request to the node that can write (sdk/framework backend.go does
// this for operations marked ForwardPerformanceStandby/-Secondary).

import { ReadOnlyError } from '../vault';
import type { SystemView } from '../vault';

/**
 * The bits of Vault's ReplicationState this backend reads. The constants
 * start at 1 << 5 (the older values 1-3 stay unused): PerformancePrimary
 * 1 << 5, PerformanceSecondary 1 << 6, OldSplitReplicationBootstrapping
 * 1 << 7, DRPrimary 1 << 8, DRSecondary 1 << 9, PerformanceBootstrapping
 * 1 << 10, DRBootstrapping 1 << 11, PerformanceDisabled 1 << 12,
 * DRDisabled 1 << 13, PerformanceStandby 1 << 14.
 */
export const REPLICATION_STATE = {
  performanceSecondary: 1 << 6,
  drSecondary: 1 << 9,
  performanceStandby: 1 << 14,
} as const;

/** When an operation must be left to another node (PathOperation's flags). */
export interface ForwardingRules {
  /** On a performance standby. Absent: false. */
  performanceStandby?: boolean;
  /** On a performance secondary, unless the mount is local to it. Absent: false. */
  performanceSecondary?: boolean;
}

/**
 * The flags of an operation that writes the mount's (replicated) storage:
 * spread into a PathOperation, it is left to the node that can write.
 */
export const FORWARD_WRITES = { forwardPerformanceStandby: true, forwardPerformanceSecondary: true } as const;

/**
 * Throws Vault's read-only error when `rules` say this node must not handle
 * the operation, as sdk/framework does before it calls a handler. Asks the
 * system view nothing when no rule applies.
 */
export async function forwardIfRequired(systemView: SystemView, rules: ForwardingRules): Promise<void> {
  if (rules.performanceStandby !== true && rules.performanceSecondary !== true) return;
  const state = await systemView.replicationState();
  if (rules.performanceStandby === true && has(state, REPLICATION_STATE.performanceStandby)) throw new ReadOnlyError();
  if (rules.performanceSecondary === true && has(state, REPLICATION_STATE.performanceSecondary) && !(await systemView.localMount())) {
    throw new ReadOnlyError();
  }
}

/**
 * True when the mount's storage cannot be written on this node: a
 * performance standby, a DR secondary, or a performance secondary for a
 * mount that is not local to it. Periodic work and lease operations that
 * write storage do nothing there; the active node of the primary does them.
 */
export async function storageReadOnly(systemView: SystemView): Promise<boolean> {
  const state = await systemView.replicationState();
  if (has(state, REPLICATION_STATE.performanceStandby) || has(state, REPLICATION_STATE.drSecondary)) return true;
  return has(state, REPLICATION_STATE.performanceSecondary) && !(await systemView.localMount());
}

function has(state: number, flag: number): boolean {
  return (state & flag) !== 0;
}
