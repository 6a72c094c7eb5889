/**
 * The Vault that the end-to-end suite runs against: a real Vault or OpenBao
 * server when `VAULT_ADDR` is set, otherwise the bundled conformance host
 * (./vault-host). Both sit behind one handle, so a test sees the difference
 * only through `target`, `timing` and whether `logs()` can be read.
 *
 * A real server outlives the test file. The handle therefore remembers the
 * mounts it enabled and the catalog entries it registered through its own
 * `request()` and removes them on `stop()`. Mounts it enables carry a
 * description naming this suite and the test process; a later run removes
 * such mounts when that process is gone (an interrupted run), and never
 * touches a mount it did not create.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from './process';
import { apiRequest, apiPath, placeInPluginDir, putCatalogEntry, sha256File, startVaultHost, type ApiReply } from './vault-host';

/** Which kind of server a handle talks to. */
export type VaultTarget = 'bundled-host' | 'external';

/** The server's clocks that tests must allow for when they wait for something the server does on its own. */
export interface VaultTiming {
  /** Period of the rollback request to every mount, ms; 0 when disabled (bundled host only). Real servers: 60 000. */
  rollbackPeriodMs: number;
  /** Base of the backoff between attempts to revoke an expired lease, ms: attempt n waits base·2^n ± 50 %. Real servers: 10 000. */
  revokeRetryBaseMs: number;
  /** Deadline of one API request inside the server (`max_request_duration`), ms. Real servers: 90 000. */
  requestDeadlineMs: number;
}

/** A Vault-like server for one test file; see the module comment. */
export interface VaultUnderTest {
  target: VaultTarget;
  /** `http://127.0.0.1:PORT` */
  addr: string;
  /** A root token. */
  token: string;
  /**
   * The token's `display_name`, which the server puts in requests and the
   * plugin in its default usernames: `root` on the bundled host (it knows
   * only that token); `token` for a dev server's `-dev-root-token-id`.
   */
  tokenDisplayName: string;
  /** The server's plugin directory on this machine; catalog commands are file names in it. */
  pluginDir: string;
  timing: VaultTiming;
  /**
   * What the server logged since this handle was made (plugin stderr is
   * relayed into it); undefined when it cannot be read: a real server
   * without `VAULT_LOG_FILE`.
   */
  logs(): string | undefined;
  /**
   * Calls the HTTP API. `path` is relative to `/v1/` (`sys/mounts/pg`) or
   * absolute (`/v1/sys/mounts/pg`); `body` is sent as JSON. On a real server,
   * mounts enabled and catalog entries registered here are removed by stop().
   */
  request(method: string, path: string, body?: unknown): Promise<ApiReply>;
  /**
   * Bundled host: stops it (its state goes with it). Real server: unmounts
   * what this handle enabled (which revokes the mounts' leases, so stop the
   * handle before the databases they point at) and deregisters what it
   * registered; throws, after cleaning up all it can, if something had to be
   * forced or could not be removed. Idempotent.
   */
  stop(): Promise<void>;
}

/** Options for {@link startVault}. Only the bundled host can be tuned; a real server keeps its own clocks. */
export interface StartVaultOptions {
  /** Bundled host only: rollback period, ms; 0 disables rollback. Absent: 60 000, as Vault. */
  rollbackPeriodMs?: number;
  /** Bundled host only: revoke retry base, ms. Absent: 10 000, as Vault. */
  revokeRetryBaseMs?: number;
  /** Bundled host only: further flags, e.g. `['-log-level', 'trace']`. */
  extraArgs?: string[];
  /** Bundled host only: added to its environment (the plugins inherit it). */
  env?: NodeJS.ProcessEnv;
}

