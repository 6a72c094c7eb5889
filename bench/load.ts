// The concurrency runner and latency statistics shared by every load phase.
//
// A level runs `count` operations through `concurrency` workers that pull from
// one shared counter (a closed loop: each worker starts its next operation as
// soon as the previous one ends). A level is also bounded in time: after
// `maxMs` no new operation is started, so a slow system cannot make the run
// last forever; the result then says how many operations completed.

/** One operation; its index lets callers pick per-operation input. */
export type Operation = (index: number) => Promise<void>;

export interface LevelSpec {
  concurrency: number;
  count: number;
  /** No operation starts after this many ms from the level's start. */
  maxMs: number;
}

/** Latency percentiles in milliseconds. */
export interface LatencyStats {
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LevelResult {
  concurrency: number;
  requested: number;
  completed: number;
  errors: number;
  /** Up to a few distinct error messages, to make failures explainable. */
  errorSamples: string[];
  /** True when the time bound stopped the level before `count` operations. */
  timedOut: boolean;
  wallMs: number;
  /** Completed operations per second of wall time. */
  throughput: number;
  latency: LatencyStats;
}

const MAX_ERROR_SAMPLES = 5;

/** Runs one level and measures it. Failed operations count as errors, not as throughput. */
export async function runLevel(spec: LevelSpec, op: Operation): Promise<LevelResult> {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + spec.maxMs;

  const worker = async (): Promise<void> => {
    while (next < spec.count && performance.now() < deadline) {
      const index = next++;
      const t0 = performance.now();
      try {
        await op(index);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (errorSamples.size < MAX_ERROR_SAMPLES) errorSamples.add(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));

  const wallMs = performance.now() - start;
  return {
    concurrency: spec.concurrency,
    requested: spec.count,
    completed: latencies.length,
    errors,
    errorSamples: [...errorSamples],
    timedOut: next < spec.count,
    wallMs,
    throughput: latencies.length / (wallMs / 1000),
    latency: latencyStats(latencies),
  };
}

/** Nearest-rank percentiles (no interpolation: every value reported was observed). */
export function latencyStats(values: readonly number[]): LatencyStats {
  if (values.length === 0) return { min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  return {
    min: sorted[0] ?? NaN,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** Runs `ops` untimed at `concurrency` (warm-ups, clean-ups); throws on the first failure. */
export async function runAll(count: number, concurrency: number, op: Operation): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
