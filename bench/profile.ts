// The top entries of the plugin's CPU profile (BENCH_CPU_PROF=1), for the
// results and the table, next to the same summary of the profile taken
// before the performance work (profile-baseline.json), so that a run shows
// where the plugin's time went then and goes now. Profiling slows the
// plugin, so a profiled run's summary is also kept (profile-after.json,
// with the binary's SHA256) and shown by unprofiled runs of the same
// binary, whose CPU numbers are the ones to go by.
//
// V8's profiler samples by wall-clock time on the main thread: a sample
// taken while the thread was descheduled inside a system call counts for
// that call (on two cores `writeBuffer` absorbs the time PostgreSQL runs
// after being woken by a query). PBKDF2 runs on libuv's thread pool and
// shows only as its small main-thread part. The entries say where the main
// thread was, not exactly what it cost; /proc's CPU split says that.

import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
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
  /** SHA256 of the binary profiled; absent in the baseline. */
  binarySha256?: string;
  /** Sampled time the thread was not idle, in ms. */
  busyMs: number;
  /** By self time, any code. */
  top: ProfileEntry[];
  /** By inclusive time (the function and what it called), named functions of the plugin's own code (src/) only, or of the bundle without a source map. */
  topInclusive: ProfileEntry[];
}

/** Before (the committed baseline) and, when this run profiled, after. */
export interface ProfileComparison {
  before: ProfileSummary | undefined;
  after: ProfileSummary | undefined;
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Entries in a summary. */
export const PROFILE_TOP = 12;

/** The build's source map of the minified bundle: profiles name minified functions, it names their source. */
export const BUNDLE_SOURCE_MAP = path.resolve(__dirname, '..', '.build', 'bundle.js.map');
const BASELINE = path.join(__dirname, 'profile-baseline.json');
const AFTER = path.join(__dirname, 'profile-after.json');

/**
 * Summarises a .cpuprofile file: the `top` functions by self time (idle
 * left out), with their share of the busy time. Functions of the bundle
 * are named by where they are in the source (`sourceMap`: the build's map,
 * when it exists) as well as by their minified name.
 *
 * @throws when the file cannot be read or is not a V8 CPU profile.
 */
export function summariseProfile(
  file: string,
  top: number = PROFILE_TOP,
  source: string = path.basename(file),
  sourceMap: string = BUNDLE_SOURCE_MAP,
): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${file} is not a V8 CPU profile`);
  }
  const map = loadSourceMap(sourceMap);
  const names = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const original: unknown = map !== undefined && isBundle(url) ? map.findEntry(lineNumber, columnNumber ?? 0) : undefined;
    let where = url === '' ? '' : ` ${url.split('/').pop() ?? url}:${lineNumber + 1}`;
    if (isMapping(original)) where = ` ${original.originalSource.replace(/^(\.\.\/)+/, '')}:${original.originalLine + 1}`;
    names.set(node.id, `${functionName || '(anonymous)'}${where}`);
  }
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const ours = new Set(profile.nodes.filter((n) => isBundle(n.callFrame.url) && n.callFrame.functionName !== '').map((n) => n.id));
  // With the source map, "plugin code" is src/ only (libraries are bundled too).
  if (map !== undefined) for (const id of ours) if (!(names.get(id) ?? '').includes(' src/')) ours.delete(id);

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
  return readSummary(BASELINE);
}

/** Keeps a profiled run's summary for later unprofiled runs of the same binary. */
export function keepAfterProfile(summary: ProfileSummary): void {
  fs.writeFileSync(AFTER, `${JSON.stringify(summary, null, 2)}\n`);
}

/** The kept summary of a profiled run of the binary with digest `sha256`; undefined when there is none. */
export function keptAfterProfile(sha256: string): ProfileSummary | undefined {
  const kept = readSummary(AFTER);
  return kept?.binarySha256 === sha256 ? kept : undefined;
}

function readSummary(file: string): ProfileSummary | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileSummary;
  } catch {
    return undefined;
  }
}

function loadSourceMap(file: string): SourceMap | undefined {
  try {
    return new SourceMap(JSON.parse(fs.readFileSync(file, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return undefined;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/**
 * The bundle's script as profiles name it: `bundle.js` when run from
 * .build/, the main script's name inside the executable (see
 * scripts/package-sea.cjs) when run as the plugin binary.
 */
function isBundle(url: string): boolean {
  return url.endsWith('bundle.js') || url.endsWith('vault-plugin-secrets-postgres.js');
}

function isMapping(entry: unknown): entry is { originalSource: string; originalLine: number } {
  return typeof entry === 'object' && entry !== null && 'originalSource' in entry && typeof entry.originalSource === 'string' && 'originalLine' in entry && typeof entry.originalLine === 'number';
}