/** Where the real server is, from the environment. */
export interface ExternalVaultSettings {
  /** `VAULT_ADDR` without a trailing `/`. */
  addr: string;
  /** `VAULT_TOKEN`: a root token. */
  token: string;
  /** `VAULT_PLUGIN_DIR`, made absolute. */
  pluginDir: string;
  /** `VAULT_LOG_FILE`, made absolute; absent: log checks are skipped. */
  logFile?: string;
}

/** One catalog entry as a real server lists it (`GET sys/plugins/catalog`, `data.detailed`). */
export interface CatalogListing {
  type: string;
  name: string;
  /** `v<semver>`, or empty for an unversioned entry. */
  version: string;
  /** Absent for builtin plugins. */
  sha256?: string;
  builtin: boolean;
}

/** Options for {@link registerPlugin}. */
export interface RegisterOptions {
  /** The executable; copied into the plugin directory unless an identical file is there. */
  binaryPath: string;
  /** Catalog `args`. Absent: none. */
  args?: string[];
  /** Catalog `env` (`KEY=value`). Absent: none. */
  env?: string[];
}

/** How {@link registerPlugin} got the plugin into the catalog. */
export interface PluginRegistration {
  /**
   * `in-catalog`: the real server already held the name with this binary's
   * SHA256 (as `-dev-plugin-dir` registers every file at start-up) and
   * nothing was written. `api`: registered through the API.
   */
  how: 'in-catalog' | 'api';
  /** File name in the plugin directory. */
  command: string;
  sha256: string;
}

/** The plugin as installed in the server's plugin directory. */
export interface InstalledPlugin {
  /** File name, the catalog `command`. */
  command: string;
  /** Absolute path with symlinks resolved: what `/proc/<pid>/exe` of its processes reads. */
  path: string;
  sha256: string;
}

/** What real Vault and OpenBao do (vault/core.go, vault/expiration.go, vault/request_handling.go). */
const REAL_TIMING: VaultTiming = { rollbackPeriodMs: 60_000, revokeRetryBaseMs: 10_000, requestDeadlineMs: 90_000 };
const PACKAGE_JSON = path.resolve(__dirname, '..', '..', 'package.json');
/** Start of the description of every mount the suite enables on a real server; the pid of the test process follows. */
const SUITE_MARK = 'vault-plugin-secrets-postgres e2e suite, pid ';
const SUITE_MARK_RE = new RegExp(`^${SUITE_MARK}(\\d+)\\b`);
const ENABLING = new Set(['POST', 'PUT']);

/**
 * A real server when `VAULT_ADDR` is set (see {@link externalVaultSettings}),
 * otherwise a fresh bundled host tuned by `opts`.
 */
export async function startVault(opts: StartVaultOptions = {}): Promise<VaultUnderTest> {
  const external = externalVaultSettings(process.env);
  return external === undefined ? startBundledHost(opts) : attachExternal(external);
}

/**
 * Reads and checks the real server's settings; undefined when `VAULT_ADDR`
 * is unset. Throws a sentence naming the variable that is missing or wrong.
 */
export function externalVaultSettings(env: NodeJS.ProcessEnv): ExternalVaultSettings | undefined {
  const addr = env.VAULT_ADDR?.trim();
  if (addr === undefined || addr === '') return undefined;
  if (!/^https?:\/\/[^/]+/.test(addr)) throw new Error(`VAULT_ADDR must be the server's URL, e.g. http://127.0.0.1:8200 (got "${addr}")`);
  const token = env.VAULT_TOKEN?.trim() ?? '';
  if (token === '') throw new Error('VAULT_ADDR is set, so the e2e suite runs against that server and needs VAULT_TOKEN: a root token (e.g. the dev server\'s -dev-root-token-id)');
  const dir = env.VAULT_PLUGIN_DIR?.trim() ?? '';
  if (dir === '') {
    throw new Error('VAULT_ADDR is set, so the e2e suite needs VAULT_PLUGIN_DIR: the server\'s plugin directory (-dev-plugin-dir or plugin_directory), on this machine and writable');
  }
  const settings: ExternalVaultSettings = { addr: addr.replace(/\/+$/, ''), token, pluginDir: checkPluginDir(path.resolve(dir)) };
  const log = env.VAULT_LOG_FILE?.trim() ?? '';
  if (log !== '') settings.logFile = checkLogFile(path.resolve(log));
  return settings;
}

