// The user sweep: the backend's periodic function, run on Vault's rollback
// tick (about once a minute). It settles every user record whose user can
// no longer be wanted:
//   - `issuing`, older than wal_rollback_min_age and not being issued by
//     this process: its request died before Vault recorded a lease. The
//     user is dropped with the role's rollback statements (the default
//     revocation when there are none), as WAL rollback did before records;
//   - `issued`, with its recorded lease end plus user_sweep_grace passed:
//     Vault's lease has ended (or Vault never held one) and the user is
//     dropped with the role's revocation statements (default when none);
//   - when the mount is being unmounted (Vault taints it and sends a final
//     rollback before revoking the mount's leases): every user, so that
//     users whose lease Vault never learned of do not outlive the mount.
//     The backend's Cleanup on a tainted mount sweeps once more
//     (atUnmountCleanup): a periodic rollback in flight when the taint is
//     set stands in for the final one, and may have asked about the taint
//     just before it was set.
// A user whose lease is live is never dropped: renewals move the recorded
// lease end before they are answered. The statements follow Vault's lease
// rule, as revocation does: the role's current ones while the role exists,
// those recorded at issue once it is deleted.
//
// Candidates come from the in-memory index; each one's record is read again
// before anything is done. Records of connections that no longer exist are
// kept. Failures are collected into one error (Vault logs it and the next
// tick retries); the other records are still processed.

import { storageReadOnly } from '../../framework';
import { errorMessage, type Request, type Storage, type SystemView } from '../../vault';
import type { Engine } from '../engine';
import { revokeUser } from './revoke-user';
import { describeDatabaseError } from '../connections/verify';
import { forEachLimited } from './concurrency';
import type { Role } from '../roles/role';
import type { UserRecord } from './record';
import { indexed, type IndexedUser } from './user-records';

/** Users dropped at once. */
const SWEEP_CONCURRENCY = 4;
/**
 * How long the final rollback of an unmount waits for issuances running in
 * this process to end, so that their users are recorded and dropped too.
 */
const TAINTED_ISSUANCE_WAIT_MS = 30_000;
/** Failures named one by one in the error; the rest are counted. */
const FAILURES_NAMED = 5;

/** What the sweep does with one record. */
export type SweepDecision = 'keep' | 'rollback' | 'drop';

/** The circumstances of one sweep. */
export interface SweepPolicy {
  /** Unix seconds. */
  now: number;
  /** wal_rollback_min_age: seconds an `issuing` record must age. */
  minAge: number;
  /** user_sweep_grace: seconds past the recorded lease end. */
  grace: number;
  /** The mount is being unmounted: every user goes. */
  tainted: boolean;
  /** The rollback request carried `immediate`: unfinished issuances go regardless of age. */
  immediate: boolean;
}

/**
 * The decision for a user in `state` (see the module comment). `issuingHere`:
 * this process is issuing the user right now.
 */
export function sweepDecision(user: IndexedUser, policy: SweepPolicy, issuingHere: boolean): SweepDecision {
  if (policy.tainted) return user.state === 'issuing' ? 'rollback' : 'drop';
  if (user.state === 'issuing') {
    if (issuingHere) return 'keep';
    return policy.immediate || policy.now - user.createdAt > policy.minAge ? 'rollback' : 'keep';
  }
  return policy.now > user.leaseEnd + policy.grace ? 'drop' : 'keep';
}

/** What one sweep works with. */
export interface SweepContext {
  /** The mount's storage. */
  storage: Storage;
  /** Aborted when the sweep must stop (the rollback request ended); the rest waits for the next one. */
  signal: AbortSignal;
  /** Unfinished issuances go regardless of age (a rollback with `immediate`). */
  immediate: boolean;
}

/** How long the sweep at an unmount's Cleanup may take; Vault waits for Cleanup. */
const CLEANUP_SWEEP_MS = 60_000;

