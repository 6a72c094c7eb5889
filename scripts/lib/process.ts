/**
 * Child-process chores shared by the PostgreSQL and Vault launchers: waiting
 * for exit, bounded waits, free ports, and making sure a crashed test or demo
 * does not leave servers running.
 */
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';

/** How a child ended, in words. */
export interface ExitInfo {
  reason: string;
}

/** Resolves when the child exits (or fails to spawn); never rejects. */
export function exitPromise(child: ChildProcess): Promise<ExitInfo> {
  const describe = (code: number | null, signal: NodeJS.Signals | null) =>
    ({ reason: signal !== null ? `exited on signal ${signal}` : `exited with code ${String(code)}` });
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(describe(child.exitCode, child.signalCode));
      return;
    }
    child.once('error', (err) => resolve({ reason: `spawn error: ${err.message}` }));
    child.once('exit', (code, signal) => resolve(describe(code, signal)));
  });
}

/** True when `p` settles within `ms`. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True while `pid` exists (a zombie too); signal 0 only checks. EPERM: it exists but is not ours. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asks the kernel for a free loopback port. It may be taken again before use. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/**
 * A process of ours that dies (uncaught error, process.exit, SIGINT/SIGTERM)
 * must not leave `child` behind. 'exit' handlers may only act synchronously,
 * so they send `signal` and leave the rest to the child.
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals): void {
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
  installSignalExit();
}

let signalExitInstalled = false;

/** Turns SIGINT/SIGTERM/SIGHUP into a normal exit so the 'exit' handlers run. */
function installSignalExit(): void {
  if (signalExitInstalled) return;
  signalExitInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Keep the conventional 128+signal exit status of the default behaviour.
    process.once(signal, () => process.exit(128 + os.constants.signals[signal]));
  }
}
