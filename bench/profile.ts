// The top entries of the plugin's CPU profile (BENCH_CPU_PROF=1), for the
// results and the table, next to the same summary of the profile taken
// before the performance work (profile-baseline.json), so that a run shows
// where the plugin's time went then and goes now.
//
// V8's profiler samples by wall-clock time on the main thread: a sample
// taken while the thread was descheduled inside a system call counts for
// that call (on two cores `writeBuffer` absorbs the time PostgreSQL runs
// after being woken by a query). PBKDF2 runs on libuv's thread pool and
// shows only as its small main-thread part. The entries say where the main
// thread was, not exactly what it cost; /proc's CPU split says that.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** One function in the summary. */
export interface ProfileEntry {
  /** `name file:line` (1-based line; file is the last path segment). */
  fn: string;
  /** Self time in ms (in topInclusive: inclusive time). */
  selfMs: number;
  /** Share of the profile's busy (non-idle) time, in %. */
  pct: number;
}

/** The top of one profile. */
export interface ProfileSummary {
  /** Where it comes from (a file name, or how the baseline was taken). */
  source: string;
  /** Sampled time the thread was not idle, in ms. */
  busyMs: number;
  /** By self time, any code. */
  top: ProfileEntry[];
  /** By inclusive time (the function and what it called), named functions of the plugin's bundle only. */
  topInclusive: ProfileEntry[];
}

/** Before (the committed baseline) and, when this run profiled, after. */
export interface ProfileComparison {
  before: ProfileSummary | undefined;
  after: ProfileSummary | undefined;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Entries in a summary. */
export const PROFILE_TOP = 12;

const BASELINE = path.join(__dirname, 'profile-baseline.json');

/**
 * Summarises a .cpuprofile file: the `top` functions by self time (idle
 * left out), with their share of the busy time.
 *
 * @throws when the file cannot be read or is not a V8 CPU profile.
 */
export function summariseProfile(file: string, top: number = PROFILE_TOP, source: string = path.basename(file)): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${file} is not a V8 CPU profile`);
  }
  const names = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.split('/').pop() ?? url}:${lineNumber + 1}`;
    names.set(node.id, `${functionName || '(anonymous)'}${where}`);
  }
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const ours = new Set(profile.nodes.filter((n) => n.callFrame.url.endsWith('bundle.js') && n.callFrame.functionName !== '').map((n) => n.id));

  const selfUs = new Map<string, number>();
  const inclusiveUs = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const fn = names.get(id) ?? '(unknown)';
    if (fn === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    busyUs += us;
    selfUs.set(fn, (selfUs.get(fn) ?? 0) + us);
    // Each function once per sample, however deep it recursed.
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
      const name = names.get(node);
      if (name === undefined || !ours.has(node) || seen.has(name)) continue;
      seen.add(name);
      inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + us);
    }
  });
  const rank = (times: Map<string, number>): ProfileEntry[] =>
    [...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, selfMs: round1(us / 1000), pct: round1((100 * us) / busyUs) }));
  return { source, busyMs: Math.round(busyUs / 1000), top: rank(selfUs), topInclusive: rank(inclusiveUs) };
}

/**
 * The serving plugin's profile in `dir`: the largest file (the host also
 * starts the binary briefly to check its version, which leaves a small one).
 */
export function pluginProfile(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  return files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
}

/** The committed summary of the profile before the performance work; undefined when missing. */
export function baselineProfile(): ProfileSummary | undefined {
  try {
    return JSON.parse(fs.readFileSync(BASELINE, 'utf8')) as ProfileSummary;
  } catch {
    return undefined;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