/**
 * Copies `binaryPath` into the plugin directory unless an identical file is
 * already there (replacing it would leave running plugins on a deleted file).
 */
export function installPlugin(vault: Pick<VaultUnderTest, 'pluginDir'>, binaryPath: string): InstalledPlugin {
  const command = placeInPluginDir(vault.pluginDir, binaryPath);
  const file = fs.realpathSync(path.join(vault.pluginDir, command));
  return { command, path: file, sha256: sha256File(file) };
}

/**
 * Installs the plugin and registers it as secret plugin `name`. Bundled host:
 * through the API, without a version, as the suite always did. Real server:
 * an entry that already has this name and this binary's SHA256 is used as it
 * is (unless args or env are asked for, which a listing does not show);
 * otherwise it registers exactly like `vault plugin register -sha256=<sha>
 * -version=v<package version> secret <name>`; says on stdout which way it went.
 */
export async function registerPlugin(vault: VaultUnderTest, name: string, opts: RegisterOptions): Promise<PluginRegistration> {
  const { command, sha256 } = installPlugin(vault, opts.binaryPath);
  const args = opts.args ?? [];
  const env = opts.env ?? [];
  if (vault.target === 'bundled-host') {
    await putCatalogEntry(vault, name, { sha256, command, args, env });
    return { how: 'api', command, sha256 };
  }
  if (args.length === 0 && env.length === 0) {
    const listed = (await catalogEntries(vault)).filter((e) => e.type === 'secret' && e.name === name && e.sha256 === sha256);
    if (listed.length > 0) {
      console.log(`[vault-under-test] plugin "${name}": using the catalog entry the server already has (${listed.map((e) => e.version || 'unversioned').join(', ')}, sha256 ${sha256.slice(0, 12)}…)`);
      return { how: 'in-catalog', command, sha256 };
    }
  }
  const version = pluginVersion();
  await putCatalogEntry(vault, name, { sha256, command, args, env, version });
  console.log(`[vault-under-test] plugin "${name}": registered through the API (version ${version}, sha256 ${sha256.slice(0, 12)}…)`);
  return { how: 'api', command, sha256 };
}

/**
 * Stops `vault` first, because on a real server stop() unmounts, which
 * revokes leases in the databases the `then` steps shut down; runs those
 * steps even when it throws, so that nothing keeps the process alive.
 */
export async function stopVaultFirst(vault: VaultUnderTest | undefined, ...then: Array<() => Promise<unknown>>): Promise<void> {
  try {
    await vault?.stop();
  } finally {
    for (const step of then) await step();
  }
}

/** Every catalog entry of a real server (`GET sys/plugins/catalog`); throws with the reply where there is no such endpoint. */
export async function catalogEntries(vault: Pick<VaultUnderTest, 'request'>): Promise<CatalogListing[]> {
  const res = await vault.request('GET', 'sys/plugins/catalog');
  if (res.status !== 200) throw new Error(`GET sys/plugins/catalog: HTTP ${res.status} ${res.text.trim()}`);
  const detailed: unknown = res.body?.data?.detailed ?? [];
  if (!Array.isArray(detailed)) throw new Error(`GET sys/plugins/catalog: data.detailed is not a list: ${res.text}`);
  return detailed.map((e: Record<string, unknown>) => ({
    type: String(e.type ?? ''),
    name: String(e.name ?? ''),
    version: String(e.version ?? ''),
    ...(typeof e.sha256 === 'string' ? { sha256: e.sha256 } : {}),
    builtin: e.builtin === true,
  }));
}

