// `npm start`: the plugin's whole job in one run, the way an operator sees it.
// Builds the binary if needed, starts a throwaway PostgreSQL and a Vault (a
// real `vault server -dev` when `vault` is on PATH, otherwise the bundled
// conformance host), registers and enables the plugin, writes a connection
// and a role, reads a credential, logs into PostgreSQL with it, revokes the
// lease and shows the user is gone. Everything it started is stopped, also
// when a step fails.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from './lib/postgres';
import { findVaultBinary, registerAndMount, startRealVault, startVaultHost, type VaultHost } from './lib/vault-host';

const ROOT = path.resolve(__dirname, '..');
const NAME = 'vault-plugin-secrets-postgres';
const BINARY = path.join(ROOT, 'dist', NAME);
const MOUNT = 'pg';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

let stepNo = 0;
/** Runs one step with a numbered heading; a failure names the step. */
async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  stepNo += 1;
  console.log(bold(`\n[${stepNo}] ${title}`));
  try {
    return await work();
  } catch (err) {
    throw new Error(`step ${stepNo} (${title}) failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function show(label: string, value: unknown): void {
  console.log(`    ${label.padEnd(16)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** True when dist/ is missing or older than any source it is built from. */
function binaryIsStale(): boolean {
  if (!fs.existsSync(BINARY)) return true;
  const built = fs.statSync(BINARY).mtimeMs;
  const newer = (p: string): boolean => {
    const st = fs.statSync(p);
    if (st.isDirectory()) return fs.readdirSync(p).some((e) => e !== 'gen' && newer(path.join(p, e)));
    return st.mtimeMs > built;
  };
  return ['src', 'proto', 'package.json', 'package-lock.json'].some((p) => newer(path.join(ROOT, p)));
}

/** Throws with the server's words when a Vault call did not succeed. */
function expectOk(res: { status: number; text: string }, what: string): void {
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${res.text.trim()}`);
}

async function main(): Promise<void> {
  let pg: PostgresServer | undefined;
  let vault: VaultHost | undefined;
  try {
    await step('Build the plugin binary', async () => {
      if (binaryIsStale()) execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
      show('binary', path.relative(ROOT, BINARY));
      show('sha256', fs.readFileSync(`${BINARY}.sha256`, 'utf8').trim());
    });

    pg = await step('Start a throwaway PostgreSQL', async () => {
      const server = await startPostgres();
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE TABLE inventory (item text); INSERT INTO inventory VALUES ('bolts'), ('nuts')");
      show('version', (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v);
      await admin.end();
      show('address', `127.0.0.1:${server.port}`);
      return server;
    });

    vault = await step('Start Vault', async () => {
      const real = findVaultBinary();
      const started = real ? await startRealVault(real) : await startVaultHost({ rollbackPeriod: '1m' });
      show('server', real ? `vault server -dev (${real})` : 'conformance host (vault not on PATH)');
      show('VAULT_ADDR', started.addr);
      return started;
    });
    const v = vault;
    const server = pg;

    await step(`Register the plugin and enable it at ${MOUNT}/`, async () => {
      const { sha256 } = await registerAndMount(v, { name: NAME, binaryPath: BINARY, mount: MOUNT });
      show('vault plugin register', `-sha256=${sha256.slice(0, 16)}… secret ${NAME}`);
      show('vault secrets enable', `-path=${MOUNT} ${NAME}`);
    });

    await step(`Write the connection ${MOUNT}/config/main`, async () => {
      expectOk(
        await v.request('POST', `${MOUNT}/config/main`, {
          connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${server.port}/postgres?sslmode=disable`,
          username: server.user,
          password: server.password,
          allowed_roles: 'app',
        }),
        'config write',
      );
      const read = await v.request('GET', `${MOUNT}/config/main`);
      expectOk(read, 'config read');
      show('connection_url', read.body.data.connection_details.connection_url);
    });

    await step(`Write the role ${MOUNT}/roles/app`, async () => {
      const creation = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON inventory TO "{{name}}";`;
      expectOk(await v.request('POST', `${MOUNT}/roles/app`, { db_name: 'main', creation_statements: creation, default_ttl: '1h', max_ttl: '24h' }), 'role write');
      show('creation', creation);
    });

    const creds = await step(`Read a credential: vault read ${MOUNT}/creds/app`, async () => {
      const res = await v.request('GET', `${MOUNT}/creds/app`);
      expectOk(res, 'creds read');
      show('lease_id', res.body.lease_id);
      show('lease_duration', `${res.body.lease_duration}s`);
      show('username', res.body.data.username);
      show('password', res.body.data.password);
      return { leaseId: String(res.body.lease_id), username: String(res.body.data.username), password: String(res.body.data.password) };
    });

    await step('Log into PostgreSQL with it', async () => {
      const client = new Client({ host: '127.0.0.1', port: server.port, database: 'postgres', user: creds.username, password: creds.password });
      await client.connect();
      show('current_user', (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u);
      show('inventory', (await client.query<{ item: string }>('SELECT item FROM inventory ORDER BY item')).rows.map((r) => r.item));
      await client.end();
    });

    await step(`Revoke the lease: vault lease revoke ${creds.leaseId}`, async () => {
      expectOk(await v.request('PUT', 'sys/leases/revoke', { lease_id: creds.leaseId }), 'lease revoke');
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      const left = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [creds.username]);
      await admin.end();
      if (left.rowCount !== 0) throw new Error(`role ${creds.username} still exists after revocation`);
      show('pg_roles', `no role named ${creds.username}: the user is gone`);
    });

    console.log(bold('\nDone: issued, used and revoked a dynamic PostgreSQL credential.'));
  } finally {
    console.log(dim('\nStopping everything that was started…'));
    await vault?.stop();
    await pg?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`\n${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
