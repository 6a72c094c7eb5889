// CPU time per component over a phase, from /proc. On a 2-core machine the
// plugin, the host, PostgreSQL and the load generator all compete for the same
// cores, so "CPU ms per credential" of each says where the time goes better
// than wall-clock numbers alone.

import { cpuMs, isPostmaster, machineBusyMs, postgresPids } from './proc';

export type Component = 'plugin' | 'host' | 'postgres' | 'bench';

/** The processes to account for; a component without a pid is left out. */
export interface CpuTargets {
  pluginPid?: number;
  hostPid?: number;
  postgresPort: number;
}

/** CPU ms per pid, per component, and the machine's busy ms, at one moment. */
export type CpuSnapshot = Record<Component, Map<number, number>> & { machine: number };

/**
 * CPU ms per operation, per component, over a phase. `other` is what the rest
 * of the machine used meanwhile (the machine's busy time minus ours): work
 * by other processes that competed for the cores, so a large value marks a
 * disturbed measurement.
 */
export type CpuPerOp = Record<Component | 'total' | 'other', number>;

function one(pid: number | undefined): Map<number, number> {
  return pid === undefined ? new Map() : new Map([[pid, cpuMs(pid)]]);
}

export function cpuSnapshot(targets: CpuTargets): CpuSnapshot {
  return {
    plugin: one(targets.pluginPid),
    host: one(targets.hostPid),
    postgres: postgresCpu(targets.postgresPort),
    bench: one(process.pid),
    machine: machineBusyMs(),
  };
}

/**
 * Backends come and go (a connection closed after an error takes its backend
 * with it), so the server is summed over its current processes, and the
 * postmaster's entry also holds the CPU of the backends it has reaped.
 */
function postgresCpu(port: number): Map<number, number> {
  const pids = postgresPids(port);
  return new Map(pids.map((pid) => [pid, cpuMs(pid, isPostmaster(pids, pid))]));
}

/** A process that appeared during the phase counts from zero. */
function delta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

export function cpuPerOp(before: CpuSnapshot, after: CpuSnapshot, ops: number): CpuPerOp {
  const per = (c: Component): number => (ops > 0 ? delta(before[c], after[c]) / ops : NaN);
  const result = { plugin: per('plugin'), host: per('host'), postgres: per('postgres'), bench: per('bench') };
  const total = result.plugin + result.host + result.postgres + result.bench;
  const machine = ops > 0 ? (after.machine - before.machine) / ops : NaN;
  return { ...result, total, other: Math.max(0, machine - total) };
}