/** `v` + package.json `version`: what the plugin reports to Vault. */
export function pluginVersion(): string {
  return `v${packageVersion()}`;
}

// ---------------------------------------------------------------------------
// Bundled host
// ---------------------------------------------------------------------------

async function startBundledHost(opts: StartVaultOptions): Promise<VaultUnderTest> {
  const timing: VaultTiming = {
    rollbackPeriodMs: opts.rollbackPeriodMs ?? REAL_TIMING.rollbackPeriodMs,
    revokeRetryBaseMs: opts.revokeRetryBaseMs ?? REAL_TIMING.revokeRetryBaseMs,
    requestDeadlineMs: REAL_TIMING.requestDeadlineMs,
  };
  const host = await startVaultHost({
    rollbackPeriod: `${timing.rollbackPeriodMs}ms`,
    extraArgs: ['-revoke-retry-base', `${timing.revokeRetryBaseMs}ms`, ...(opts.extraArgs ?? [])],
    env: opts.env,
  });
  return {
    target: 'bundled-host',
    addr: host.addr,
    token: host.token,
    tokenDisplayName: 'root',
    pluginDir: host.pluginDir,
    timing,
    logs: host.logs,
    request: host.request,
    stop: host.stop,
  };
}

// ---------------------------------------------------------------------------
// Real server
// ---------------------------------------------------------------------------

/** What a handle enabled and registered on a real server. */
interface Ledger {
  /** Mount paths without the trailing `/`. */
  mounts: Set<string>;
  /** Secret plugin name → the SHA256s registered under it: other entries of that name are not ours. */
  plugins: Map<string, Set<string>>;
}

type Call = (method: string, p: string, body?: unknown) => Promise<ApiReply>;

async function attachExternal(settings: ExternalVaultSettings): Promise<VaultUnderTest> {
  const call: Call = (method, p, body) => apiRequest(settings.addr, settings.token, method, p, body);
  const tokenDisplayName = await checkServer(settings, call);
  await removeLeftovers(call);
  const logFile = settings.logFile;
  const logStart = logFile === undefined ? 0 : fs.statSync(logFile).size;
  const ledger: Ledger = { mounts: new Set(), plugins: new Map() };
  let stopping: Promise<void> | undefined;
  return {
    target: 'external',
    addr: settings.addr,
    token: settings.token,
    tokenDisplayName,
    pluginDir: settings.pluginDir,
    timing: { ...REAL_TIMING },
    logs: () => (logFile === undefined ? undefined : readLogFrom(logFile, logStart)),
    async request(method, p, body) {
      const rel = relativePath(p);
      const reply = await call(method, p, withSuiteMark(method, rel, body));
      if (reply.status < 300) record(ledger, method.toUpperCase(), rel, body);
      return reply;
    },
    stop: () => (stopping ??= removeRecorded(settings.addr, call, ledger)),
  };
}

/**
 * The token works, and the server's plugin directory (when it tells) is
 * VAULT_PLUGIN_DIR. Returns the token's display name.
 */
async function checkServer(settings: ExternalVaultSettings, call: Call): Promise<string> {
  const self = await call('GET', 'auth/token/lookup-self').catch((err: unknown) => {
    throw new Error(`cannot reach VAULT_ADDR ${settings.addr}: ${errorText(err)}`);
  });
  if (self.status !== 200) throw new Error(`the server at VAULT_ADDR ${settings.addr} does not accept VAULT_TOKEN: HTTP ${self.status} ${self.text.trim()}`);
  const state = await call('GET', 'sys/config/state/sanitized');
  const told: unknown = state.body?.data?.plugin_directory;
  if (typeof told === 'string' && told !== '' && !samePath(told, settings.pluginDir)) {
    throw new Error(`VAULT_PLUGIN_DIR is ${settings.pluginDir}, but the server at ${settings.addr} uses ${told} as its plugin directory`);
  }
  return String(self.body?.data?.display_name ?? '');
}

