// `npm run bench`: one run that measures the plugin next to its floor and
// writes bench/results.json, bench/results.png and a table on stdout.
//
// Order of phases:
//   1. cold start of the binary, first, while nothing else runs;
//   2. through the host: issuance levels c1, c8, c32, each followed by the
//      revocation of its leases (measured for c8 and c32), sampling the
//      plugin's RSS throughout; then the concurrency-1 pieces;
//   3. the floor through the same schedule (see side.ts for why every level
//      is revoked before the next one starts); then its c1 pieces;
//   4. the floor once more at c32 with pg-pool's plain pool.query (see
//      floor.ts: a failed query closes its connection), to show what that
//      costs under conflicts.
//
// Set BENCH_CPU_PROF=1 to run the plugin with --cpu-prof (profiles land in
// bench/profiles/ when the host shuts the plugin down); the results then
// hold the profile's top entries next to those of the profile taken before
// the performance work (bench/profile-baseline.json).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type PostgresServer } from '../scripts/lib/postgres';
import { startVaultHost, type VaultHost } from '../scripts/lib/vault-host';
import { scramSha256Verifier } from '../src/postgres/users/password';
import { writeChart } from './chart';
import { measureColdStart } from './cold-start';
import { cpuPerOp, cpuSnapshot, type CpuPerOp } from './cpu';
import { Floor, newConnection, scramOnly, type FloorMode } from './floor';
import { runAll, runLevel, type LatencyStats, type Operation } from './load';
import { createBenchTable, machineInfo, sessionsSoFar } from './machine';
import { chartSpec, evaluateTargets, renderTable, VAULT_REFERENCE, type BenchResults } from './report';
import { baselineProfile, keepAfterProfile, keptAfterProfile, pluginProfile, summariseProfile, type ProfileSummary } from './profile';
import { findPluginPid, RssSampler, rssMbNow, type RssSummary } from './rss';
import { runSide, type Schedule, type Side, type SideResult } from './side';
import { CREATION_STATEMENTS, DEFAULT_TTL_SECONDS, hostOnly, issueViaHost, mountPlugin, pluginRoundTrip, pluginStorageRoundTrip, revokeViaHost } from './through-host';

const ROOT = path.resolve(__dirname, '..');
const BINARY = path.join(ROOT, 'dist', 'vault-plugin-secrets-postgres');
const OUT_JSON = path.join(__dirname, 'results.json');
const OUT_PNG = path.join(__dirname, 'results.png');
const PROFILE_DIR = path.join(__dirname, 'profiles');

const PARAMS = {
  /** pg pool size on both sides: the plugin's max_open_connections (and max_idle) and the floor's pg.Pool max. */
  poolSize: 32,
  issueLevels: [
    { concurrency: 1, count: 200 },
    { concurrency: 8, count: 400 },
    { concurrency: 32, count: 640 },
  ],
  /** Before the levels (see side.ts): opens the pool's connections, lets V8 compile the hot paths, warms caches. */
  warmup: { concurrency: 32, count: 500, rounds: 3 },
  /** A level starts no new operation after this long. */
  maxMsPerLevel: 30_000,
  /** The credentials of these levels are revoked measured, at the level's concurrency; the others unmeasured. */
  revokeConcurrencies: [8, 32],
  cleanupConcurrency: 8,
  coldStartRuns: 20,
  rssIntervalMs: 200,
  /** Samples per piece of the concurrency-1 breakdown. */
  breakdownSamples: 100,
  /** Samples per request-only piece (no database work): enough for /proc's 10 ms CPU ticks to price one request. */
  requestPieceSamples: 2000,
  /** New connections opened one after another to price one. */
  connectionSamples: 40,
  /** Vault's default log level; the host's -log-level debug would relay every plugin trace line. */
  hostLogLevel: 'info',
  rollbackPeriod: '1m',
  roleDefaultTtlSeconds: DEFAULT_TTL_SECONDS,
  creationStatements: CREATION_STATEMENTS,
};

/** The naive floor (pool.query) once more: issuance at c32 only (revoked unmeasured), to show what dropped connections cost. */
const POOL_QUERY_SCHEDULE: Schedule = { ...PARAMS, issueLevels: PARAMS.issueLevels.filter((l) => l.concurrency === 32), revokeConcurrencies: [] };
/** PostgreSQL backends flush their statistics about once a second. */
const STATS_FLUSH_MS = 1100;

