// What a run found, in three forms: the results object (written as JSON),
// the printed table with targets, and the chart's panels.

import type { ChartSpec } from './chart';
import type { ColdStartResult } from './cold-start';
import type { CpuPerOp } from './cpu';
import type { LatencyStats, LevelResult } from './load';
import type { ProfileComparison, ProfileEntry } from './profile';
import type { RssSummary } from './rss';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  /** Node running the benchmark (the load generator and the floor). */
  node: string;
  /** Node embedded in the plugin executable. */
  pluginNode: string;
  postgres: string;
  platform: string;
  date: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine disturbs the numbers. */
  loadAverageAtStart: number[];
}

export interface BenchResults {
  machine: MachineInfo;
  parameters: Record<string, unknown> & { warmup: { concurrency: number; count: number; rounds: number } };
  issuance: { host: LevelResult[]; floor: LevelResult[] };
  revocation: { host: LevelResult[]; floor: LevelResult[] };
  /** PostgreSQL sessions opened during the levels (pg_stat_database.sessions), and the floor's retried conflicts. */
  connections: {
    hostSessions: number;
    floorSessions: number;
    floorConflictsRetried: number;
    /** One new connection + SELECT 1 + close, at c1: what each connection dropped after an error costs again. */
    newConnection: { latency: LatencyStats; cpu: CpuPerOp };
  };
  /** The floor issuing with pg-pool's plain pool.query (which closes a connection whose query failed), at c32. */
  poolQueryFloor: { issue: LevelResult[]; revoke: LevelResult[]; cpuPerOp: Record<string, CpuPerOp>; sessions: number; conflictsRetried: number };
  /** CPU ms per operation and component, keyed `issue-c32`, `revoke-c8`, … */
  cpuPerOp: { host: Record<string, CpuPerOp>; floor: Record<string, CpuPerOp> };
  /** Latency of the pieces of one credential at concurrency 1. */
  breakdownC1: Record<string, LatencyStats>;
  /** Plugin CPU ms per request of the request-only pieces (absent in results of older runs). */
  breakdownPluginCpuC1?: Record<string, number>;
  coldStart: ColdStartResult;
  rss: { idleMb: number; load: RssSummary; afterIssueMb: Record<string, number> };
  /** The plugin's CPU profile, top entries: before the performance work (committed) and of this run (BENCH_CPU_PROF=1). */
  profile: ProfileComparison;
  targets: TargetResult[];
  reference: { source: string; credsPerSec: number; meanMs: number; p99Ms: number };
}

export type TargetId =
  | 'cpuC1'
  | 'cpuC32'
  | 'cpuRevokeC8'
  | 'cpuRevokeC32'
  | 'p50C1'
  | 'p99C1'
  | 'throughputC32'
  | 'coldStart'
  | 'idleRss'
  | 'loadRss';

export interface TargetResult {
  id: TargetId;
  name: string;
  ours: number;
  limit: number;
  comparison: '>=' | '<=';
  pass: boolean;
}

/** Vault's own published local example (a different machine): context, not a target. */
export const VAULT_REFERENCE = {
  source: "HashiCorp's published local example for the database secrets engine (different machine)",
  credsPerSec: 221,
  meanMs: 45,
  p99Ms: 77,
};

/** Issue 11's targets. */
const TARGETS = {
  /** Plugin CPU (user + system, /proc) per issued credential, ms. */
  cpuC1Ms: 1.5,
  cpuC32Ms: 1.0,
  /** Plugin CPU per revocation, ms, at every measured revocation level. */
  cpuRevokeMs: 0.5,
  p50RatioC1: 1.25,
  p99RatioC1: 2,
  /** Against the better of the floor's c1 and c32 rates, with no errors. */
  throughputRatioC32: 1.25,
  coldStartMs: 100,
  idleRssMb: 64,
  loadRssMb: 128,
};

function at(levels: readonly LevelResult[], concurrency: number): LevelResult | undefined {
  return levels.find((l) => l.concurrency === concurrency);
}