/** What one sweep did. */
export interface SweepOutcome {
  /** Records in the index when the sweep began. */
  records: number;
  /** Unfinished issuances rolled back. */
  rolledBack: number;
  /** Issued users dropped. */
  dropped: number;
  /** Records kept because their connection no longer exists, by connection. */
  noConnection: Map<string, number>;
  failures: string[];
}

/**
 * Runs the sweep for the backend's periodic function. Vault sends one
 * rollback per mount at a time; a host that overlaps them gets the same: a
 * tick that finds a sweep running joins it, and a tainted one (the unmount's
 * final rollback) waits for it and then sweeps everything.
 */
export class UserSweep {
  readonly #engine: Engine;
  #running: Promise<SweepOutcome> | undefined;

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** One tick: sweeps, logs what it did, and throws one error naming the failures. */
  async run(req: Request): Promise<void> {
    const tainted = await req.systemView.tainted();
    const ctx: SweepContext = { storage: req.storage, signal: req.signal, immediate: Object.hasOwn(req.data, 'immediate') };
    let outcome = await this.#sweep(ctx, tainted);
    // Vault sends an unmount's final rollback only when no rollback of the
    // mount is in flight; one that is stands in for it (OpenBao
    // vault/rollback.go startOrLookupRollback). A sweep that began before
    // the taint therefore looks again before it answers.
    if (!tainted && (await req.systemView.tainted())) outcome = await this.#sweep(ctx, true);
    const problems = describeProblems(outcome);
    if (problems.length > 0) {
      const named = problems.slice(0, FAILURES_NAMED).join('; ');
      const more = problems.length > FAILURES_NAMED ? `; and ${problems.length - FAILURES_NAMED} more` : '';
      throw new Error(`user sweep: ${named}${more}`);
    }
  }

  /**
   * The backend's Cleanup: on a mount being unmounted (tainted; Vault has
   * already revoked its leases and clears its storage next), every user
   * still recorded is dropped, as the final rollback does. Elsewhere (seal,
   * reload, shutdown; or storage this node cannot write) nothing happens.
   * Never throws: failures are logged, and Cleanup goes on.
   */
  async atUnmountCleanup(storage: Storage, systemView: SystemView): Promise<void> {
    let unmounting: boolean;
    try {
      unmounting = (await systemView.tainted()) && !(await storageReadOnly(systemView));
    } catch (err) {
      // An unmount keeps the mount's connection to Vault until Cleanup
      // returns; a plugin reload in OpenBao may already have closed it.
      this.#engine.log.debug({ error: errorMessage(err) }, 'Cleanup could not ask Vault whether the mount is being unmounted');
      return;
    }
    if (!unmounting) return;
    try {
      const outcome = await this.#sweep({ storage, signal: AbortSignal.timeout(CLEANUP_SWEEP_MS), immediate: true }, true);
      const problems = describeProblems(outcome);
      if (problems.length > 0) this.#engine.log.error({ problems: problems.slice(0, FAILURES_NAMED), count: problems.length }, 'user sweep at unmount left users behind');
    } catch (err) {
      this.#engine.log.error({ error: errorMessage(err) }, 'user sweep at unmount failed');
    }
  }

  /** Joins the sweep in flight, unless this one is tainted: that one runs after it, on its own. */
  async #sweep(ctx: SweepContext, tainted: boolean): Promise<SweepOutcome> {
    const running = this.#running;
    if (running !== undefined && !tainted) return running;
    while (this.#running !== undefined) await this.#running.catch(() => undefined);
    return this.#start(ctx, tainted);
  }

