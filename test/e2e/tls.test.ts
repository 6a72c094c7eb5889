/**
 * sslmode through the Vault under test: a connection URL with
 * sslmode=require, as written for Vault's own engine, against a PostgreSQL
 * whose certificate is signed by a CA nobody trusts. Vault's engine (pgx)
 * encrypts without checking the certificate, and so must this plugin; the
 * credentials it issues must work (over TLS: pg_hba.conf takes issued users
 * only with hostssl).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { PLUGIN_NAME, pluginBinary } from '../helpers/plugin-binary';
import { registerPlugin, startVault, stopVaultFirst, type VaultUnderTest } from '../helpers/vault-host';

const MOUNT = 'pg-tls';
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON t TO "{{name}}";`;

describe('sslmode=require against a self-signed server, through the Vault under test', () => {
  let pg: PostgresServer;
  let vault: VaultUnderTest;
  let admin: Client;

  const ok = (res: { status: number; text: string }, what: string) => assert.ok(res.status < 300, `${what}: HTTP ${res.status} ${res.text}`);
  const url = (sslmode: string) => `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/postgres?sslmode=${sslmode}`;

  before(async () => {
    // postgres (the plugin's connection user, and the readiness check) over
    // either transport; every other user over TLS only.
    pg = await startPostgres({ tls: { hba: ['host all postgres 127.0.0.1/32 scram-sha-256', 'hostssl all all 127.0.0.1/32 scram-sha-256'] } });
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE t (id int); INSERT INTO t VALUES (7)');
    vault = await startVault({ rollbackPeriodMs: 0 });
    await registerPlugin(vault, PLUGIN_NAME, { binaryPath: pluginBinary() });
    ok(await vault.request('POST', `sys/mounts/${MOUNT}`, { type: PLUGIN_NAME }), 'mount');
  });
  after(() =>
    stopVaultFirst(
      vault,
      async () => admin?.end(),
      async () => pg?.stop(),
    ),
  );

  it('refuses verify-full (the CA is unknown), accepts require, and issues credentials that log in over TLS', async () => {
    const config = { username: pg.user, password: pg.password, allowed_roles: '*' };
    const full = await vault.request('POST', `${MOUNT}/config/main`, { ...config, connection_url: url('verify-full') });
    assert.equal(full.status, 400, full.text);
    assert.match(full.text, /error verifying connection: self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\)/);

    ok(await vault.request('POST', `${MOUNT}/config/main`, { ...config, connection_url: url('require') }), 'config with sslmode=require');
    ok(await vault.request('POST', `${MOUNT}/roles/app`, { db_name: 'main', creation_statements: CREATE, default_ttl: '1h' }), 'role');
    const creds = await vault.request('GET', `${MOUNT}/creds/app`);
    assert.equal(creds.status, 200, creds.text);
    const { username, password } = creds.body.data as { username: string; password: string };

    const app = new Client({ host: '127.0.0.1', port: pg.port, user: username, password, database: 'postgres', ssl: { rejectUnauthorized: false } });
    await app.connect();
    try {
      const row = (await app.query('SELECT s.ssl, current_user AS who, (SELECT id FROM t) AS id FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()')).rows[0];
      assert.deepEqual(row, { ssl: true, who: username, id: 7 });
    } finally {
      await app.end();
    }

    // The plugin's own pooled connections (as postgres) are encrypted too.
    const plugin = await admin.query<{ ssl: boolean }>(
      'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = $1 AND a.pid <> pg_backend_pid()',
      [pg.user],
    );
    assert.ok(plugin.rows.length > 0, 'the plugin holds a pooled connection');
    assert.ok(plugin.rows.every((r) => r.ssl), 'every connection of the plugin uses TLS');

    ok(await vault.request('PUT', 'sys/leases/revoke', { lease_id: creds.body.lease_id }), 'revoke');
    assert.equal((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount, 0, 'revoked user is gone');
  });
});
