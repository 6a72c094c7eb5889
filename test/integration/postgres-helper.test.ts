/**
 * Checks the throw-away PostgreSQL helper against a real server: it must be
 * PostgreSQL 15, enforce SCRAM passwords over TCP, and vanish on stop().
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { withPgClient } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';


/** True when something accepts TCP connections on 127.0.0.1:port. */
function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

describe('startPostgres', () => {
  let pg: PostgresServer;

  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg.stop();
  });

  it('describes a loopback server with a URL that matches its fields', () => {
    assert.equal(pg.host, '127.0.0.1');
    assert.equal(pg.user, 'postgres');
    assert.equal(pg.database, 'postgres');
    assert.ok(pg.port > 0 && pg.port < 65536);
    assert.ok(pg.password.length >= 16, 'password is random and long');
    const url = new URL(pg.url);
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(Number(url.port), pg.port);
    assert.equal(decodeURIComponent(url.username), pg.user);
    assert.equal(decodeURIComponent(url.password), pg.password);
    assert.equal(url.pathname, '/postgres');
  });

  it('runs PostgreSQL 15 and accepts the superuser password', async () => {
    const row = await withPgClient({ connectionString: pg.url }, async (c) => {
      const res = await c.query<{ version: string; superuser: boolean; dir: string; enc: string }>(
        `select version() as version,
                (select rolsuper from pg_roles where rolname = current_user) as superuser,
                current_setting('data_directory') as dir,
                pg_encoding_to_char(encoding) as enc
           from pg_database where datname = current_database()`,
      );
      return res.rows[0];
    });
    assert.ok(row !== undefined);
    assert.match(row.version, /PostgreSQL 15/);
    assert.equal(row.superuser, true);
    assert.equal(row.enc, 'UTF8');
    assert.ok(fs.existsSync(row.dir), `data dir ${row.dir} exists while running`);
  });

  it('uses SCRAM and rejects a wrong password with SQLSTATE 28P01', async () => {
    await assert.rejects(
      withPgClient({ host: pg.host, port: pg.port, user: pg.user, password: `${pg.password}x`, database: pg.database }, async () => undefined),
      (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, '28P01');
        return true;
      },
    );
    // The superuser's stored verifier is SCRAM, not md5 or plain text.
    const verifier = await withPgClient({ connectionString: pg.url }, async (c) =>
      (await c.query<{ p: string }>(`select rolpassword as p from pg_authid where rolname = current_user`)).rows[0]?.p,
    );
    assert.match(verifier ?? '', /^SCRAM-SHA-256\$/);
  });

  it('runs independent servers side by side', async () => {
    const other = await startPostgres();
    try {
      assert.notEqual(other.port, pg.port);
      assert.notEqual(other.password, pg.password);
      await withPgClient({ connectionString: other.url }, async (c) => {
        await c.query('create table only_here (id int)');
      });
      const seen = await withPgClient({ connectionString: pg.url }, async (c) =>
        (await c.query(`select 1 from pg_tables where tablename = 'only_here'`)).rowCount,
      );
      assert.equal(seen, 0);
    } finally {
      await other.stop();
    }
  });

  it('stop() shuts the server down and removes its directory', async () => {
    const server = await startPostgres();
    const dir = await withPgClient({ connectionString: server.url }, async (c) =>
      (await c.query<{ d: string }>(`select current_setting('data_directory') as d`)).rows[0]?.d,
    );
    assert.ok(dir !== undefined && fs.existsSync(dir));
    // A connected client must not block the (fast) shutdown.
    const lingering = new Client({ connectionString: server.url });
    lingering.on('error', () => undefined);
    await lingering.connect();

    const t0 = Date.now();
    await server.stop();
    const elapsed = Date.now() - t0;

    assert.equal(fs.existsSync(dir), false, 'data dir removed');
    assert.equal(await portAccepts(server.port), false, 'port closed');
    assert.ok(elapsed < 10_000, `stop took ${elapsed} ms`);
    await lingering.end().catch(() => undefined);
    await server.stop(); // idempotent
  });
});
