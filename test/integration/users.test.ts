/**
 * Creating, renewing and revoking database users against a real PostgreSQL:
 * atomic creation, VALID UNTIL, and revocation that finishes even when the
 * user owns objects in several databases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Pool } from 'pg';
import { createUser } from '../../src/postgres/users/create-user';
import { renewUser, UserGone } from '../../src/postgres/users/renew-user';
import { revokeUser, userExists } from '../../src/postgres/users/revoke-user';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, 'GRANT SELECT ON t TO "{{name}}"'];

describe('database users', () => {
  let pg: PostgresServer;
  let pool: Pool;
  const clientConfig = () => ({ host: '127.0.0.1', port: pg.port, user: pg.user, password: pg.password, database: 'postgres' });

  before(async () => {
    pg = await startPostgres();
    pool = new Pool({ ...clientConfig(), max: 8 });
    // Idle pooled connections see the server's shutdown at the end as an error.
    pool.on('error', () => undefined);
    await pool.query('CREATE TABLE t (id int)');
    await pool.query('CREATE DATABASE otherdb');
  });
  after(async () => {
    await pool?.end();
    await pg?.stop();
  });

  it('creates all or nothing: a failing statement leaves no role behind', async () => {
    await assert.rejects(
      createUser(pool, [...CREATE, 'GRANT SELECT ON no_such_table TO "{{name}}"'], { username: 'v-atomic', passwordValue: 'pw-1234567890', expiration: '2099-01-01 00:00:00+0000' }),
      (err: { code?: string }) => err.code === '42P01',
    );
    assert.equal(await userExists(pool, 'v-atomic'), false);
  });

  it('sets VALID UNTIL, and renew moves it; renewing a vanished user says so', async () => {
    await createUser(pool, CREATE, { username: 'v-expiry', passwordValue: 'pw-1234567890', expiration: '2030-01-01 00:00:00+0000' });
    const read = async () => (await pool.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', ['v-expiry'])).rows[0].rolvaliduntil as Date;
    assert.equal((await read()).toISOString(), '2030-01-01T00:00:00.000Z');
    await renewUser(pool, 'v-expiry', '2031-06-01 12:00:00+0000');
    assert.equal((await read()).toISOString(), '2031-06-01T12:00:00.000Z');
    await revokeUser({ pool, clientConfig: clientConfig() }, 'v-expiry');
    await assert.rejects(renewUser(pool, 'v-expiry', '2032-01-01 00:00:00+0000'), UserGone);
  });

  it('revokes a user owning objects and default privileges in two databases; the objects survive', async () => {
    await createUser(pool, [...CREATE, 'GRANT CREATE ON SCHEMA public TO "{{name}}"'], { username: 'v-owner', passwordValue: 'pw-owner-123456', expiration: '2099-01-01 00:00:00+0000' });
    await pool.query('GRANT ALL ON DATABASE otherdb TO "v-owner"');
    const other = new Client({ ...clientConfig(), database: 'otherdb' });
    await other.connect();
    await other.query('GRANT CREATE ON SCHEMA public TO "v-owner"');
    await other.end();

    for (const database of ['postgres', 'otherdb']) {
      const asUser = new Client({ ...clientConfig(), database, user: 'v-owner', password: 'pw-owner-123456' });
      await asUser.connect();
      await asUser.query(`CREATE TABLE made_in_${database} (v int)`);
      await asUser.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC`);
      await asUser.end();
    }

    await revokeUser({ pool, clientConfig: clientConfig() }, 'v-owner');
    assert.equal(await userExists(pool, 'v-owner'), false);
    const here = await pool.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_in_postgres'");
    assert.equal(here.rows[0].tableowner, pg.user);
    const otherCheck = new Client({ ...clientConfig(), database: 'otherdb' });
    await otherCheck.connect();
    const there = await otherCheck.query("SELECT tableowner FROM pg_tables WHERE tablename = 'made_in_otherdb'");
    await otherCheck.end();
    assert.equal(there.rows[0].tableowner, pg.user, 'objects in the other database were handed over too');
  });

  it('revoking a user that does not exist succeeds, with default and custom statements', async () => {
    await revokeUser({ pool, clientConfig: clientConfig() }, 'v-never-existed');
    await revokeUser({ pool, clientConfig: clientConfig() }, 'v-never-existed', ['DROP ROLE "{{name}}"']);
  });

  it('32 concurrent creations granting on one table all commit (catalog conflicts are retried)', async () => {
    const big = new Pool({ ...clientConfig(), max: 32 });
    big.on('error', () => undefined);
    try {
      const names = Array.from({ length: 32 }, (_, i) => `v-conc-${i}`);
      await Promise.all(names.map((username) => createUser(big, CREATE, { username, passwordValue: 'pw-1234567890', expiration: '2099-01-01 00:00:00+0000' })));
      const grants = await big.query("SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE table_name = 't' AND grantee LIKE 'v-conc-%'");
      assert.equal(grants.rows[0].n, 32);
      await Promise.all(names.map((n) => revokeUser({ pool: big, clientConfig: clientConfig() }, n)));
      const left = await big.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v-conc-%'");
      assert.equal(left.rows[0].n, 0);
    } finally {
      await big.end();
    }
  });
});