/**
 * Unmounts what runs of this suite left behind when they were killed (their
 * process is gone), so fixed mount paths like `pg` are free again. A mount of
 * a run that is still going means two runs share the server: refused.
 */
async function removeLeftovers(call: Call): Promise<void> {
  const table = await call('GET', 'sys/mounts');
  if (table.status !== 200) throw new Error(`GET sys/mounts: HTTP ${table.status} ${table.text.trim()}`);
  const entries: Record<string, { description?: unknown }> = table.body?.data ?? {};
  for (const [mountPath, entry] of Object.entries(entries)) {
    const owner = SUITE_MARK_RE.exec(typeof entry.description === 'string' ? entry.description : '');
    if (owner === null) continue;
    const pid = Number(owner[1]);
    // Our own: another handle of this process, still in use.
    if (pid === process.pid) continue;
    if (isAlive(pid)) {
      throw new Error(`mount ${mountPath} belongs to an e2e run that is still going (pid ${pid}); run the e2e files one at a time against one server (npm run test:e2e does)`);
    }
    const { removed, problem } = await unmount(call, mountPath.replace(/\/$/, ''));
    if (!removed) throw new Error(`removing a leftover of an earlier run: ${problem ?? ''}`);
    console.log(`[vault-under-test] removed ${mountPath}, left by an earlier run (pid ${pid})`);
  }
}

/** Mount bodies without a description get the suite's, naming this process. */
function withSuiteMark(method: string, rel: string, body: unknown): unknown {
  if (mountPathOf(rel) === undefined || !ENABLING.has(method.toUpperCase())) return body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'description' in body) return body;
  return { ...body, description: `${SUITE_MARK}${process.pid}: removed when that run stops` };
}

/** Notes a successful mount, unmount or registration. */
function record(ledger: Ledger, method: string, rel: string, body: unknown): void {
  const mount = mountPathOf(rel);
  if (mount !== undefined && ENABLING.has(method)) ledger.mounts.add(mount);
  if (mount !== undefined && method === 'DELETE') ledger.mounts.delete(mount);
  // Untyped registrations (sys/plugins/catalog/<name>) end up as secret entries too.
  const plugin = /^sys\/plugins\/catalog\/(?:secret\/)?([^/]+)$/.exec(rel);
  const sha256 = typeof body === 'object' && body !== null && 'sha256' in body ? body.sha256 : undefined;
  if (plugin !== null && ENABLING.has(method) && typeof sha256 === 'string') {
    const shas = ledger.plugins.get(plugin[1]) ?? new Set<string>();
    ledger.plugins.set(plugin[1], shas.add(sha256.toLowerCase()));
  }
}

/** `pg` for `sys/mounts/pg` or `sys/mounts/pg/`; undefined for other paths, `sys/mounts/pg/tune` included. */
function mountPathOf(rel: string): string | undefined {
  const m = /^sys\/mounts\/(.+?)\/?$/.exec(rel);
  return m === null || m[1].endsWith('/tune') ? undefined : m[1];
}

/** `sys/mounts/pg` for any spelling of the path, query dropped. */
function relativePath(p: string): string {
  return apiPath(p).slice('/v1/'.length).split('?')[0];
}

async function removeRecorded(addr: string, call: Call, ledger: Ledger): Promise<void> {
  const problems: string[] = [];
  // Newest first, the order an operator would undo them in.
  for (const mount of [...ledger.mounts].reverse()) {
    const { problem } = await unmount(call, mount);
    if (problem !== undefined) problems.push(problem);
    ledger.mounts.delete(mount);
  }
  for (const [name, shas] of ledger.plugins) problems.push(...(await deregister(call, name, shas)));
  ledger.plugins.clear();
  if (problems.length > 0) throw new Error(`cleaning up after the suite on ${addr}:\n- ${problems.join('\n- ')}`);
}