/** "The floor": the better of the floor's c1 and c32 rates. */
export function floorRate(r: Pick<BenchResults, 'issuance'>): number {
  return Math.max(at(r.issuance.floor, 1)?.throughput ?? 0, at(r.issuance.floor, 32)?.throughput ?? 0);
}

export function evaluateTargets(r: Omit<BenchResults, 'targets'>): TargetResult[] {
  const hostC32 = at(r.issuance.host, 32);
  // A level with errors has no throughput worth comparing.
  const oursC32 = hostC32 === undefined || hostC32.errors > 0 ? NaN : hostC32.throughput;
  const latency = (levels: readonly LevelResult[], p: 'p50' | 'p99'): number => at(levels, 1)?.latency[p] ?? NaN;
  const pluginCpu = (key: string): number => r.cpuPerOp.host[key]?.plugin ?? NaN;
  const mk = (id: TargetId, name: string, ours: number, limit: number, comparison: '>=' | '<='): TargetResult => ({
    id,
    name,
    ours,
    limit,
    comparison,
    pass: comparison === '>=' ? ours >= limit : ours <= limit,
  });
  return [
    mk('cpuC1', 'plugin CPU ms per credential, c1', pluginCpu('issue-c1'), TARGETS.cpuC1Ms, '<='),
    mk('cpuC32', 'plugin CPU ms per credential, c32', pluginCpu('issue-c32'), TARGETS.cpuC32Ms, '<='),
    mk('cpuRevokeC8', 'plugin CPU ms per revocation, c8', pluginCpu('revoke-c8'), TARGETS.cpuRevokeMs, '<='),
    mk('cpuRevokeC32', 'plugin CPU ms per revocation, c32', pluginCpu('revoke-c32'), TARGETS.cpuRevokeMs, '<='),
    mk('p50C1', 'p50 at c1 vs floor p50 at c1 (ratio)', latency(r.issuance.host, 'p50') / latency(r.issuance.floor, 'p50'), TARGETS.p50RatioC1, '<='),
    mk('p99C1', 'p99 at c1 vs floor p99 at c1 (ratio)', latency(r.issuance.host, 'p99') / latency(r.issuance.floor, 'p99'), TARGETS.p99RatioC1, '<='),
    mk('throughputC32', 'through-host creds/s at c32 (0 errors) vs floor (ratio)', oursC32 / floorRate(r), TARGETS.throughputRatioC32, '>='),
    mk('coldStart', 'cold start median (ms)', r.coldStart.stats.p50, TARGETS.coldStartMs, '<='),
    mk('idleRss', 'idle RSS (MB)', r.rss.idleMb, TARGETS.idleRssMb, '<='),
    mk('loadRss', 'RSS under load, sampled peak (MB)', r.rss.load.peakSampledMb, TARGETS.loadRssMb, '<='),
  ];
}

// ---------------------------------------------------------------------------
// The printed table
// ---------------------------------------------------------------------------

type Row = [string, string, string, string, string];

const f0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');
const verdict = (r: BenchResults, id: TargetId | undefined): string => {
  const t = r.targets.find((x) => x.id === id);
  return t === undefined ? '' : `${t.comparison === '>=' ? '≥' : '≤'} ${t.limit}${t.name.includes('ratio') ? '×' : ''}  ${t.pass ? 'PASS' : 'MISS'}`;
};

function issuanceRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  for (const c of [1, 8, 32]) {
    const h = at(r.issuance.host, c);
    const fl = at(r.issuance.floor, c);
    if (h === undefined || fl === undefined) continue;
    rows.push([`issue creds/s  c${c}  (n=${h.completed}/${fl.completed})`, f1(h.throughput), f1(fl.throughput), ratio(h.throughput, fl.throughput), '']);
    for (const p of ['p50', 'p95', 'p99'] as const) {
      const target = c === 1 && p === 'p50' ? 'p50C1' : c === 1 && p === 'p99' ? 'p99C1' : undefined;
      rows.push([`issue ${p} ms    c${c}`, f1(h.latency[p]), f1(fl.latency[p]), ratio(h.latency[p], fl.latency[p]), verdict(r, target)]);
    }
  }
  const c32 = at(r.issuance.host, 32)?.throughput ?? NaN;
  rows.push(['issue creds/s c32 vs THE FLOOR (best of floor c1/c32)', f1(c32), f1(floorRate(r)), ratio(c32, floorRate(r)), verdict(r, 'throughputC32')]);
  return rows;
}

