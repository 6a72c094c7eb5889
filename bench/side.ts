// One side of the comparison (through the host, or the floor) run through the
// same schedule, so that both sides meet the same database state:
//
//   warm-up rounds: issue `count` at `concurrency`, revoke them (CPU of the
//   first round recorded as `warmup-first`, the rest unmeasured)
//   for each level: issue `count` at `concurrency` (measured), then revoke
//   exactly those, at the same concurrency (measured for the revocation
//   concurrencies, unmeasured otherwise).
//
// Revoking after every level matters: every credential is granted SELECT on
// one table, whose ACL lives in one pg_class row that each GRANT and each
// DROP OWNED rewrites, so their cost grows with the number of live grantees
// (and PostgreSQL refuses more than ~2000 of them: "row is too big"). Each
// level therefore starts from an empty ACL, whatever ran before it.

import { cpuPerOp, cpuSnapshot, type CpuPerOp, type CpuTargets } from './cpu';
import { runAll, runLevel, type LevelResult, type Operation } from './load';

export interface Side {
  /** For progress lines, e.g. `host` or `floor`. */
  name: string;
  /** Issues one credential; its handle (lease id, username) is appended to `items`. */
  issue(items: string[]): Operation;
  /** Revokes `items[offset + index]`. */
  revoke(items: readonly string[], offset: number): Operation;
}

export interface Schedule {
  /**
   * Rounds of issue-then-revoke before the levels. A plugin process serves
   * for days; its first few thousand requests also pay for V8 compiling the
   * hot paths (≈1 ms of CPU per credential more over the first 1500), which
   * the levels are not meant to measure. The first round's CPU is kept to
   * show that cost.
   */
  warmup: { concurrency: number; count: number; rounds: number };
  issueLevels: readonly { concurrency: number; count: number }[];
  /** Levels whose credentials are revoked measured, at the level's concurrency. */
  revokeConcurrencies: readonly number[];
  /** Unmeasured revocations run at this concurrency. */
  cleanupConcurrency: number;
  maxMsPerLevel: number;
}

export interface SideResult {
  issue: LevelResult[];
  revoke: LevelResult[];
  /** CPU ms per operation, keyed `issue-c8`, `revoke-c32`, … */
  cpu: Record<string, CpuPerOp>;
}

type Log = (msg: string) => void;

/** Runs `side` through `schedule`; `afterIssue` is called after each measured issuance level (for RSS readings). */
export async function runSide(side: Side, schedule: Schedule, targets: CpuTargets, log: Log, afterIssue?: (concurrency: number) => void): Promise<SideResult> {
  const result: SideResult = { issue: [], revoke: [], cpu: {} };
  for (let round = 0; round < schedule.warmup.rounds; round++) {
    const warm: string[] = [];
    const { concurrency, count } = schedule.warmup;
    if (round === 0) await measured(`${side.name} warm-up`, 'warmup-first', concurrency, schedule, targets, result.cpu, log, count, side.issue(warm));
    else await runAll(count, concurrency, side.issue(warm));
    await revokeUnmeasured(side, warm, schedule.cleanupConcurrency, log);
  }

  for (const level of schedule.issueLevels) {
    const items: string[] = [];
    result.issue.push(await measured(`${side.name} issue`, 'issue', level.concurrency, schedule, targets, result.cpu, log, level.count, side.issue(items)));
    afterIssue?.(level.concurrency);
    const failedIssues = result.issue[result.issue.length - 1]?.errors ?? 0;
    if (schedule.revokeConcurrencies.includes(level.concurrency) && failedIssues === 0) {
      const revoke = await measured(`${side.name} revoke`, 'revoke', level.concurrency, schedule, targets, result.cpu, log, items.length, side.revoke(items, 0));
      result.revoke.push(revoke);
      if (revoke.errors > 0 || revoke.timedOut) await revokeUnmeasured(side, items, schedule.cleanupConcurrency, log);
    } else {
      await revokeUnmeasured(side, items, schedule.cleanupConcurrency, log);
    }
  }
  return result;
}

/** One measured level, with CPU per operation recorded under `<key>-cN` (`issue-c8`, `revoke-c32`, `warmup-first-c32`). */
async function measured(
  label: string,
  key: string,
  concurrency: number,
  schedule: Schedule,
  targets: CpuTargets,
  cpu: Record<string, CpuPerOp>,
  log: Log,
  count: number,
  op: Operation,
): Promise<LevelResult> {
  const before = cpuSnapshot(targets);
  const r = await runLevel({ concurrency, count, maxMs: schedule.maxMsPerLevel }, op);
  cpu[`${key}-c${concurrency}`] = cpuPerOp(before, cpuSnapshot(targets), r.completed);
  const errors = r.errors > 0 ? `, ${r.errors} errors (${r.errorSamples[0] ?? ''})` : '';
  const stopped = r.timedOut ? ', stopped by the time bound' : '';
  log(`  ${label} c${concurrency}: ${r.completed}/${count} in ${(r.wallMs / 1000).toFixed(1)} s = ${r.throughput.toFixed(1)}/s, p50 ${r.latency.p50.toFixed(1)} ms${errors}${stopped}`);
  return r;
}

/**
 * Revokes all of `items`, unmeasured: warm-up and levels whose revocation is
 * not measured, and clean-up after a level that stopped early or failed. An
 * item may already be gone, so failures are counted, not thrown.
 */
async function revokeUnmeasured(side: Side, items: readonly string[], concurrency: number, log: Log): Promise<void> {
  const revoke = side.revoke(items, 0);
  let failed = 0;
  await runAll(items.length, concurrency, (i) => revoke(i).catch(() => void failed++));
  if (failed > 0) log(`  ${side.name}: ${failed} of ${items.length} unmeasured revocations failed (most likely already gone)`);
}
