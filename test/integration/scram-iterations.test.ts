/**
 * The SCRAM verifiers the plugin sends in place of cleartext passwords carry
 * the iteration count PostgreSQL itself would hash that cleartext with in the
 * connection's sessions: scram_iterations on PostgreSQL 16+ (here set for the
 * connection user with ALTER ROLE … SET, as a DBA would), 4096 before 16.
 * Checked in pg_authid for each path that sets a password — creds, a static
 * role's rotation, rotate-root — and by logging in with what the plugin
 * returned (or stored, for the root).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { logsInAs, withPgClient } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const ADMIN = 'vault_admin';
const ADMIN_PASSWORD = 'admin-password-0123456789';
const STATIC_USER = 'app_static';
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`;

/** `SCRAM-SHA-256$<iterations>:…` of `user`, as PostgreSQL stores it. */
async function storedIterations(pg: PostgresServer, user: string): Promise<number> {
  const secret = await withPgClient(pg.url, async (c) => (await c.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [user])).rows[0]?.rolpassword);
  const match = /^SCRAM-SHA-256\$(\d+):/.exec(secret ?? '');
  assert.ok(match, `${user} has no SCRAM verifier: ${String(secret).slice(0, 20)}`);
  return Number(match[1]);
}

/** A mount whose connection `main` logs in as ADMIN (a superuser of its own, so rotate-root does not touch the test's). */
async function mountOn(pg: PostgresServer): Promise<EngineBackend> {
  const e = await engineBackend();
  expectOk(await e.call('update', 'config/main', pgConnection(pg, { username: ADMIN, password: ADMIN_PASSWORD })), 'config');
  expectOk(await e.call('update', 'roles/app', { db_name: 'main', creation_statements: CREATE, default_ttl: '1h' }), 'role');
  return e;
}

/** Issues a credential and returns its username after checking that its password logs in. */
async function issue(e: EngineBackend, pg: PostgresServer): Promise<string> {
  const data = expectOk(await e.call('read', 'creds/app'), 'creds')?.data ?? {};
  const username = String(data['username']);
  assert.equal(await logsInAs(pg.port, username, String(data['password'])), true, 'the issued password logs in');
  return username;
}

describe('SCRAM verifiers follow the server’s scram_iterations', () => {
  const servers: PostgresServer[] = [];

  async function server(major?: number, iterations?: number): Promise<PostgresServer> {
    const pg = await startPostgres(major === undefined ? {} : { major });
    servers.push(pg);
    await withPgClient(pg.url, async (c) => {
      await c.query(`CREATE ROLE ${ADMIN} LOGIN SUPERUSER PASSWORD '${ADMIN_PASSWORD}'`);
      await c.query(`CREATE ROLE ${STATIC_USER} LOGIN PASSWORD 'initial-password-0123'`);
      if (iterations !== undefined) await c.query(`ALTER ROLE ${ADMIN} SET scram_iterations = ${iterations}`);
    });
    return pg;
  }

  after(async () => {
    await Promise.all(servers.map((pg) => pg.stop()));
  });

  describe('PostgreSQL 16 with ALTER ROLE … SET scram_iterations = 1024 for the connection user', () => {
    let pg: PostgresServer;
    let e: EngineBackend;
    before(async () => {
      pg = await server(16, 1024);
      e = await mountOn(pg);
    });

    it('creds: the new user’s verifier has 1024 iterations', async () => {
      assert.equal(await storedIterations(pg, await issue(e, pg)), 1024);
    });

    it('a static role’s rotation: 1024 iterations, and static-creds logs in', async () => {
      expectOk(await e.call('update', 'static-roles/rotated', { db_name: 'main', username: STATIC_USER, rotation_period: '1h' }), 'static role');
      expectOk(await e.call('update', 'rotate-role/rotated'), 'rotate-role');
      const creds = expectOk(await e.call('read', 'static-creds/rotated'), 'static-creds')?.data ?? {};
      assert.equal(await storedIterations(pg, STATIC_USER), 1024);
      assert.equal(await logsInAs(pg.port, STATIC_USER, String(creds['password'])), true);
    });

    it('rotate-root: the connection user’s own verifier has 1024 iterations, and the mount still works', async () => {
      expectOk(await e.call('update', 'rotate-root/main'), 'rotate-root');
      assert.equal(await storedIterations(pg, ADMIN), 1024);
      assert.equal(await logsInAs(pg.port, ADMIN, ADMIN_PASSWORD), false, 'the old root password no longer works');
      // The pool logs in with the rotated password: issuing still works.
      assert.equal(await storedIterations(pg, await issue(e, pg)), 1024);
    });
  });

  it('PostgreSQL 16 left at its default: 4096', async () => {
    const pg = await server(16);
    assert.equal(await storedIterations(pg, await issue(await mountOn(pg), pg)), 4096);
  });

  it('PostgreSQL 15, which has no scram_iterations: 4096', async () => {
    const pg = await server();
    assert.equal(await storedIterations(pg, await issue(await mountOn(pg), pg)), 4096);
  });
});
