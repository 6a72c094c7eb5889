/**
 * Drives `vault-host` (test/vault-host/), a Go program that plays HashiCorp
 * Vault towards an external plugin using the real go-plugin client, from
 * tests: build it, start it on a free loopback port, talk to its HTTP API,
 * register and mount plugins, stop it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { delay, exitPromise, freePort, killOnExit, settlesWithin, type ExitInfo } from './process';

/** A reply of Vault's HTTP API: status, parsed JSON (null when there is none or it is not JSON) and raw text. */
export interface ApiReply {
  status: number;
  body: any;
  text: string;
}

/** A running vault-host owned by the calling test. */
export interface VaultHost {
  /** `http://127.0.0.1:PORT` */
  addr: string;
  /** The only `X-Vault-Token` the host accepts (`-root-token`). */
  token: string;
  /** Catalog commands resolve inside this directory. */
  pluginDir: string;
  pid: number;
  /** Everything the host wrote to stdout and stderr so far (plugin stderr is relayed into it). */
  logs(): string;
  /**
   * Calls the HTTP API. `path` is relative to `/v1/` (`sys/mounts/pg`) or
   * absolute (`/v1/sys/mounts/pg`). `body` is sent as JSON. The reply's JSON
   * is parsed into `body` (null when there is none or it is not JSON).
   */
  request(method: string, path: string, body?: unknown): Promise<ApiReply>;
  /** SIGTERM (the host then stops its plugins), SIGKILL after 3 s; waits for exit. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startVaultHost}. */
export interface VaultHostOptions {
  /** Plugin directory; a fresh temp dir (removed on stop) when omitted. */
  pluginDir?: string;
  /** `-rollback-period`, e.g. `2s` or `0` to disable. */
  rollbackPeriod?: string;
  /** Further flags, e.g. `['-revoke-retry-base', '200ms']`. */
  extraArgs?: string[];
  /** Added to the host's environment (the plugins inherit it). */
  env?: NodeJS.ProcessEnv;
}

/** Options for {@link registerAndMount}. */
export interface MountSpec {
  /** Catalog name, also the mount `type`. */
  name: string;
  /** Plugin executable; copied into the plugin dir unless it is already inside. */
  binaryPath: string;
  /** Mount path, e.g. `pg`. */
  mount: string;
  /** Vault mount `options` (a string map passed to the plugin's config). */
  options?: Record<string, string>;
  /** Vault mount `config`, e.g. `{ default_lease_ttl: '1h' }`. */
  config?: Record<string, unknown>;
  /** Catalog `args` and `env` (`KEY=value`) for the plugin process. */
  args?: string[];
  env?: string[];
}

const BUILD_SCRIPT = path.resolve(__dirname, '..', '..', 'test', 'vault-host', 'build.sh');
const READY_TIMEOUT_MS = 20_000;
const KILL_AFTER_MS = 3_000;
/** Logs beyond this are trimmed from the front; debug logs of long runs get big. */
const MAX_LOG_CHARS = 4 * 1024 * 1024;

let builtBinary: string | undefined;

/**
 * Builds vault-host once per process (build.sh itself skips unchanged
 * sources) and returns the binary's path. The Go test plugin sits next to it
 * as `vault-host-testplugin`.
 */
export function buildVaultHost(): string {
  if (builtBinary !== undefined) return builtBinary;
  let stdout: string;
  try {
    stdout = execFileSync('bash', [BUILD_SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = errorOutput(err);
    throw new Error(`vault-host build failed (${BUILD_SCRIPT}):\n${stderr}`);
  }
  const binary = stdout.trim().split('\n').pop() ?? '';
  if (!fs.existsSync(binary)) throw new Error(`vault-host build printed "${binary}", which does not exist`);
  builtBinary = binary;
  return binary;
}

/** Starts vault-host on a free loopback port and waits until it serves HTTP. */
export async function startVaultHost(opts: VaultHostOptions = {}): Promise<VaultHost> {
  const binary = buildVaultHost();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-host-'));
  const pluginDir = opts.pluginDir ?? path.join(work, 'plugins');
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(pluginDir, { recursive: true });
  fs.mkdirSync(tmp);
  const readyFile = path.join(work, 'ready');
  const token = randomBytes(16).toString('hex');

  const args = ['server', '-listen', '127.0.0.1:0', '-plugin-dir', pluginDir, '-ready-file', readyFile, '-root-token', token, '-log-level', 'debug'];
  if (opts.rollbackPeriod !== undefined) args.push('-rollback-period', opts.rollbackPeriod);
  args.push(...(opts.extraArgs ?? []));

  // TMPDIR keeps go-plugin's unix sockets inside our work dir, so they are removed with it.
  // Our own plugin dir lives inside `work`; a caller's plugin dir is theirs to remove.
  const { child, logs, exited, stop } = spawnServer(binary, args, { ...process.env, TMPDIR: tmp, ...opts.env }, work);

  // The host prints its "listening" line right after writing the ready file;
  // waiting for it too makes logs() complete from the start.
  const hostPort = await waitForReady(readyFile, () => logs.text().includes('vault-host listening on'), exited);
  if (typeof hostPort !== 'string') {
    await stop();
    throw new Error(`vault-host did not become ready: ${hostPort.reason}\n--- logs ---\n${logs.text()}`);
  }
  const addr = `http://${hostPort}`;
  return {
    addr,
    token,
    pluginDir,
    pid: child.pid ?? -1,
    logs: logs.text,
    request: (method, p, body) => apiRequest(addr, token, method, p, body),
    stop,
  };
}

/**
 * Registers `spec.binaryPath` in the catalog as `spec.name` and mounts it at
 * `spec.mount`, the way an operator would with `vault plugin register` and
 * `vault secrets enable`. Throws with the host's reply on failure.
 */
export async function registerAndMount(host: VaultHost, spec: MountSpec): Promise<{ command: string; sha256: string }> {
  const command = placeInPluginDir(host.pluginDir, spec.binaryPath);
  const sha256 = sha256File(path.join(host.pluginDir, command));
  await putCatalogEntry(host, spec.name, { sha256, command, args: spec.args ?? [], env: spec.env ?? [] });

  const mountBody: Record<string, unknown> = { type: spec.name };
  if (spec.options !== undefined) mountBody.options = spec.options;
  if (spec.config !== undefined) mountBody.config = spec.config;
  const mnt = await host.request('POST', `sys/mounts/${spec.mount}`, mountBody);
  if (mnt.status >= 300) {
    throw new Error(`mounting plugin "${spec.name}" at ${spec.mount}/ failed: HTTP ${mnt.status} ${mnt.text}\n--- host logs (tail) ---\n${tail(host.logs())}`);
  }
  return { command, sha256 };
}

/** Body of `PUT sys/plugins/catalog/secret/:name`, as `vault plugin register` sends it. */
export interface CatalogEntry {
  /** Hex SHA256 of the executable; the server checks it before every start. */
  sha256: string;
  /** File name inside the plugin directory. */
  command: string;
  args: string[];
  /** `KEY=value` pairs for the plugin process. */
  env: string[];
  /** `v<semver>`; absent: none (a real server then stores the version the plugin reports). */
  version?: string;
}

/** Registers a secret plugin through the API; throws with the server's reply on failure. */
export async function putCatalogEntry(api: Pick<VaultHost, 'request'>, name: string, entry: CatalogEntry): Promise<void> {
  const reg = await api.request('PUT', `sys/plugins/catalog/secret/${name}`, entry);
  if (reg.status >= 300) {
    throw new Error(`registering plugin "${name}" (command ${entry.command}) failed: HTTP ${reg.status} ${reg.text}`);
  }
}

/** A Vault-like server process: its logs, its exit, and a stop that also removes `work`. */
function spawnServer(binary: string, args: string[], env: NodeJS.ProcessEnv, work: string) {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = captureLogs(child);
  const exited = exitPromise(child);
  killOnExit(child, 'SIGTERM');
  const stop = memo(async () => {
    await terminate(child, exited);
    fs.rmSync(work, { recursive: true, force: true });
  });
  return { child, logs, exited, stop };
}

/** Path of a real `vault` binary on PATH, if there is one. */
export function findVaultBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'vault');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Starts a real `vault server -dev` on a free loopback port with a private
 * plugin directory, behind the same interface as the conformance host.
 */
export async function startRealVault(vaultBinary: string): Promise<VaultHost> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-dev-'));
  const pluginDir = path.join(work, 'plugins');
  fs.mkdirSync(pluginDir);
  const token = randomBytes(16).toString('hex');
  const port = await freePort();
  const args = ['server', '-dev', `-dev-root-token-id=${token}`, `-dev-listen-address=127.0.0.1:${port}`, `-dev-plugin-dir=${pluginDir}`];
  const { child, logs, exited, stop } = spawnServer(vaultBinary, args, { ...process.env, TMPDIR: work }, work);
  const addr = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const health = await apiRequest(addr, token, 'GET', 'sys/health', undefined).catch(() => undefined);
    if (health?.status === 200) break;
    const gone = await settlesWithin(exited, 0);
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`vault server -dev did not become ready\n--- logs ---\n${tail(logs.text())}`);
    }
    await delay(100);
  }
  return { addr, token, pluginDir, pid: child.pid ?? -1, logs: logs.text, request: (m, p, b) => apiRequest(addr, token, m, p, b), stop };
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

