// exec → handshake: how long the binary takes from spawn until it prints its
// go-plugin handshake line on stdout, which is when Vault can start talking
// to it. The environment is what go-plugin's client sets for AutoMTLS.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity } from '../src/goplugin/certificate';
import { latencyStats, type LatencyStats } from './load';

export interface ColdStartResult {
  runs: number;
  /** One unmeasured start first, so every measured start finds the binary in the page cache. */
  warmupMs: number;
  samplesMs: number[];
  stats: LatencyStats;
  /** The handshake line's fields without the certificate, e.g. `1|5|unix|/tmp/…/plugin123|grpc`. */
  handshake: string;
}

/** go-plugin's magic cookie for Vault plugins. */
const MAGIC_COOKIE = { VAULT_BACKEND_PLUGIN: '6669da05-b1c8-4f49-97d9-c8e5bed98e20' };
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** core protocol 1, app protocol 5, then network, address, protocol, server cert. */
const HANDSHAKE_LINE = /^1\|5\|(unix|tcp)\|[^|]+\|grpc\|/;

export async function measureColdStart(binary: string, runs: number): Promise<ColdStartResult> {
  const env = pluginEnv();
  const warm = await startOnce(binary, env);
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) samplesMs.push((await startOnce(binary, env)).ms);
  return { runs, warmupMs: warm.ms, samplesMs, stats: latencyStats(samplesMs), handshake: warm.line.split('|').slice(0, 5).join('|') };
}

/**
 * The parent's environment plus go-plugin's variables. NODE_OPTIONS is
 * dropped: tsx may put its loader there, and the plugin must start the way
 * Vault starts it.
 */
function pluginEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...inherited } = process.env;
  return {
    ...inherited,
    ...MAGIC_COOKIE,
    PLUGIN_PROTOCOL_VERSIONS: '5',
    PLUGIN_CLIENT_CERT: generateIdentity().certPem,
  };
}

/** Spawns the binary, times the first stdout line, kills it and waits for its exit. */
async function startOnce(binary: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; line: string }> {
  // A private TMPDIR: the plugin's unix socket is created there and removed with it.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
  const t0 = performance.now();
  const child = spawn(binary, [], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    const line = await firstLine(child.stdout, child.stderr);
    const ms = performance.now() - t0;
    if (!HANDSHAKE_LINE.test(line)) throw new Error(`unexpected handshake line: ${line.slice(0, 120)}`);
    return { ms, line };
  } finally {
    child.kill('SIGKILL');
    await exited;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Resolves with the first complete stdout line; rejects on timeout or early EOF (with stderr, to explain). */
function firstLine(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms; stderr: ${err.slice(-500)}`)), HANDSHAKE_TIMEOUT_MS);
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(out.slice(0, nl));
    });
    stdout.once('end', () => {
      clearTimeout(timer);
      reject(new Error(`plugin exited before its handshake; stderr: ${err.slice(-500)}`));
    });
  });
}