function revocationRows(r: BenchResults): Row[] {
  return r.revocation.host.flatMap((h): Row[] => {
    const fl = at(r.revocation.floor, h.concurrency);
    if (fl === undefined) return [];
    return [
      [`revoke /s      c${h.concurrency}  (n=${h.completed}/${fl.completed})`, f1(h.throughput), f1(fl.throughput), ratio(h.throughput, fl.throughput), ''],
      [`revoke p50 ms  c${h.concurrency}`, f1(h.latency.p50), f1(fl.latency.p50), ratio(h.latency.p50, fl.latency.p50), ''],
    ];
  });
}

function processRows(r: BenchResults): Row[] {
  const cs = r.coldStart.stats;
  return [
    [`cold start exec→handshake ms (median of ${r.coldStart.runs}; min ${f0(cs.min)}, max ${f0(cs.max)})`, f0(cs.p50), '', '', verdict(r, 'coldStart')],
    ['plugin RSS idle after mount+config (MB)', f1(r.rss.idleMb), '', '', verdict(r, 'idleRss')],
    [`plugin RSS under load, peak of ${r.rss.load.samples} samples/${r.rss.load.intervalMs} ms (MB)`, f1(r.rss.load.peakSampledMb), '', '', verdict(r, 'loadRss')],
    ['plugin RSS right after the c32 issuance level (MB)', f1(r.rss.afterIssueMb['c32'] ?? NaN), '', '', ''],
    ['plugin RSS at end of load, all leases revoked (MB)', f1(r.rss.load.endMb), '', '', ''],
    ['plugin RSS kernel high-water mark VmHWM (MB)', f1(r.rss.load.kernelPeakMb), '', '', ''],
  ];
}

function cpuRows(r: BenchResults): Row[] {
  const warm = r.parameters.warmup;
  const first = r.cpuPerOp.host[`warmup-first-c${warm.concurrency}`];
  const warmRow: Row[] =
    first === undefined ? [] : [[`  plugin CPU ms per credential, first ${warm.count} after mount (V8 still compiling), c${warm.concurrency}`, f2(first.plugin), '', '', '']];
  return [1, 8, 32].flatMap((c): Row[] => {
    const h = r.cpuPerOp.host[`issue-c${c}`];
    const fl = r.cpuPerOp.floor[`issue-c${c}`];
    if (h === undefined || fl === undefined) return [];
    return [
      [`CPU ms/cred c${c}: total`, f1(h.total), f1(fl.total), ratio(h.total, fl.total), ''],
      [`  plugin/host/postgres/client (+other procs)  c${c}`, `${f1(h.plugin)}/${f1(h.host)}/${f1(h.postgres)}/${f1(h.bench)} (+${f1(h.other)})`, `–/–/${f1(fl.postgres)}/${f1(fl.bench)} (+${f1(fl.other)})`, '', ''],
      [`  plugin CPU ms per credential  c${c}`, f2(h.plugin), '', '', verdict(r, c === 1 ? 'cpuC1' : c === 32 ? 'cpuC32' : undefined)],
    ];
  }).concat(warmRow);
}

