// Small readers of Linux's /proc, to find the processes under test and see
// their memory and CPU time from the outside (nothing inside them changes).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS = ((): number => {
  const res = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(res.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** Every numeric entry of /proc. */
export function listPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Target of /proc/<pid>/exe, or undefined for processes we may not inspect or that are gone. */
export function exeOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** argv of a process, or [] when it is gone. */
export function argvOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** A `Key:   value` line of /proc/<pid>/status, or undefined. */
function statusField(pid: number, key: string): string | undefined {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key}:`));
    return line?.slice(key.length + 1).trim();
  } catch {
    return undefined;
  }
}

/** Resident set size in kB (VmRSS), or undefined when the process is gone. */
export function rssKb(pid: number): number | undefined {
  const v = statusField(pid, 'VmRSS');
  return v === undefined ? undefined : parseInt(v, 10);
}

/** The kernel's own high-water mark of the resident set (VmHWM) in kB. */
export function hwmKb(pid: number): number | undefined {
  const v = statusField(pid, 'VmHWM');
  return v === undefined ? undefined : parseInt(v, 10);
}

export function ppidOf(pid: number): number | undefined {
  const v = statusField(pid, 'PPid');
  return v === undefined ? undefined : parseInt(v, 10);
}

/**
 * User+system CPU time of a process (all its threads) in ms; with
 * `reapedChildren`, plus that of its children that exited and were waited
 * for (how a postmaster's closed backends stay accounted for). The comm
 * field may contain spaces and parentheses, so fields are counted after the
 * last ')'.
 */
export function cpuMs(pid: number, reapedChildren = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After ')': field 3 is index 0, so utime (14), stime (15), cutime (16), cstime (17) are 11 to 14.
    const own = Number(fields[11]) + Number(fields[12]);
    const children = reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0;
    return ((own + children) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Pids whose executable is `binary` (compared after resolving symlinks). */
export function pidsByExe(binary: string): number[] {
  const want = fs.realpathSync(binary);
  return listPids().filter((pid) => {
    const exe = exeOf(pid);
    return exe !== undefined && exe.replace(/ \(deleted\)$/, '') === want;
  });
}

/**
 * The postmaster listening on `port` and all its children (backends and
 * auxiliary processes). Other PostgreSQL servers on the machine, e.g. from
 * tests running at the same time, are left out.
 */
export function postgresPids(port: number): number[] {
  const postmaster = listPids().find((pid) => {
    const exe = exeOf(pid);
    if (exe === undefined || path.basename(exe) !== 'postgres') return false;
    const argv = argvOf(pid);
    const p = argv.indexOf('-p');
    return p >= 0 && argv[p + 1] === String(port);
  });
  if (postmaster === undefined) return [];
  return [postmaster, ...listPids().filter((pid) => ppidOf(pid) === postmaster)];
}

/** The postmaster is the first of postgresPids(); see there. */
export function isPostmaster(pids: readonly number[], pid: number): boolean {
  return pids[0] === pid;
}

/** CPU time the whole machine spent busy (all cores, everything but idle and iowait) in ms, from /proc/stat. */
export function machineBusyMs(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return (ticks * 1000) / CLOCK_TICKS;
}