const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Stops what was started, newest first, also when a phase failed. */
class Cleanup {
  readonly #steps: (() => Promise<void>)[] = [];
  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }
  /** Each step runs once: run() may be called again (success path, then finally). */
  async run(): Promise<void> {
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      await step().catch((err: unknown) => log(`cleanup step failed: ${String(err)}`));
    }
  }
}

async function latencyAtC1(op: Operation, samples: number = PARAMS.breakdownSamples): Promise<LatencyStats> {
  const r = await runLevel({ concurrency: 1, count: samples, maxMs: PARAMS.maxMsPerLevel }, op);
  if (r.errors > 0) throw new Error(`breakdown step failed: ${r.errorSamples.join('; ')}`);
  return r.latency;
}

interface HostPhase extends SideResult {
  breakdown: Record<string, LatencyStats>;
  /** Plugin CPU ms per request of each request-only piece. */
  breakdownPluginCpu: Record<string, number>;
  idleRssMb: number;
  loadRss: RssSummary;
  /** VmRSS right after each issuance level, by concurrency. */
  rssAfterIssueMb: Record<string, number>;
  /** PostgreSQL sessions the plugin opened during the levels. */
  sessions: number;
}

/** Everything through the conformance host. */
async function hostPhase(pg: PostgresServer, binary: string, cleanup: Cleanup): Promise<HostPhase> {
  const catalogEnv = process.env.BENCH_CPU_PROF ? [`NODE_OPTIONS=--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (catalogEnv.length > 0) {
    // Profiles of earlier runs would be taken for this one's.
    fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
  }
  const host: VaultHost = await startVaultHost({ rollbackPeriod: PARAMS.rollbackPeriod, extraArgs: ['-log-level', PARAMS.hostLogLevel] });
  cleanup.push(() => host.stop());
  try {
    const result = await hostPhaseWith(host, pg, binary, catalogEnv);
    // Stopped now, so that neither it nor the plugin competes with the floor for the cores.
    await host.stop();
    return result;
  } catch (err) {
    log(`host logs (tail):\n${host.logs().split('\n').slice(-30).join('\n')}`);
    throw err;
  }
}

async function hostPhaseWith(host: VaultHost, pg: PostgresServer, binary: string, catalogEnv: string[]): Promise<HostPhase> {
  const command = await mountPlugin(host, pg, binary, PARAMS.poolSize, catalogEnv);
  const pluginPid = findPluginPid(host.pluginDir, command);
  // Let start-up garbage settle before calling the plugin idle.
  await sleep(1000);
  const idleRssMb = rssMbNow(pluginPid);
  log(`plugin pid ${pluginPid}, idle RSS ${idleRssMb.toFixed(1)} MB`);

  const side: Side = { name: 'host', issue: (items) => issueViaHost(host, items), revoke: (items, offset) => revokeViaHost(host, items, offset) };
  const rssAfterIssueMb: Record<string, number> = {};
  const sampler = new RssSampler(pluginPid, PARAMS.rssIntervalMs);
  const targets = { pluginPid, hostPid: host.pid, postgresPort: pg.port };
  const { result, sessions } = await countSessions(pg, () =>
    runSide(side, PARAMS, targets, log, (c) => {
      rssAfterIssueMb[`c${c}`] = rssMbNow(pluginPid);
    }),
  );
  const loadRss = sampler.stop();
  const breakdown: Record<string, LatencyStats> = {};
  const breakdownPluginCpu: Record<string, number> = {};
  const pieces: [string, Operation][] = [
    ['hostOnly', hostOnly(host)],
    ['pluginRoundTrip', pluginRoundTrip(host)],
    ['pluginStorageRoundTrip', pluginStorageRoundTrip(host)],
  ];
  for (const [name, op] of pieces) {
    const before = cpuSnapshot(targets);
    breakdown[name] = await latencyAtC1(op, PARAMS.requestPieceSamples);
    breakdownPluginCpu[name] = cpuPerOp(before, cpuSnapshot(targets), PARAMS.requestPieceSamples).plugin;
  }
  return { ...result, breakdown, breakdownPluginCpu, idleRssMb, loadRss, rssAfterIssueMb, sessions };
}

/** New PostgreSQL sessions while `work` ran: connections opened by whoever did the work. */
async function countSessions<T>(pg: PostgresServer, work: () => Promise<T>): Promise<{ result: T; sessions: number }> {
  const before = await sessionsSoFar(pg);
  const result = await work();
  await sleep(STATS_FLUSH_MS);
  // Minus one: the session that reads the second count counts itself.
  return { result, sessions: (await sessionsSoFar(pg)) - before - 1 };
}

interface FloorRun extends SideResult {
  conflictsRetried: number;
  sessions: number;
}

/** The same work directly through pg, in `mode`, through `schedule`. */
async function floorRun(pg: PostgresServer, cleanup: Cleanup, mode: FloorMode, schedule: Schedule, name: string): Promise<FloorRun & { floor: Floor }> {
  const floor = new Floor(pg, PARAMS.poolSize, mode);
  cleanup.push(() => floor.end());
  const side: Side = { name, issue: (items) => floor.issue(items), revoke: (items, offset) => floor.drop(items, offset) };
  const { result, sessions } = await countSessions(pg, () => runSide(side, schedule, { postgresPort: pg.port }, log));
  return { ...result, conflictsRetried: floor.conflictsRetried, sessions, floor };
}

/** The pieces of one credential at c1, on an empty ACL like each level's start; their users are dropped afterwards. */
async function floorBreakdown(floor: Floor): Promise<Record<string, LatencyStats>> {
  const extra: string[] = [];
  const verifier = await scramSha256Verifier('bench-fixed-password');
  // PostgreSQL runs the verifier's PBKDF2 once more on CREATE ROLE … PASSWORD
  // (to refuse an empty password); a 1-iteration verifier shows that share.
  const oneIteration = await scramSha256Verifier('bench-fixed-password', { iterations: 1 });
  const breakdown = {
    scram: await latencyAtC1(scramOnly()),
    floorSqlOnly: await latencyAtC1(floor.issueSqlOnly(extra, verifier)),
    floorSqlOneIteration: await latencyAtC1(floor.issueSqlOnly(extra, oneIteration)),
  };
  await runAll(extra.length, PARAMS.cleanupConcurrency, floor.drop(extra, 0));
  return breakdown;
}

/** What one new PostgreSQL connection costs, in latency and in CPU (mostly the server's: a new backend process). */
async function connectionCost(pg: PostgresServer): Promise<{ latency: LatencyStats; cpu: CpuPerOp }> {
  const targets = { postgresPort: pg.port };
  const before = cpuSnapshot(targets);
  const r = await runLevel({ concurrency: 1, count: PARAMS.connectionSamples, maxMs: PARAMS.maxMsPerLevel }, newConnection(pg));
  if (r.errors > 0) throw new Error(`connecting failed: ${r.errorSamples.join('; ')}`);
  // The last backends may not have been reaped yet.
  await sleep(200);
  return { latency: r.latency, cpu: cpuPerOp(before, cpuSnapshot(targets), r.completed) };
}

/** How long to wait for a build of dist/ that is under way (its .sha256 is written last). */
const BUILD_WAIT_MS = 90_000;

/**
 * A private copy of dist's binary: a rebuild of dist/ while the run goes on
 * (others work in this tree) must not change what is measured halfway. The
 * copy must match dist/<name>.sha256, which the build writes last, so a
 * half-written binary is never measured.
 */
async function snapshotBinary(cleanup: Cleanup): Promise<BinaryInfo> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bin-'));
  cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, path.basename(BINARY));
  for (const deadline = Date.now() + BUILD_WAIT_MS; ; await sleep(2000)) {
    const copied = copyIfComplete(copy);
    if (copied !== undefined) return { path: copy, sha256: copied.sha256, builtAt: copied.builtAt, sizeMb: Math.round(fs.statSync(copy).size / 2 ** 20) };
    if (Date.now() > deadline) throw new Error(`${BINARY} is missing or does not match its .sha256: run npm run build first`);
    log('dist/ binary missing or not matching its .sha256 (a build under way?); waiting');
  }
}

/** Copies the binary to `dest` and returns its digest when it matches the build's .sha256 file. */
function copyIfComplete(dest: string): { sha256: string; builtAt: string } | undefined {
  try {
    const builtAt = fs.statSync(BINARY).mtime.toISOString();
    fs.copyFileSync(BINARY, dest);
    fs.chmodSync(dest, 0o755);
    const sha256 = createHash('sha256').update(fs.readFileSync(dest)).digest('hex');
    return fs.readFileSync(`${BINARY}.sha256`, 'utf8').trim() === sha256 ? { sha256, builtAt } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The top of this run's plugin profile (kept for later runs of the same
 * binary); without BENCH_CPU_PROF, that of the last profiled run of this
 * binary, if any.
 */
function afterProfile(sha256: string): ProfileSummary | undefined {
  if (!process.env.BENCH_CPU_PROF) return keptAfterProfile(sha256);
  const file = pluginProfile(PROFILE_DIR);
  if (file === undefined) {
    log('no plugin CPU profile was written');
    return undefined;
  }
  const summary = { ...summariseProfile(file, undefined, `profiled run of ${new Date().toISOString().slice(0, 16)}Z, BENCH_CPU_PROF=1 npm run bench`), binarySha256: sha256 };
  keepAfterProfile(summary);
  return summary;
}

interface BinaryInfo {
  path: string;
  sha256: string;
  builtAt: string;
  sizeMb: number;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const binary = await snapshotBinary(cleanup);
    log(`binary ${path.relative(ROOT, BINARY)} built ${binary.builtAt}, sha256 ${binary.sha256.slice(0, 16)}…`);
    log(`cold start: ${PARAMS.coldStartRuns} starts`);
    const coldStart = await measureColdStart(binary.path, PARAMS.coldStartRuns);
    log(`  median ${coldStart.stats.p50.toFixed(1)} ms (warm-up start ${coldStart.warmupMs.toFixed(1)} ms)`);

    const pg = await startPostgres();
    cleanup.push(() => pg.stop());
    await createBenchTable(pg);
    const machine = await machineInfo(pg);
    log(`PostgreSQL ${machine.postgres} on port ${pg.port}; ${machine.cpus} CPUs`);

    log('through the host');
    const host = await hostPhase(pg, binary.path, cleanup);
    log('floor (pg.Pool direct, keeping connections on SQL errors)');
    const floor = await floorRun(pg, cleanup, 'careful', PARAMS, 'floor');
    const floorPieces = await floorBreakdown(floor.floor);
    log('naive floor (pool.query: a failed query closes its connection), issuance at c32 only');
    const poolQuery = await floorRun(pg, cleanup, 'pool-query', POOL_QUERY_SCHEDULE, 'pool.query floor');
    const connection = await connectionCost(pg);
    log(`  one new connection: p50 ${connection.latency.p50.toFixed(1)} ms, PostgreSQL CPU ${connection.cpu.postgres.toFixed(1)} ms`);

    const partial: Omit<BenchResults, 'targets'> = {
      machine,
      parameters: { ...PARAMS, binary: { sha256: binary.sha256, builtAt: binary.builtAt, sizeMb: binary.sizeMb } },
      issuance: { host: host.issue, floor: floor.issue },
      revocation: { host: host.revoke, floor: floor.revoke },
      cpuPerOp: { host: host.cpu, floor: floor.cpu },
      connections: { hostSessions: host.sessions, floorSessions: floor.sessions, floorConflictsRetried: floor.conflictsRetried, newConnection: connection },
      poolQueryFloor: { issue: poolQuery.issue, revoke: poolQuery.revoke, cpuPerOp: poolQuery.cpu, sessions: poolQuery.sessions, conflictsRetried: poolQuery.conflictsRetried },
      breakdownC1: { ...host.breakdown, ...floorPieces },
      breakdownPluginCpuC1: host.breakdownPluginCpu,
      coldStart,
      rss: { idleMb: host.idleRssMb, load: host.loadRss, afterIssueMb: host.rssAfterIssueMb },
      profile: { before: baselineProfile(), after: afterProfile(binary.sha256) },
      reference: VAULT_REFERENCE,
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    fs.writeFileSync(OUT_JSON, `${JSON.stringify(results, null, 2)}\n`);
    await writeChart(chartSpec(results), OUT_PNG);
    await cleanup.run();
    process.stdout.write(`\n${renderTable(results)}\n\nwrote ${path.relative(ROOT, OUT_JSON)} and ${path.relative(ROOT, OUT_PNG)}\n`);
    if (process.env.BENCH_CPU_PROF) process.stdout.write(`plugin CPU profiles in ${path.relative(ROOT, PROFILE_DIR)}/\n`);
  } finally {
    // Idempotent: the stops above already ran on success.
    await cleanup.run();
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