function revocationCpuRows(r: BenchResults): Row[] {
  return r.revocation.host.flatMap((h): Row[] => {
    const cpu = r.cpuPerOp.host[`revoke-c${h.concurrency}`];
    const fl = r.cpuPerOp.floor[`revoke-c${h.concurrency}`];
    if (cpu === undefined) return [];
    const id: TargetId | undefined = h.concurrency === 8 ? 'cpuRevokeC8' : h.concurrency === 32 ? 'cpuRevokeC32' : undefined;
    return [
      [`  plugin/host/postgres/client (+other procs)  revoke c${h.concurrency}`, `${f1(cpu.plugin)}/${f1(cpu.host)}/${f1(cpu.postgres)}/${f1(cpu.bench)} (+${f1(cpu.other)})`, fl === undefined ? '' : `–/–/${f1(fl.postgres)}/${f1(fl.bench)} (+${f1(fl.other)})`, '', ''],
      [`  plugin CPU ms per revocation  c${h.concurrency}`, f2(cpu.plugin), '', '', verdict(r, id)],
    ];
  });
}

function profileRows(r: BenchResults): Row[] {
  const { before, after } = r.profile;
  const rows: Row[] = [];
  const list = (title: string, entries: readonly ProfileEntry[] | undefined, busyMs: number | undefined): void => {
    if (entries === undefined) return;
    rows.push([`${title} (busy ${f0(busyMs ?? NaN)} ms)`, '', '', '', '']);
    for (const e of entries) rows.push([`  ${e.fn.slice(0, 72)}`, `${f1(e.selfMs)} ms`, `${f1(e.pct)} %`, '', '']);
  };
  list('before: top self time', before?.top, before?.busyMs);
  list('before: top inclusive time, plugin code', before?.topInclusive, before?.busyMs);
  if (after === undefined) rows.push(['after: not profiled in this run (BENCH_CPU_PROF=1 npm run bench)', '', '', '', '']);
  if (after !== undefined) rows.push([`after: ${after.source}`.slice(0, 100), '', '', '', '']);
  list('after: top self time', after?.top, after?.busyMs);
  list('after: top inclusive time, plugin code', after?.topInclusive, after?.busyMs);
  return rows;
}

function connectionRows(r: BenchResults): Row[] {
  const pq = r.poolQueryFloor;
  const pqIssue = at(pq.issue, 32);
  const hostC32 = at(r.issuance.host, 32)?.throughput ?? NaN;
  const hostP50C32 = at(r.issuance.host, 32)?.latency.p50 ?? NaN;
  const c = r.connections;
  return [
    ['PostgreSQL sessions opened during all levels', f0(c.hostSessions), f0(c.floorSessions), ratio(c.hostSessions, c.floorSessions), ''],
    ['conflicts (XX000/40001/40P01) retried by the floor during issuance', '', f0(c.floorConflictsRetried), '', ''],
    ['one new connection (TCP+SCRAM+backend start, SELECT 1, close): p50 ms', '', f1(c.newConnection.latency.p50), '', ''],
    ['  its CPU ms: PostgreSQL / client', '', `${f1(c.newConnection.cpu.postgres)} / ${f1(c.newConnection.cpu.bench)}`, '', ''],
    [`naive floor (plain pool.query) issue creds/s c32`, f1(hostC32), f1(pqIssue?.throughput ?? NaN), ratio(hostC32, pqIssue?.throughput ?? NaN), ''],
    [`naive floor (plain pool.query) issue p50 ms c32`, f1(hostP50C32), f1(pqIssue?.latency.p50 ?? NaN), ratio(hostP50C32, pqIssue?.latency.p50 ?? NaN), ''],
    [`  its sessions opened / conflicts retried (c32 issue + unmeasured revoke)`, '', `${f0(pq.sessions)} / ${f0(pq.conflictsRetried)}`, '', ''],
  ];
}