/** One call to Vault's HTTP API (see {@link VaultHost.request}). */
export async function apiRequest(addr: string, token: string, method: string, p: string, body: unknown): Promise<ApiReply> {
  const headers: Record<string, string> = { 'X-Vault-Token': token };
  const init: RequestInit = { method: method.toUpperCase(), headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`${addr}${apiPath(p)}`, init);
  const text = await res.text();
  return { status: res.status, body: parseJson(text), text };
}

/** `sys/mounts`, `/sys/mounts` and `/v1/sys/mounts` all mean `/v1/sys/mounts`. */
export function apiPath(p: string): string {
  const rel = p.replace(/^\/+/, '');
  return rel.startsWith('v1/') ? `/${rel}` : `/v1/${rel}`;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Plugin files
// ---------------------------------------------------------------------------

/** Returns the catalog command (relative to pluginDir), copying the binary in if needed. */
export function placeInPluginDir(pluginDir: string, binaryPath: string): string {
  const src = fs.realpathSync(binaryPath);
  const dir = fs.realpathSync(pluginDir);
  const rel = path.relative(dir, src);
  // Already inside: use it where it is (the host resolves symlinks the same way).
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel;

  const name = path.basename(src);
  const dest = path.join(dir, name);
  if (fs.existsSync(dest) && sha256File(dest) === sha256File(src)) return name;
  // Copy then rename: overwriting a binary that a plugin process runs fails with ETXTBSY.
  const tmp = `${dest}.tmp-${randomBytes(4).toString('hex')}`;
  fs.copyFileSync(src, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, dest);
  return name;
}

/** Hex SHA256 of a file's contents. */
export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// ---------------------------------------------------------------------------
// Process handling
// ---------------------------------------------------------------------------

interface LogBuffer {
  text(): string;
}

/** Collects stdout and stderr in arrival order, keeping the newest MAX_LOG_CHARS. */
function captureLogs(child: ChildProcess): LogBuffer {
  let buf = '';
  const append = (chunk: Buffer): void => {
    buf += chunk.toString('utf8');
    if (buf.length > MAX_LOG_CHARS) buf = buf.slice(buf.length - MAX_LOG_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return { text: () => buf };
}

async function waitForReady(file: string, printed: () => boolean, exited: Promise<ExitInfo>): Promise<string | ExitInfo> {
  let exit: ExitInfo | undefined;
  void exited.then((info) => (exit = info));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const content = readIfExists(file);
    if (content.endsWith('\n') && content.trim() !== '' && printed()) return content.trim();
    if (exit !== undefined) return exit;
    await delay(25);
  }
  return exit ?? { reason: `no ready file after ${READY_TIMEOUT_MS} ms` };
}

async function terminate(child: ChildProcess, exited: Promise<ExitInfo>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await settlesWithin(exited, KILL_AFTER_MS))) child.kill('SIGKILL');
  }
  await exited;
}

function memo(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function errorOutput(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'stderr' in err) {
    const stderr = (err as { stderr: unknown }).stderr;
    if (typeof stderr === 'string' && stderr !== '') return stderr;
  }
  return err instanceof Error ? err.message : String(err);
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