/**
 * Unmounts `mount` (the server revokes its leases first). If a revocation
 * fails, the server keeps the mount (tainted): its leases are then revoked
 * by force and the unmount tried again. `problem` says what went wrong.
 */
async function unmount(call: Call, mount: string): Promise<{ removed: boolean; problem?: string }> {
  const first = await call('DELETE', `sys/mounts/${mount}`);
  if (first.status < 300) return { removed: true };
  const forced = await call('PUT', `sys/leases/revoke-force/${mount}/`);
  const second = await call('DELETE', `sys/mounts/${mount}`);
  const removed = second.status < 300;
  const outcome = removed ? `removed after force-revoking its leases (HTTP ${forced.status})` : `still mounted: HTTP ${second.status} ${second.text.trim()}`;
  return { removed, problem: `unmounting ${mount}/ failed: HTTP ${first.status} ${first.text.trim()}; ${outcome}` };
}

/** Deletes the entries of secret plugin `name` whose SHA256 is one of `shas` (the versions the server gave them included); returns what went wrong. */
async function deregister(call: Call, name: string, shas: Set<string>): Promise<string[]> {
  const ours = (e: CatalogListing) => e.type === 'secret' && e.name === name && e.sha256 !== undefined && shas.has(e.sha256);
  const versions = (await catalogEntries({ request: call })).filter(ours).map((e) => e.version);
  const problems: string[] = [];
  for (const version of versions) {
    const query = version === '' ? '' : `?version=${encodeURIComponent(version)}`;
    const res = await call('DELETE', `sys/plugins/catalog/secret/${name}${query}`);
    if (res.status >= 300) problems.push(`deregistering plugin ${name} ${version}: HTTP ${res.status} ${res.text.trim()}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/** Real servers run plugins only from files directly in their plugin directory, which must not be a symlink. */
function checkPluginDir(dir: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    throw new Error(`VAULT_PLUGIN_DIR ${dir}: ${errorText(err)}`);
  }
  if (stat.isSymbolicLink()) throw new Error(`VAULT_PLUGIN_DIR ${dir} is a symlink; Vault and OpenBao refuse plugin directories that are symlinks: use the real directory (${fs.realpathSync(dir)})`);
  if (!stat.isDirectory()) throw new Error(`VAULT_PLUGIN_DIR ${dir} is not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new Error(`VAULT_PLUGIN_DIR ${dir} is not writable; the suite copies the plugin binary into it`);
  }
  return dir;
}

function checkLogFile(file: string): string {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new Error(`VAULT_LOG_FILE ${file}: ${errorText(err)}`);
  }
  if (!fs.statSync(file).isFile()) throw new Error(`VAULT_LOG_FILE ${file} is not a file`);
  return file;
}

/** The log from byte `offset` on; a server restarted with `2> FILE` truncated it, and then all of it is new. */
function readLogFrom(file: string, offset: number): string {
  const buf = fs.readFileSync(file);
  return (buf.length >= offset ? buf.subarray(offset) : buf).toString('utf8');
}

function samePath(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

function packageVersion(): string {
  const pkg: unknown = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string') throw new Error(`${PACKAGE_JSON} has no version`);
  return version;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}

/**
 * Sends `method path` until it answers 200 and returns that reply; throws
 * with the last reply after `ms`. For the first request after the plugin
 * process was killed: a real server (Vault, OpenBao) learns that a shared
 * plugin process died only when a request on it fails (that request gets a
 * 500) and relaunches it then; the bundled host relaunches at once.
 */
export async function untilPluginAnswers(vault: Pick<VaultUnderTest, 'request'>, method: string, path: string, ms = 20_000): Promise<ApiReply> {
  const end = Date.now() + ms;
  for (;;) {
    const reply = await vault.request(method, path);
    if (reply.status === 200) return reply;
    if (Date.now() > end) throw new Error(`${method} ${path} did not answer 200 within ${ms} ms after the plugin was killed: ${reply.status} ${reply.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