  #start(ctx: SweepContext, tainted: boolean): Promise<SweepOutcome> {
    const run = sweepUsers(this.#engine, ctx, tainted).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }
}

/** The sweep's failures, and the records it had to keep, as sentences. */
function describeProblems(outcome: SweepOutcome): string[] {
  const problems = [...outcome.failures];
  for (const [dbName, count] of outcome.noConnection) {
    problems.push(`${count} user(s) of connection "${dbName}" kept: the connection no longer exists (write config/${dbName} again so they can be dropped)`);
  }
  return problems;
}

/** One sweep over the mount's records; never throws for a single record. */
export async function sweepUsers(engine: Engine, ctx: SweepContext, tainted: boolean): Promise<SweepOutcome> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  if (tainted) await engine.users.issuancesEnded(TAINTED_ISSUANCE_WAIT_MS);
  const index = await engine.users.index(ctx.storage);
  const policy: SweepPolicy = {
    now: engine.now().getTime() / 1000,
    minAge: engine.walRollbackMinAge,
    grace: engine.userSweepGrace,
    tainted,
    immediate: ctx.immediate,
  };
  const outcome: SweepOutcome = { records: index.size, rolledBack: 0, dropped: 0, noConnection: new Map(), failures: [] };
  const candidates: string[] = [];
  for (const [username, user] of index.entries()) {
    if (sweepDecision(user, policy, engine.users.issuing(username)) !== 'keep') candidates.push(username);
  }

  await forEachLimited(candidates, SWEEP_CONCURRENCY, async (username) => {
    if (ctx.signal.aborted) {
      // The rest waits for the next tick; say so instead of pretending success.
      if (!outcome.failures.includes(INTERRUPTED)) outcome.failures.push(INTERRUPTED);
      return;
    }
    try {
      await settle(engine, ctx, username, policy, outcome);
    } catch (err) {
      outcome.failures.push(`user ${username}: ${describeDatabaseError(err)}`);
    }
  });

  const summary = {
    records: outcome.records,
    tainted,
    rolled_back: outcome.rolledBack,
    dropped: outcome.dropped,
    kept_without_connection: [...outcome.noConnection.values()].reduce((a, b) => a + b, 0),
    failed: outcome.failures.length,
    ms: tenths(performance.now() - started),
    cpu_ms: cpuMs(process.cpuUsage(cpu)),
  };
  const acted = candidates.length > 0 || outcome.failures.length > 0;
  if (acted) engine.log.info(summary, 'user sweep');
  else engine.log.debug(summary, 'user sweep');
  return outcome;
}

const INTERRUPTED = 'sweep interrupted: the rollback request ended; the next tick goes on';

/** Re-reads one candidate's record and drops its user if the record still says so. */
async function settle(engine: Engine, ctx: SweepContext, username: string, policy: SweepPolicy, outcome: SweepOutcome): Promise<void> {
  const record = await engine.users.get(ctx.storage, username);
  if (record === undefined) {
    // Deleted meanwhile (revoked, or by another node): only the index was stale.
    engine.users.forget(username);
    return;
  }
  const decision = sweepDecision(indexed(record), policy, engine.users.issuing(username));
  if (decision === 'keep') {
    // Renewed or issued elsewhere since the index was read.
    engine.users.reindex(record);
    return;
  }
  const conn = await engine.connection(ctx.storage, record.dbName);
  if (conn === undefined) {
    outcome.noConnection.set(record.dbName, (outcome.noConnection.get(record.dbName) ?? 0) + 1);
    return;
  }
  const role = record.role === '' ? undefined : await engine.roles.get(ctx.storage, record.role);
  await revokeUser(conn, username, statementsFor(record, decision, role));
  await engine.users.delete(ctx.storage, username);
  if (decision === 'rollback') outcome.rolledBack++;
  else outcome.dropped++;
  engine.log.debug({ username, role: record.role, state: record.state, tainted: policy.tainted }, 'sweep dropped database user');
}

/**
 * Rollback statements for an unfinished issuance, revocation statements for
 * an issued user: the role's current ones while it exists, else those
 * recorded at issue. Empty: the default revocation.
 */
function statementsFor(record: UserRecord, decision: SweepDecision, role: Role | undefined): string[] {
  if (decision === 'rollback') return role ? role.rollbackStatements : record.rollbackStatements;
  return role ? role.revocationStatements : record.revocationStatements;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return tenths((usage.user + usage.system) / 1000);
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}

