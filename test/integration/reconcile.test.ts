/**
 * reconcile/<connection> against a real PostgreSQL. The connection logs in
 * as a CREATEROLE user (not a superuser) whose own name matches the
 * pattern, with membership in the roles it may drop, as the README asks of
 * a connection user; next to it are roles each exclusion must keep out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { withPgClient } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`;
const CONN_USER = 'v-conn';
const CONN_PASSWORD = 'conn-password-123';

describe('reconcile', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;
  let claimed: string;

  const roles = async (like: string) =>
    (await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1', [like])).rows.map((r) => r.rolname);
  const reconcile = async (data: Record<string, unknown> = {}) => (await e.call('update', 'reconcile/main', data))?.data ?? {};

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`
      CREATE ROLE "${CONN_USER}" LOGIN CREATEROLE PASSWORD '${CONN_PASSWORD}';
      CREATE ROLE "v-super" SUPERUSER;
      CREATE ROLE "v-repl" REPLICATION;
      CREATE ROLE "v-left-1" LOGIN;
      CREATE ROLE "v-left-2";
      CREATE ROLE "v-locked";
      CREATE ROLE "other-app" LOGIN;
      GRANT "v-left-1", "v-left-2", "v-locked" TO "${CONN_USER}";
    `);
    await admin.query('CREATE DATABASE locked');
    await admin.query('REVOKE CONNECT ON DATABASE locked FROM PUBLIC');
    // v-locked owns a table where the connection user may not connect: its revocation fails.
    await withPgClient({ connectionString: pg.url.replace(/\/postgres$/, '/locked') }, (c) => c.query('CREATE TABLE kept (v int); ALTER TABLE kept OWNER TO "v-locked"'));

    e = await engineBackend();
    expectOk(
      await e.call('update', 'config/main', pgConnection(pg, { username: CONN_USER, password: CONN_PASSWORD, username_template: 'v-{{.RoleName}}-{{random 12}}' })),
      'config',
    );
    expectOk(await e.call('update', 'roles/app', { db_name: 'main', creation_statements: CREATE }), 'role');
    const creds = expectOk(await e.call('read', 'creds/app'), 'creds');
    claimed = String(creds?.data?.['username']);
  });
  after(async () => {
    await admin?.end();
    await pg?.stop();
  });

  it('derives the pattern from the username template and lists only unclaimed, droppable roles (dry run by default)', async () => {
    const before = await roles('%');
    const res = await reconcile();
    assert.equal(res['dry_run'], true);
    assert.equal(res['pattern'], 'v-%');
    assert.deepEqual(res['unclaimed'], ['v-left-1', 'v-left-2', 'v-locked']);
    assert.deepEqual(res['dropped'], []);
    assert.deepEqual(res['errors'], {});
    assert.ok((await roles('v-%')).includes(claimed), 'the claimed user exists and matches the pattern');
    assert.deepEqual(await roles('%'), before, 'a dry run changes nothing in pg_roles');
  });

  it('a given pattern is used as it is; pg_* roles, superusers and the connection user never appear', async () => {
    const res = await reconcile({ pattern: '%' });
    assert.equal(res['pattern'], '%');
    assert.deepEqual(res['unclaimed'], ['other-app', 'v-left-1', 'v-left-2', 'v-locked']);
    assert.ok((await roles('pg\\_%')).length > 5, 'built-in pg_* roles exist and were left out');
    assert.deepEqual(await roles('postgres'), ['postgres'], 'the superuser exists and was left out');
  });

  it('dry_run=false drops what it lists, reports per-role errors, and leaves everything else', async () => {
    const res = await reconcile({ dry_run: false });
    assert.equal(res['dry_run'], false);
    assert.deepEqual(res['unclaimed'], ['v-left-1', 'v-left-2', 'v-locked']);
    assert.deepEqual(res['dropped'], ['v-left-1', 'v-left-2']);
    const errors = res['errors'] as Record<string, string>;
    assert.deepEqual(Object.keys(errors), ['v-locked']);
    assert.equal(errors['v-locked'], 'permission denied for database "locked" (42501)');
    assert.deepEqual(await roles('v-%'), [CONN_USER, 'v-locked', 'v-repl', 'v-super', claimed].sort(), 'pg_roles keeps the excluded, the claimed and the failed');
    assert.deepEqual((await reconcile())['unclaimed'], ['v-locked']);
  });

  it('refuses with a 400 when the template starts with a value and no pattern is given', async () => {
    expectOk(await e.call('update', 'config/main', { username_template: '{{random 20}}' }), 'template without a fixed beginning');
    const res = await reconcile();
    assert.match(String(res['error']), /does not start with fixed text, so no pattern can be derived from it; give one with pattern/);
    assert.deepEqual((await reconcile({ pattern: 'v-left%' }))['unclaimed'], [], 'a given pattern still works');
    const unknown = await e.call('update', 'reconcile/nope', {});
    assert.match(String(unknown?.data?.['error']), /connection "nope" does not exist/);
  });
});
