// Credential issuance latency at concurrency 1 through the conformance host,
// for two builds side by side: a baseline binary (the version before a
// change) and dist/'s. Rounds alternate between the two (A B A B …) on one
// PostgreSQL, each on a fresh host, so drift of the shared machine hits
// both alike. Not a test; prints a table.
//
//   npx tsx bench/creds-latency.ts /path/to/baseline/vault-plugin-secrets-postgres [rounds] [samples]

import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type PostgresServer } from '../scripts/lib/postgres';
import { startVaultHost } from '../scripts/lib/vault-host';
import { runAll, runLevel, latencyStats, type LatencyStats } from './load';
import { createBenchTable } from './machine';
import { issueViaHost, mountPlugin, revokeViaHost } from './through-host';

const CURRENT = path.resolve(__dirname, '..', 'dist', 'vault-plugin-secrets-postgres');
const POOL_SIZE = 4;
const WARMUP = 30;

const log = (msg: string): void => void process.stderr.write(`[creds-latency] ${msg}\n`);

/** One round: a fresh host, `samples` credentials at c1 (after a warm-up), all revoked afterwards. */
async function round(pg: PostgresServer, binary: string, samples: number): Promise<number[]> {
  const host = await startVaultHost({ rollbackPeriod: '1m', extraArgs: ['-log-level', 'info'] });
  try {
    await mountPlugin(host, pg, binary, POOL_SIZE, []);
    const leases: string[] = [];
    await runAll(WARMUP, 1, issueViaHost(host, leases));
    const timed: number[] = [];
    const issue = issueViaHost(host, leases);
    const r = await runLevel({ concurrency: 1, count: samples, maxMs: 120_000 }, async (i) => {
      const t0 = performance.now();
      await issue(i);
      timed.push(performance.now() - t0);
    });
    if (r.errors > 0) throw new Error(`issuance failed: ${r.errorSamples.join('; ')}`);
    await runAll(leases.length, 8, revokeViaHost(host, leases, 0));
    return timed;
  } finally {
    await host.stop();
  }
}

function row(name: string, s: LatencyStats, n: number): string {
  const f = (v: number) => v.toFixed(2).padStart(7);
  return `${name.padEnd(10)} n=${String(n).padStart(5)}  mean ${f(s.mean)}  p50 ${f(s.p50)}  p95 ${f(s.p95)}  p99 ${f(s.p99)}  ms`;
}

async function main(): Promise<void> {
  const baseline = process.argv[2];
  if (baseline === undefined) throw new Error('usage: npx tsx bench/creds-latency.ts <baseline binary> [rounds] [samples]');
  const rounds = Number(process.argv[3] ?? 3);
  const samples = Number(process.argv[4] ?? 300);
  const pg = await startPostgres();
  try {
    await createBenchTable(pg);
    const all: Record<'baseline' | 'current', number[]> = { baseline: [], current: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [name, binary] of [['baseline', baseline], ['current', CURRENT]] as const) {
        const times = await round(pg, binary, samples);
        all[name].push(...times);
        log(row(`${name} #${i + 1}`, latencyStats(times), times.length));
        await sleep(500);
      }
    }
    process.stdout.write(`\ncreds at concurrency 1 through the host (${rounds} alternating rounds of ${samples})\n`);
    process.stdout.write(`${row('baseline', latencyStats(all.baseline), all.baseline.length)}\n`);
    process.stdout.write(`${row('current', latencyStats(all.current), all.current.length)}\n`);
  } finally {
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`creds-latency failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
