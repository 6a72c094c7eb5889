/**
 * The user sweep against a real PostgreSQL: the engine's backend issues,
 * renews and revokes real users, the test moves the engine's clock and sends
 * rollback ticks, and pg_roles says what is left. Records left by crashed
 * requests are written the way the creds path writes them.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from 'pg';
import { putWal, REPLICATION_STATE } from '../../src/framework';
import { USER_PREFIX, userKey, type UserRecord } from '../../src/postgres/users/record';
import { UserRecords } from '../../src/postgres/users/user-records';
import type { Secret } from '../../src/vault';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`;
const MIN_AGE = 60;
const GRACE = 30;
const TTL = 600;

describe('user sweep', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;

  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const recorded = async (name: string) => (await new UserRecords().get(e.storage, name)) !== undefined;
  const journal = async () => (await admin.query<{ entry: string }>('SELECT entry FROM sweep_journal ORDER BY id')).rows.map((r) => r.entry);
  const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

  async function issue(role = 'app'): Promise<{ username: string; secret: Secret }> {
    const resp = expectOk(await e.call('read', `creds/${role}`), `creds/${role}`);
    const username = String(resp?.data?.['username']);
    assert.ok(resp?.secret, 'a lease');
    assert.equal(await exists(username), true);
    return { username, secret: resp.secret };
  }

  /** What a request that died after CREATE ROLE leaves: the role, and its record still `issuing`. */
  async function crashedIssuance(username: string, dbName = 'main', rollbackStatements: string[] = [], role = 'app'): Promise<void> {
    await admin.query(`CREATE ROLE "${username}" LOGIN`);
    const now = seconds(e.clock.now);
    const record: UserRecord = {
      username,
      dbName,
      role,
      state: 'issuing',
      createdAt: now,
      leaseEnd: now + TTL,
      displayName: 'token',
      entityId: '',
      revocationStatements: [],
      rollbackStatements,
    };
    await new UserRecords().put(e.storage, record);
    // The request's process died with the record in its index; the engine
    // here learns of it as a restarted process (or another node's) would.
    e.backend.invalidateKey(userKey(username));
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE sweep_journal (id serial, entry text)');
  });
  after(async () => {
    await admin?.end();
    await pg?.stop();
  });

  beforeEach(async () => {
    await admin.query('TRUNCATE sweep_journal');
    e = await engineBackend({ wal_rollback_min_age: `${MIN_AGE}s`, user_sweep_grace: `${GRACE}s` });
    expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config');
    expectOk(await e.call('update', 'roles/app', { db_name: 'main', creation_statements: CREATE, default_ttl: TTL }), 'role app');
    expectOk(
      await e.call('update', 'roles/logged', {
        db_name: 'main',
        creation_statements: CREATE,
        default_ttl: TTL,
        revocation_statements: `INSERT INTO sweep_journal (entry) VALUES ('revoke ' || '{{name}}'); DROP ROLE IF EXISTS "{{name}}"`,
        rollback_statements: `INSERT INTO sweep_journal (entry) VALUES ('rollback ' || '{{name}}'); DROP ROLE IF EXISTS "{{name}}"`,
      }),
      'role logged',
    );
  });

  it('leaves an issued user alone while its lease is live and through the grace, drops it the second after', async () => {
    const start = seconds(e.clock.now);
    const { username } = await issue();
    const leaseEnd = start + TTL;
    for (const at of [1, TTL / 2, TTL, TTL + GRACE]) {
      e.clock.now = new Date((start + at) * 1000);
      await e.rollback();
      assert.equal(await exists(username), true, `still there ${at} s after issue`);
      assert.equal(await recorded(username), true);
    }
    e.clock.now = new Date((leaseEnd + GRACE + 1) * 1000);
    await e.rollback();
    assert.equal(await exists(username), false, 'dropped once lease end + grace has passed');
    assert.equal(await recorded(username), false, 'and its record deleted');
  });

  it("drops an expired user with its role's current revocation statements (Vault's lease rule), rolls back with its current rollback statements", async () => {
    const { username } = await issue('logged');
    await crashedIssuance('v-crashed-logged', 'main', ['DROP ROLE "{{name}}"'], 'logged');
    expectOk(
      await e.call('update', 'roles/logged', {
        revocation_statements: `INSERT INTO sweep_journal (entry) VALUES ('fixed revoke ' || '{{name}}'); DROP ROLE IF EXISTS "{{name}}"`,
        rollback_statements: `INSERT INTO sweep_journal (entry) VALUES ('fixed rollback ' || '{{name}}'); DROP ROLE IF EXISTS "{{name}}"`,
      }),
      'role change',
    );
    e.clock.advance(TTL + GRACE + 1);
    await e.rollback();
    assert.equal(await exists(username), false);
    assert.equal(await exists('v-crashed-logged'), false);
    assert.deepEqual((await journal()).sort(), [`fixed revoke ${username}`, 'fixed rollback v-crashed-logged']);
  });

  it('drops an expired user with the revocation statements recorded at issue once its role is deleted', async () => {
    const { username } = await issue('logged');
    expectOk(await e.call('delete', 'roles/logged'), 'role delete');
    e.clock.advance(TTL + GRACE + 1);
    await e.rollback();
    assert.equal(await exists(username), false);
    assert.deepEqual(await journal(), [`revoke ${username}`]);
  });

  it('a renewal moves the recorded lease end first; the sweep follows the new end', async () => {
    const { username, secret } = await issue();
    e.clock.advance(TTL - 100);
    expectOk(await e.renew(secret, 3600), 'renew');
    const record = await new UserRecords().get(e.storage, username);
    assert.equal(record?.leaseEnd, seconds(e.clock.now) + 3600, 'lease_end = now + new ttl');
    e.clock.advance(1000); // past the first lease end + grace, inside the renewed one
    await e.rollback();
    assert.equal(await exists(username), true, 'a renewed lease is live');
    e.clock.advance(3600 - 1000 + GRACE + 1);
    await e.rollback();
    assert.equal(await exists(username), false);
  });

  it('revocation deletes the record; a second revocation of the same lease succeeds', async () => {
    const { username, secret } = await issue();
    expectOk(await e.revoke(secret), 'revoke');
    assert.equal(await exists(username), false);
    assert.equal(await recorded(username), false);
    expectOk(await e.revoke(secret), 'revoke again');
  });

  it('rolls back an unfinished issuance older than wal_rollback_min_age with the rollback statements, not a younger one', async () => {
    await crashedIssuance('v-crashed-young');
    // Its role is gone: the statements recorded at issue apply.
    await crashedIssuance('v-crashed-old', 'main', [`INSERT INTO sweep_journal (entry) VALUES ('rollback ' || '{{name}}'); DROP ROLE "{{name}}"`], 'deleted-role');
    // The old one was written MIN_AGE + 1 s ago.
    const records = new UserRecords();
    const old = await records.get(e.storage, 'v-crashed-old');
    assert.ok(old);
    await records.put(e.storage, { ...old, createdAt: old.createdAt - MIN_AGE - 1 });
    e.backend.invalidateKey(`${USER_PREFIX}v-crashed-old`);

    await e.rollback();
    assert.equal(await exists('v-crashed-old'), false);
    assert.deepEqual(await journal(), ['rollback v-crashed-old']);
    assert.equal(await recorded('v-crashed-old'), false);
    assert.equal(await exists('v-crashed-young'), true, 'an issuance younger than the minimum age may still be running');

    e.clock.advance(MIN_AGE);
    await e.rollback();
    assert.equal(await exists('v-crashed-young'), true, 'exactly the minimum age is not older than it');
    e.clock.advance(1);
    await e.rollback();
    assert.equal(await exists('v-crashed-young'), false);
  });

  it('a recorded user that no longer exists is settled without error, with default and custom statements', async () => {
    const plain = await issue();
    const logged = await issue('logged');
    await admin.query(`DROP ROLE "${plain.username}"; DROP ROLE "${logged.username}"`);
    e.clock.advance(TTL + GRACE + 1);
    await e.rollback();
    assert.equal(await recorded(plain.username), false);
    assert.equal(await recorded(logged.username), false);
    assert.deepEqual(await journal(), [], 'custom statements are not run for a user that is gone');
  });

  it('keeps the records of a connection that no longer exists and says so; the others are still swept', async () => {
    expectOk(await e.call('update', 'config/other', pgConnection(pg)), 'config other');
    expectOk(await e.call('update', 'roles/elsewhere', { db_name: 'other', creation_statements: CREATE, default_ttl: TTL }), 'role elsewhere');
    const orphaned = await issue('elsewhere');
    const here = await issue();
    expectOk(await e.call('delete', 'config/other'), 'delete config other');
    e.clock.advance(TTL + GRACE + 1);
    await assert.rejects(e.rollback(), /1 user\(s\) of connection "other" kept: the connection no longer exists/);
    assert.equal(await exists(here.username), false, 'the other record was processed');
    assert.equal(await exists(orphaned.username), true);
    assert.equal(await recorded(orphaned.username), true, 'kept until the connection is back');

    expectOk(await e.call('update', 'config/other', pgConnection(pg)), 'config other again');
    await e.rollback();
    assert.equal(await exists(orphaned.username), false);
  });

  it('on the unmount\'s final rollback (mount tainted) drops every recorded user, live or unfinished', async () => {
    const live = await issue();
    const logged = await issue('logged');
    await crashedIssuance('v-crashed-now');
    e.systemView.isTainted = true;
    await e.rollback();
    for (const name of [live.username, logged.username, 'v-crashed-now']) {
      assert.equal(await exists(name), false, `${name} dropped`);
      assert.equal(await recorded(name), false);
    }
    assert.deepEqual(await journal(), [`revoke ${logged.username}`]);
    assert.deepEqual(await e.storage.list(USER_PREFIX), []);
  });

  it('a sweep that began before the taint (the unmount\'s final rollback joins it) looks again and drops every user', async () => {
    const live = await issue();
    // Untainted when the tick begins, tainted by the time it ends: what an
    // unmount during a periodic rollback looks like to the plugin.
    const tainted = e.systemView.tainted.bind(e.systemView);
    let asked = 0;
    e.systemView.tainted = async () => (asked++ === 0 ? false : true);
    try {
      await e.rollback();
    } finally {
      e.systemView.tainted = tainted;
    }
    assert.ok(asked >= 2, 'the mount was asked again after the sweep');
    assert.equal(await exists(live.username), false, 'the live user went with the mount');
    assert.deepEqual(await e.storage.list(USER_PREFIX), []);
  });

  it('a periodic rollback that asked about the taint just before it was set stands in for the final one; Cleanup of the tainted mount drops every user', async () => {
    const live = await issue();
    await crashedIssuance('v-crashed-cleanup');
    // The tick sees no taint at either look: the unmount began right after it answered.
    await e.rollback();
    assert.equal(await exists(live.username), true, 'a live lease: the untainted tick keeps it');
    e.systemView.isTainted = true;
    await e.backend.cleanup();
    for (const name of [live.username, 'v-crashed-cleanup']) {
      assert.equal(await exists(name), false, `${name} dropped at Cleanup`);
      assert.equal(await recorded(name), false);
    }
    assert.deepEqual(await e.storage.list(USER_PREFIX), []);
  });

  it('Cleanup of a mount that is not being unmounted (seal, reload), or on a node that cannot write, drops no one', async () => {
    const live = await issue();
    await e.backend.cleanup();
    assert.equal(await exists(live.username), true, 'untainted: kept');
    // A performance standby: the active node drops the users of a mount it unmounts.
    e.systemView.isTainted = true;
    e.systemView.replication = REPLICATION_STATE.performanceStandby;
    await e.backend.cleanup();
    assert.equal(await exists(live.username), true, 'read-only storage: kept');
    assert.equal(await recorded(live.username), true);
  });

  it('an index loaded before another node wrote a record is reloaded when Vault invalidates the key', async () => {
    await crashedIssuance('v-other-node');
    await e.rollback(); // loads the index: an unfinished issuance, too young to roll back
    const records = new UserRecords();
    const record = await records.get(e.storage, 'v-other-node');
    assert.ok(record);
    await records.put(e.storage, { ...record, state: 'issued', issuedAt: record.createdAt, leaseEnd: seconds(e.clock.now) - GRACE - 1 });
    await e.rollback();
    assert.equal(await exists('v-other-node'), true, 'this node\'s index does not know the record yet');
    e.backend.invalidateKey(`${USER_PREFIX}v-other-node`);
    await e.rollback();
    assert.equal(await exists('v-other-node'), false, 'after invalidation the index is read again and the expired user dropped');
  });

  it('after an upgrade: a created-user WAL entry of the previous version is still rolled back', async () => {
    await admin.query('CREATE ROLE "v-old-version-crash" LOGIN');
    const data = {
      username: 'v-old-version-crash',
      db_name: 'main',
      role: 'app',
      rollback_statements: [`INSERT INTO sweep_journal (entry) VALUES ('wal ' || '{{name}}'); DROP ROLE "{{name}}"`],
    };
    await putWal(e.storage, 'created-user', data, new Date(e.clock.now.getTime() - (MIN_AGE + 1) * 1000));
    await e.rollback();
    assert.equal(await exists('v-old-version-crash'), false);
    assert.deepEqual(await journal(), ['wal v-old-version-crash']);
    assert.deepEqual(await e.storage.list('wal/'), []);
  });

  it('after an upgrade: renewing a lease issued before records existed records it, and the sweep then covers it', async () => {
    const { username, secret } = await issue();
    await new UserRecords().delete(e.storage, username); // as the previous version left it: no record
    e.backend.invalidateKey(`${USER_PREFIX}${username}`);
    expectOk(await e.renew(secret, 900), 'renew');
    const record = await new UserRecords().get(e.storage, username);
    assert.equal(record?.state, 'issued');
    assert.equal(record?.role, 'app');
    assert.equal(record?.dbName, 'main');
    assert.equal(record?.leaseEnd, seconds(e.clock.now) + 900);
    e.clock.advance(900 + GRACE + 1);
    await e.rollback();
    assert.equal(await exists(username), false);
  });

  it('a username with /, %, .. and a tab is recorded under one key, listed and read back exactly, and swept', async () => {
    expectOk(
      await e.call('update', 'config/odd', pgConnection(pg, { username_template: '{{ printf "v/a%%b..c\\t%s" (random 6) }}' })),
      'config odd',
    );
    expectOk(await e.call('update', 'roles/odd', { db_name: 'odd', creation_statements: CREATE, default_ttl: TTL }), 'role odd');
    const { username } = await issue('odd');
    assert.match(username, /^v\/a%b\.\.c\t[A-Za-z0-9]{6}$/);
    assert.deepEqual(await e.storage.list(USER_PREFIX), [`v%2Fa%25b%2E%2Ec%09${username.slice(-6)}`]);
    const listed = await e.call('list', 'users/');
    assert.deepEqual(listed?.data?.['keys'], [username]);
    const read = await e.call('read', `users/${username}`);
    assert.equal(read?.data?.['username'], username);
    assert.equal(read?.data?.['role'], 'odd');
    e.clock.advance(TTL + GRACE + 1);
    await e.rollback();
    assert.equal(await exists(username), false);
    assert.deepEqual(await e.storage.list(USER_PREFIX), []);
  });
});