function breakdownRows(r: BenchResults): Row[] {
  const label: Record<string, string> = {
    hostOnly: 'GET sys/health (HTTP + host only)',
    pluginRoundTrip: 'GET pg/roles/app (+ host→plugin gRPC, cached)',
    pluginStorageRoundTrip: 'LIST pg/roles (+ 1 plugin→host storage call)',
    scram: 'SCRAM verifier alone (PBKDF2 4096)',
    floorSqlOnly: 'creation SQL alone via pg (no SCRAM)',
    floorSqlOneIteration: '  the same, verifier of 1 PBKDF2 iteration instead of 4096',
  };
  return Object.entries(r.breakdownC1).flatMap(([k, s]): Row[] => {
    const cpu = r.breakdownPluginCpuC1?.[k];
    const rows: Row[] = [[`c1 p50 ms: ${label[k] ?? k}`, f1(s.p50), '', '', '']];
    if (cpu !== undefined && k !== 'hostOnly') rows.push([`  its plugin CPU ms per request`, f2(cpu), '', '', '']);
    return rows;
  });
}

function formatTable(header: Row, sections: [string, Row[]][]): string {
  const all = [header, ...sections.flatMap(([, rows]) => rows)];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: Row): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((s, w) => s + w + 2, -2));
  const out = [line(header), rule];
  for (const [title, rows] of sections) {
    if (rows.length === 0) continue;
    out.push(`[${title}]`, ...rows.map(line));
  }
  return out.join('\n');
}

/** The table printed at the end of a run. */
export function renderTable(r: BenchResults): string {
  const ref = r.reference;
  return [
    formatTable(['measurement', 'ours', 'floor', 'ours/floor', 'target'], [
      ['issuance: GET pg/creds/app through the host vs pg.Pool direct', issuanceRows(r)],
      ['revocation: PUT sys/leases/revoke vs default procedure via pg', revocationRows(r)],
      ['process', processRows(r)],
      ['where time goes: CPU per credential (all processes, /proc)', cpuRows(r)],
      ['where time goes: CPU per revocation (all processes, /proc)', revocationCpuRows(r)],
      ['where time goes: connections (the floor keeps a connection after an SQL error)', connectionRows(r)],
      ['where time goes: pieces at concurrency 1', breakdownRows(r)],
      ['where the plugin\'s main thread was: CPU profile (wall-clock samples), self ms / % of busy', profileRows(r)],
    ]),
    '',
    `context (${ref.source}): ≈${ref.credsPerSec} creds/s, mean ${ref.meanMs} ms, p99 ${ref.p99Ms} ms`,
    `targets: ${r.targets.filter((t) => t.pass).length}/${r.targets.length} PASS`,
  ].join('\n');
}

// ---------------------------------------------------------------------------
// The chart's content
// ---------------------------------------------------------------------------

export function chartSpec(r: BenchResults): ChartSpec {
  const value = (levels: readonly LevelResult[], c: number, pick: (l: LevelResult) => number): number => {
    const level = at(levels, c);
    return level === undefined ? NaN : pick(level);
  };
  const pair = (host: readonly LevelResult[], floor: readonly LevelResult[], alt: readonly LevelResult[], pick: (l: LevelResult) => number) =>
    host.map((h) => ({ label: `c${h.concurrency}`, ours: pick(h), floor: value(floor, h.concurrency, pick), alt: value(alt, h.concurrency, pick) }));
  const pq = r.poolQueryFloor;
  return {
    title: 'vault-plugin-secrets-postgres: dynamic credentials, ours vs floor',
    subtitle: `${r.machine.cpus} CPUs, Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}, ${r.machine.date.slice(0, 10)}; pool size ${String(r.parameters.poolSize)}; c = concurrency`,
    oursLabel: 'ours: through the Vault host (HTTP → gRPC → plugin)',
    floorLabel: 'floor: same SQL via pg.Pool',
    altLabel: 'naive floor (plain pool.query)',
    panels: [
      { title: 'Issuance throughput (higher is better)', unit: 'creds/s', groups: pair(r.issuance.host, r.issuance.floor, pq.issue, (l) => l.throughput) },
      { title: 'Issuance p50 latency (lower is better)', unit: 'ms', groups: pair(r.issuance.host, r.issuance.floor, pq.issue, (l) => l.latency.p50) },
      { title: 'Revocation throughput (higher is better)', unit: 'revokes/s', groups: pair(r.revocation.host, r.revocation.floor, pq.revoke, (l) => l.throughput) },
    ],
  };
}
