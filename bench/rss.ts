// Resident memory of the plugin process, seen from /proc: once when idle,
// and sampled on a timer during load so the peak is seen too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { hwmKb, pidsByExe, rssKb } from './proc';

/** The plugin process the host started from `command` inside its plugin dir. */
export function findPluginPid(pluginDir: string, command: string): number {
  const binary = path.join(pluginDir, command);
  if (!fs.existsSync(binary)) throw new Error(`plugin binary ${binary} does not exist`);
  const pids = pidsByExe(binary);
  if (pids.length !== 1) throw new Error(`expected one process running ${binary}, found ${pids.length}`);
  return pids[0] as number;
}

export interface RssSummary {
  /** Highest VmRSS seen by the sampler, in MB. */
  peakSampledMb: number;
  /** VmRSS when sampling stopped, in MB. */
  endMb: number;
  /** The kernel's VmHWM at that time: the true peak since the process started, in MB. */
  kernelPeakMb: number;
  samples: number;
  intervalMs: number;
  /** [seconds since sampling started, MB] for every sample: growth shows whether memory levels off. */
  timeline: [number, number][];
}

const KB_PER_MB = 1024;

/** VmRSS in MB right now; throws when the process is gone (it should not be). */
export function rssMbNow(pid: number): number {
  const kb = rssKb(pid);
  if (kb === undefined) throw new Error(`process ${pid} is gone`);
  return kb / KB_PER_MB;
}

/** Samples VmRSS every `intervalMs` until stop() is called. */
export class RssSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #start = performance.now();
  readonly #timeline: [number, number][] = [];
  #peakKb = 0;

  constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const kb = rssKb(this.#pid);
    if (kb === undefined) return;
    this.#timeline.push([Math.round(performance.now() - this.#start) / 1000, Math.round((kb / KB_PER_MB) * 10) / 10]);
    this.#peakKb = Math.max(this.#peakKb, kb);
  }

  stop(): RssSummary {
    clearInterval(this.#timer);
    this.#sample();
    return {
      peakSampledMb: this.#peakKb / KB_PER_MB,
      endMb: rssMbNow(this.#pid),
      kernelPeakMb: (hwmKb(this.#pid) ?? NaN) / KB_PER_MB,
      samples: this.#timeline.length,
      intervalMs: this.#intervalMs,
      timeline: this.#timeline,
    };
  }
}
