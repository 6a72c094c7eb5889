// What the user sweep costs per thousand recorded users, through the
// conformance host. Not a test; prints a table.
//
//   npx tsx bench/sweep.ts [users]
//
// Phases, on one mount holding `users` (default 1000) live credentials:
//   1. steady state: sweeps over the loaded index with nothing to drop;
//   2. first sweep after a plugin restart (reload): the index is loaded from
//      storage (one list, one get per record);
//   3. the unmount's final rollback: the tainted sweep drops every user.
// Each sweep reports its own wall time and the plugin's CPU time
// (process.cpuUsage) in its log line; the plugin's CPU is also read from
// /proc over the steady-state window, to see what the ticks cost in all. A
// second mount keeps the plugin process alive through the unmount.

import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres } from '../scripts/lib/postgres';
import { startVaultHost, type VaultHost } from '../scripts/lib/vault-host';
import { runAll } from './load';
import { createBenchTable } from './machine';
import { cpuMs } from './proc';
import { findPluginPid } from './rss';
import { issueViaHost, mountPlugin, MOUNT, PLUGIN_NAME } from './through-host';
import * as path from 'node:path';

const BINARY = path.resolve(__dirname, '..', 'dist', 'vault-plugin-secrets-postgres');
const ROLLBACK_PERIOD_S = 2;
const POOL_SIZE = 8;
const STEADY_TICKS = 5;

const log = (msg: string): void => void process.stderr.write(`[sweep-bench] ${msg}\n`);

/** The fields of one "user sweep" log line the plugin wrote. */
interface SweepLine {
  records: number;
  tainted: boolean;
  dropped: number;
  rolled_back: number;
  ms: number;
  cpu_ms: number;
}

/**
 * Reads the "user sweep" lines the plugin writes (relayed into the host's
 * log as JSON inside hclog lines). The host trims its log from the front,
 * so lines are remembered by their text (each carries a timestamp), not
 * counted.
 */
class SweepLog {
  readonly #host: VaultHost;
  readonly #seen = new Set<string>();

  constructor(host: VaultHost) {
    this.#host = host;
    this.#fresh();
  }

  /** Waits for the next new line that `wanted` accepts; every new line is marked seen. */
  async next(what: string, wanted: (line: SweepLine) => boolean = () => true, timeoutMs = 120_000): Promise<SweepLine> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
      const found = this.#fresh().find(wanted);
      if (found !== undefined) return found;
    }
    throw new Error(`no sweep line for ${what} within ${timeoutMs} ms`);
  }

  /** Lines not seen before, oldest first. */
  #fresh(): SweepLine[] {
    const out: SweepLine[] = [];
    for (const line of this.#host.logs().split('\n')) {
      if (!line.includes('user sweep') || this.#seen.has(line)) continue;
      this.#seen.add(line);
      const field = (name: string): number => Number(new RegExp(`(?<![\\w])"?${name}"?[=:]\\s*([\\d.]+)`).exec(line)?.[1] ?? NaN);
      out.push({ records: field('records'), tainted: /tainted"?[=:]\s*true/.test(line), dropped: field('dropped'), rolled_back: field('rolled_back'), ms: field('ms'), cpu_ms: field('cpu_ms') });
    }
    return out;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 1000);
  const pg = await startPostgres();
  const host = await startVaultHost({ rollbackPeriod: `${ROLLBACK_PERIOD_S}s`, extraArgs: ['-log-level', 'debug'] });
  try {
    await createBenchTable(pg);
    const command = await mountPlugin(host, pg, BINARY, POOL_SIZE, ['VAULT_PLUGIN_PG_LOG_LEVEL=debug']);
    const keep = await host.request('POST', 'sys/mounts/keep-alive', { type: PLUGIN_NAME });
    if (keep.status >= 300) throw new Error(`second mount: ${keep.text}`);

    log(`issuing ${users} credentials`);
    const leases: string[] = [];
    const t0 = performance.now();
    await runAll(users, 8, issueViaHost(host, leases));
    log(`  ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // 1. Steady state. Both mounts sweep on every tick; the keep-alive one has no records.
    const sweeps = new SweepLog(host);
    const ours = (l: SweepLine) => l.records === users;
    await sweeps.next('the first tick after issuance', ours);
    const pid = findPluginPid(host.pluginDir, command);
    const steady: SweepLine[] = [];
    const cpuBefore = cpuMs(pid);
    const windowStart = performance.now();
    for (let i = 0; i < STEADY_TICKS; i++) steady.push(await sweeps.next(`steady tick ${i + 1}`, ours));
    const windowMs = performance.now() - windowStart;
    const cpuWindow = cpuMs(pid) - cpuBefore;
    const ticks = windowMs / (ROLLBACK_PERIOD_S * 1000);

    // 2. Index load after a restart.
    const reload = await host.request('PUT', 'sys/plugins/reload/backend', { plugin: PLUGIN_NAME });
    if (reload.status >= 300) throw new Error(`reload: ${reload.text}`);
    const afterReload = await sweeps.next('the first tick after reload', ours);

    // 3. Unmount: the tainted sweep drops everything.
    const u0 = performance.now();
    const unmount = await host.request('DELETE', `sys/mounts/${MOUNT}`);
    const unmountMs = performance.now() - u0;
    if (unmount.status >= 300) throw new Error(`unmount: ${unmount.text}`);
    const tainted = await sweeps.next('the unmount', (l) => l.tainted, 10_000);
    const left = await (async () => {
      const { Client } = await import('pg');
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      const n = (await c.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-%'")).rows[0].n as number;
      await c.end();
      return n;
    })();

    const per1000 = (v: number) => ((v * 1000) / users).toFixed(1);
    process.stdout.write(`\nuser sweep over ${users} recorded users (rollback tick every ${ROLLBACK_PERIOD_S} s, pool ${POOL_SIZE})\n`);
    process.stdout.write(`steady sweep (index in memory, nothing due): median ${median(steady.map((s) => s.ms))} ms, plugin CPU ${median(steady.map((s) => s.cpu_ms))} ms per sweep (${steady.length} sweeps)\n`);
    process.stdout.write(`  plugin CPU from /proc over ${(windowMs / 1000).toFixed(1)} s (${ticks.toFixed(1)} ticks, both mounts): ${cpuWindow.toFixed(0)} ms, ${(cpuWindow / ticks).toFixed(1)} ms per tick\n`);
    process.stdout.write(`first sweep after a restart (index loaded from storage): ${afterReload.ms} ms, plugin CPU ${afterReload.cpu_ms} ms; per 1000 users ${per1000(afterReload.ms)} ms / ${per1000(afterReload.cpu_ms)} ms CPU\n`);
    process.stdout.write(`unmount sweep (dropped ${tainted.dropped}): ${tainted.ms} ms, plugin CPU ${tainted.cpu_ms} ms; per 1000 users ${per1000(tainted.ms)} ms / ${per1000(tainted.cpu_ms)} ms CPU; whole unmount ${(unmountMs / 1000).toFixed(1)} s; roles left ${left}\n`);
  } finally {
    await host.stop();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`sweep bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
