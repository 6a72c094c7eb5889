// CPU time per component over a phase, from /proc. On a 2-core machine the
// plugin, the host, PostgreSQL and the load generator all compete for the same
// cores, so "CPU ms per credential" of each says where the time goes better
// than wall-clock numbers alone.

import { cpuMs, postgresPids } from './proc';

export type Component = 'plugin' | 'host' | 'postgres' | 'bench';

/** The processes to account for; a component without a pid is left out. */
export interface CpuTargets {
  pluginPid?: number;
  hostPid?: number;
  postgresPort: number;
}

/** CPU ms per pid, per component, at one moment. */
export type CpuSnapshot = Record<Component, Map<number, number>>;

/** CPU ms per operation, per component, over a phase. */
export type CpuPerOp = Record<Component | 'total', number>;

function one(pid: number | undefined): Map<number, number> {
  return pid === undefined ? new Map() : new Map([[pid, cpuMs(pid)]]);
}

export function cpuSnapshot(targets: CpuTargets): CpuSnapshot {
  return {
    plugin: one(targets.pluginPid),
    host: one(targets.hostPid),
    // Backends come and go, so the server is summed over its current processes.
    postgres: new Map(postgresPids(targets.postgresPort).map((pid) => [pid, cpuMs(pid)])),
    bench: one(process.pid),
  };
}

/** A process that appeared during the phase counts from zero; one that exited is lost (rare here: pools persist). */
function delta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

export function cpuPerOp(before: CpuSnapshot, after: CpuSnapshot, ops: number): CpuPerOp {
  const per = (c: Component): number => (ops > 0 ? delta(before[c], after[c]) / ops : NaN);
  const result = { plugin: per('plugin'), host: per('host'), postgres: per('postgres'), bench: per('bench') };
  return { ...result, total: result.plugin + result.host + result.postgres + result.bench };
}
