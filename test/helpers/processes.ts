/** Finding the plugin processes a Vault-like server started, from outside it. */
import * as fs from 'node:fs';

/** PIDs of running processes whose executable is `exe` (an absolute path with symlinks resolved). */
export function processesOf(exe: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/exe`) === exe) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}
