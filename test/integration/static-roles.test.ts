/**
 * static-roles/, static-creds/, rotate-role/ and automated root rotation
 * against a real PostgreSQL, on the engine's backend with a clock the test
 * moves: every rotation is followed by a login with what static-creds
 * returns, and the password it replaced is tried too.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from 'pg';
import { REPLICATION_STATE } from '../../src/framework';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { logsInAs } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';
import { waitUntil } from '../helpers/wait';
import { verifyConnection } from '../../src/postgres/connections/verify';

const ROOT_USER = 'vault-root';
const ROOT_PASSWORD = 'root-password-123';

describe('static roles', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;
  let seq = 0;

  const logsIn = (user: string, password: string): Promise<boolean> => logsInAs(pg.port, user, password);
  /** A new database user with a known password. */
  const newUser = async (password = 'initial-password-1'): Promise<string> => {
    const name = `app-user-${++seq}`;
    await admin.query(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}'`);
    return name;
  };
  const creds = async (name: string): Promise<Record<string, unknown>> => expectOk(await e.call('read', `static-creds/${name}`), 'static-creds')?.data ?? {};
  const error = (resp: { data?: Record<string, unknown> } | undefined): string => String(resp?.data?.['error'] ?? '');

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE ROLE "${ROOT_USER}" LOGIN CREATEROLE PASSWORD '${ROOT_PASSWORD}'`);
  });
  after(async () => {
    await admin?.end();
    await pg?.stop();
  });
  beforeEach(async () => {
    e = await engineBackend();
    expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config');
  });

  it('rotates the password on create, hands it out, and rotates it again when the period is up', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    assert.equal(await logsIn(user, 'initial-password-1'), false, 'the password was rotated on import');
    const first = await creds('app');
    assert.equal(first['username'], user);
    assert.equal(first['rotation_period'], 3600);
    assert.equal(first['ttl'], 3600);
    assert.equal(first['last_vault_rotation'], e.clock.now.toISOString());
    assert.equal(await logsIn(user, String(first['password'])), true);

    e.clock.advance(1800);
    await e.rollback();
    assert.equal((await creds('app'))['password'], first['password'], 'not due yet');
    assert.equal((await creds('app'))['ttl'], 1800);

    e.clock.advance(1801);
    await e.rollback();
    const second = await creds('app');
    assert.notEqual(second['password'], first['password']);
    assert.equal(await logsIn(user, String(second['password'])), true);
    assert.equal(await logsIn(user, String(first['password'])), false);
    assert.equal(second['last_vault_rotation'], e.clock.now.toISOString());
  });

  it('static-roles read never returns the password; list shows the role', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const password = String((await creds('app'))['password']);
    const read = (await e.call('read', 'static-roles/app'))?.data ?? {};
    assert.equal(read['username'], user);
    assert.equal(read['rotation_period'], 3600);
    assert.equal(read['rotation_strategy'], 'single');
    assert.deepEqual(read['rotation_statements'], []);
    assert.equal(read['credential_type'], 'password');
    assert.ok(!JSON.stringify(read).includes(password));
    assert.ok(!('password' in read));
    assert.deepEqual((await e.call('list', 'static-roles/'))?.data?.['keys'], ['app']);
  });

  it('rotate-role rotates now and the next rotation counts from it', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const before = await creds('app');
    e.clock.advance(600);
    expectOk(await e.call('update', 'rotate-role/app'), 'rotate-role');
    const after = await creds('app');
    assert.notEqual(after['password'], before['password']);
    assert.equal(await logsIn(user, String(after['password'])), true);
    assert.equal(await logsIn(user, String(before['password'])), false);
    assert.equal(after['ttl'], 3600);
    assert.match(error(await e.call('update', 'rotate-role/nope')), /no static role/);
  });

  it('skip_import_rotation keeps the existing password until the first rotation', async () => {
    const user = await newUser('kept-password-1');
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h', skip_import_rotation: true }), 'static role');
    assert.equal(await logsIn(user, 'kept-password-1'), true);
    const c = await creds('app');
    assert.equal(c['username'], user);
    assert.equal(c['password'], '');
    assert.equal(c['last_vault_rotation'], '0001-01-01T00:00:00Z');
    e.clock.advance(3601);
    await e.rollback();
    const rotated = await creds('app');
    assert.equal(await logsIn(user, String(rotated['password'])), true);
    assert.equal(await logsIn(user, 'kept-password-1'), false);
  });

  it('dual: a password handed out keeps working until the rotation after next', async () => {
    const a = await newUser();
    const b = await newUser();
    expectOk(await e.call('update', 'static-roles/dual', { db_name: 'main', username: a, secondary_username: b, rotation_strategy: 'dual', rotation_period: '1h' }), 'static role');
    const c1 = await creds('dual');
    assert.equal(c1['username'], a);
    assert.equal(await logsIn(a, String(c1['password'])), true);
    assert.equal(await logsIn(a, 'initial-password-1'), false, 'the handed-out user\'s password was rotated on import');
    assert.equal(await logsIn(b, 'initial-password-1'), false, 'and so was the other user\'s');

    e.clock.advance(3601);
    await e.rollback();
    const c2 = await creds('dual');
    assert.equal(c2['username'], b, 'the other user is handed out after a rotation');
    assert.equal(await logsIn(b, String(c2['password'])), true);
    assert.equal(await logsIn(a, String(c1['password'])), true, 'the previous password still works');

    e.clock.advance(3601);
    await e.rollback();
    const c3 = await creds('dual');
    assert.equal(c3['username'], a);
    assert.equal(await logsIn(a, String(c3['password'])), true);
    assert.equal(await logsIn(b, String(c2['password'])), true, 'the previous password still works');
    assert.equal(await logsIn(a, String(c1['password'])), false, 'the one before that is gone');
    assert.equal((await e.call('read', 'static-roles/dual'))?.data?.['secondary_username'], b);
  });

  it('a cron schedule fires inside its window, and a missed window waits for the next scheduled time', async () => {
    // The clock starts at 2030-01-01T00:00:00Z.
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/cron', { db_name: 'main', username: user, rotation_schedule: '0 */2 * * *', rotation_window: '1h' }), 'static role');
    const c0 = await creds('cron');
    assert.equal(c0['rotation_schedule'], '0 */2 * * *');
    assert.equal(c0['rotation_window'], 3600);
    assert.equal(c0['ttl'], 7200);

    e.clock.advance(7200 + 30); // 02:00:30, inside the window
    await e.rollback();
    const c1 = await creds('cron');
    assert.notEqual(c1['password'], c0['password']);
    assert.equal(await logsIn(user, String(c1['password'])), true);

    e.clock.advance(3 * 3600); // 05:00:30: the 04:00 window closed at 05:00
    await e.rollback();
    const c2 = await creds('cron');
    assert.equal(c2['password'], c1['password'], 'no rotation outside the window');
    assert.equal(c2['ttl'], 3600 - 30, 'waits for 06:00');

    e.clock.advance(3600 - 30 + 10); // 06:00:10
    await e.rollback();
    const c3 = await creds('cron');
    assert.notEqual(c3['password'], c1['password']);
    assert.equal(await logsIn(user, String(c3['password'])), true);
    assert.equal(await logsIn(user, String(c1['password'])), false);
  });

  it('rotations that fall due together are spread over ticks, all of them rotated', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const first = new Map<string, unknown>();
    for (const name of names) {
      expectOk(await e.call('update', `static-roles/${name}`, { db_name: 'main', username: await newUser(), rotation_period: '1h' }), 'static role');
      first.set(name, (await creds(name))['password']);
    }
    e.clock.advance(3601);
    await e.rollback();
    const rotated = async () => {
      let n = 0;
      for (const name of names) if ((await creds(name))['password'] !== first.get(name)) n++;
      return n;
    };
    const afterOne = await rotated();
    assert.ok(afterOne > 0 && afterOne < names.length, `one tick rotated ${afterOne} of ${names.length}`);
    await e.rollback();
    assert.equal(await rotated(), names.length);
  });

  it('a failed rotation is reported on static-creds and retried with backoff', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const before = await creds('app');
    // The connection user can no longer change the password: the rotation fails in the database.
    await admin.query(`ALTER ROLE "${user}" SUPERUSER`);
    await admin.query(`ALTER ROLE "${ROOT_USER}" NOSUPERUSER`).catch(() => undefined);
    try {
      expectOk(await e.call('update', 'config/main', pgConnection(pg, { username: ROOT_USER, password: ROOT_PASSWORD })), 'config');
      e.clock.advance(3601);
      await e.rollback().catch(() => undefined);
      const failed = await creds('app');
      assert.equal(failed['password'], before['password']);
      assert.match(String(failed['last_rotation_error']), /permission|must be superuser|privilege/i);
      assert.equal(await logsIn(user, String(failed['password'])), true, 'the stored password still works');
    } finally {
      await admin.query(`ALTER ROLE "${user}" NOSUPERUSER`);
    }
    // After the backoff the retry succeeds and clears the error.
    e.clock.advance(10);
    await e.rollback();
    const fixed = await creds('app');
    assert.notEqual(fixed['password'], before['password']);
    assert.equal(fixed['last_rotation_error'], undefined);
    assert.equal(await logsIn(user, String(fixed['password'])), true);
  });

  it('with the database unreachable, an update of timing alone is accepted; one of the statements is not', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const before = await creds('app');
    // Port 1 on the loopback: nothing listens, every connection is refused.
    const down = pgConnection(pg, { connection_url: 'postgresql://{{username}}:{{password}}@127.0.0.1:1/postgres', verify_connection: false });
    expectOk(await e.call('update', 'config/main', down), 'config pointing nowhere');

    expectOk(await e.call('update', 'static-roles/app', { rotation_period: '2h' }), 'timing-only update');
    assert.equal((await e.call('read', 'static-roles/app'))?.data?.['rotation_period'], 7200);
    assert.equal((await creds('app'))['password'], before['password'], 'nothing rotated');

    await assert.rejects(
      e.call('update', 'static-roles/app', { rotation_statements: 'ALTER ROLE {{name}} WITH PASSWORD {{password}} CONNECTION LIMIT 5' }),
      /checking the static role on connection "main" failed/,
    );
    assert.deepEqual((await e.call('read', 'static-roles/app'))?.data?.['rotation_statements'], [], 'the statements were not stored');
    assert.equal(await logsIn(user, String(before['password'])), true);
  });

  it('deleting a static role leaves the database user and its password', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const c = await creds('app');
    await e.call('delete', 'static-roles/app');
    assert.equal((await e.call('read', 'static-roles/app')), undefined);
    assert.equal(await logsIn(user, String(c['password'])), true);
    e.clock.advance(7200);
    await e.rollback();
    assert.equal(await logsIn(user, String(c['password'])), true, 'no rotation after delete');
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const user = await newUser();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ db_name: 'main', rotation_period: '1h' }, /username is required/],
      [{ db_name: 'main', username: user }, /rotation_schedule or rotation_period must be provided/],
      [{ db_name: 'main', username: user, rotation_period: '2s' }, /rotation_period must be 5 seconds or more/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_schedule: '* * * * *' }, /mutually exclusive/],
      [{ db_name: 'main', username: user, rotation_schedule: '* * * *' }, /rotation_schedule.*5 fields/],
      [{ db_name: 'main', username: user, rotation_schedule: '0 0 * * *', rotation_window: '10m' }, /rotation_window must be 3600 seconds or more/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_window: '2h' }, /rotation_window is invalid with use of rotation_period/],
      [{ db_name: 'main', username: 'no-such-user', rotation_period: '1h' }, /"no-such-user" do not exist/],
      [{ db_name: 'nope', username: user, rotation_period: '1h' }, /db_name "nope"/],
      [{ db_name: 'main', username: user, rotation_period: '1h', credential_type: 'rsa_private_key' }, /credential_type must be password/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_strategy: 'triple' }, /rotation_strategy must be one of single, dual/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_strategy: 'dual' }, /secondary_username is required/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_statements: 'ALTER ROLE {{name}} WITH PASSWORD {{nope}}' }, /rotation_statements/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_statements: 'ALTER ROLEX {{name}} PASSWORD {{password}}' }, /rotation_statements failed in a test transaction/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_statements: 'SELECT 1' }, /rotation_statements: none of the statements uses \{\{password\}\}/],
      [{ db_name: 'main', username: user, rotation_period: '1h', rotation_statements: ['ALTER ROLE {{name}} CONNECTION LIMIT 3'] }, /rotation_statements: none of the statements uses \{\{password\}\}/],
      [{ db_name: 'main', username: user, rotation_period: 1e20 }, /rotation_period must be 9223372036 seconds .* or less/],
      [{ db_name: 'main', username: user, rotation_period: '9223372037' }, /rotation_period must be 9223372036 seconds .* or less/],
      [{ db_name: 'main', username: user, rotation_schedule: '0 0 * * *', rotation_window: 1e20 }, /rotation_window must be 9223372036 seconds .* or less/],
    ];
    for (const [data, message] of cases) {
      const resp = await e.call('update', 'static-roles/bad', data);
      assert.match(error(resp), message, JSON.stringify(data));
    }
    assert.equal(await e.call('read', 'static-roles/bad'), undefined, 'nothing stored');
    assert.equal(await logsIn(user, 'initial-password-1'), true, 'nothing rotated');

    expectOk(await e.call('update', 'static-roles/ok', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    assert.match(error(await e.call('update', 'static-roles/ok', { username: 'other' })), /username cannot be changed/);
    assert.match(error(await e.call('update', 'static-roles/ok', { rotation_statements: 'SELECT 1' })), /none of the statements uses \{\{password\}\}/);
    // A password policy that cannot make a password is refused on update and with skip_import_rotation too, not at every rotation after.
    assert.match(error(await e.call('update', 'static-roles/ok', { credential_config: { password_policy: 'nope' } })), /^credential_config: password_policy "nope" cannot generate a password: .*not found/);
    assert.match(
      error(await e.call('update', 'static-roles/skipped', { db_name: 'main', username: await newUser(), rotation_period: '1h', skip_import_rotation: true, credential_config: { password_policy: 'nope' } })),
      /^credential_config: password_policy "nope"/,
    );
    assert.equal((await e.call('read', 'static-roles/ok'))?.data?.['credential_config'], undefined, 'the role kept no policy');
    const stored = String((await creds('ok'))['password']);
    expectOk(await e.call('update', 'rotate-role/ok'), 'rotate-role');
    assert.notEqual((await creds('ok'))['password'], stored);
    assert.equal(await logsIn(user, String((await creds('ok'))['password'])), true, 'the role kept statements that set the password');
    expectOk(await e.call('update', 'roles/dyn', { db_name: 'main', creation_statements: `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'` }), 'role');
    assert.match(error(await e.call('update', 'static-roles/dyn', { db_name: 'main', username: user, rotation_period: '1h' })), /must be unique/);
    assert.match(error(await e.call('update', 'roles/ok', { db_name: 'main', creation_statements: `CREATE ROLE "{{name}}"` })), /must be unique/);
  });

  it('never manages the user the connection logs in as: refused at write, and not rotated if the config moves to it', async () => {
    const root = `root-${++seq}`;
    await admin.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'root-initial-3'`);
    expectOk(await e.call('update', 'config/own', pgConnection(pg, { username: root, password: 'root-initial-3' })), 'config');
    const other = await newUser();
    assert.match(error(await e.call('update', 'static-roles/own', { db_name: 'own', username: root, rotation_period: '1h' })), /^username: .*"root-\d+" is the user connection "own" logs in as/);
    assert.match(
      error(await e.call('update', 'static-roles/own', { db_name: 'own', username: other, secondary_username: root, rotation_strategy: 'dual', rotation_period: '1h' })),
      /^secondary_username: .*logs in as/,
    );
    assert.match(error(await e.call('update', 'static-roles/own', { db_name: 'own', username: root, rotation_period: '1h', skip_import_rotation: true })), /logs in as/);
    assert.equal(await e.call('read', 'static-roles/own'), undefined, 'nothing stored');
    assert.equal(await logsIn(root, 'root-initial-3'), true, 'the connection\'s password was not rotated');
    assert.equal(await logsIn(other, 'initial-password-1'), true, 'nor the other user\'s');

    // A role written first, then the connection changed to log in as its user: the rotation is refused, not run.
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/moved', { db_name: 'own', username: user, rotation_period: '1h' }), 'static role');
    const before = await creds('moved');
    await admin.query(`ALTER ROLE "${user}" CREATEROLE`);
    expectOk(await e.call('update', 'config/own', { username: user, password: String(before['password']) }), 'config logging in as the static user');
    e.clock.advance(3601);
    await e.rollback();
    const after = await creds('moved');
    assert.equal(after['password'], before['password']);
    assert.match(String(after['last_rotation_error']), /logs in as/);
    assert.match(error(await e.call('update', 'rotate-role/moved')), /logs in as/);
    assert.equal(await logsIn(user, String(before['password'])), true, 'the connection\'s password still works');
    expectOk(await e.call('update', 'static-roles/via-own', { db_name: 'own', username: other, rotation_period: '1h', skip_import_rotation: true }), 'the connection still works');
  });

  it('a database user belongs to one static role per connection', async () => {
    const [a, b, c] = [await newUser(), await newUser(), await newUser()];
    expectOk(await e.call('update', 'static-roles/first', { db_name: 'main', username: a, rotation_period: '1h' }), 'static role');
    expectOk(await e.call('update', 'static-roles/pair', { db_name: 'main', username: b, secondary_username: c, rotation_strategy: 'dual', rotation_period: '1h' }), 'dual role');
    const first = await creds('first');
    assert.match(error(await e.call('update', 'static-roles/second', { db_name: 'main', username: a, rotation_period: '1h' })), new RegExp(`^username: database user "${a}" is already managed by static role "first"`));
    assert.match(error(await e.call('update', 'static-roles/second', { db_name: 'main', username: c, rotation_period: '1h', skip_import_rotation: true })), /^username: .*static role "pair"/);
    assert.match(
      error(await e.call('update', 'static-roles/second', { db_name: 'main', username: await newUser(), secondary_username: a, rotation_strategy: 'dual', rotation_period: '1h' })),
      /^secondary_username: .*static role "first"/,
    );
    assert.equal(await e.call('read', 'static-roles/second'), undefined, 'nothing stored');
    assert.equal(await logsIn(a, String(first['password'])), true, 'the first role\'s password still works');
    // A role's own users are no clash on update; once it is deleted, its users are free.
    expectOk(await e.call('update', 'static-roles/first', { rotation_period: '2h' }), 'update');
    await e.call('delete', 'static-roles/first');
    expectOk(await e.call('update', 'static-roles/second', { db_name: 'main', username: a, rotation_period: '1h' }), 'the user is free again');
  });

  it('moving a static role to another connection rotates its passwords there', async () => {
    expectOk(await e.call('update', 'config/other', pgConnection(pg)), 'second connection');
    const [a, b, c] = [await newUser(), await newUser(), await newUser()];
    expectOk(await e.call('update', 'static-roles/mover', { db_name: 'main', username: a, rotation_period: '1h' }), 'static role');
    expectOk(await e.call('update', 'static-roles/pair', { db_name: 'main', username: b, secondary_username: c, rotation_strategy: 'dual', rotation_period: '1h' }), 'dual role');
    const [mover, pair] = [await creds('mover'), await creds('pair')];
    e.clock.advance(60);
    expectOk(await e.call('update', 'static-roles/mover', { db_name: 'other' }), 'move');
    expectOk(await e.call('update', 'static-roles/pair', { db_name: 'other' }), 'move dual');
    const [moved, pairMoved] = [await creds('mover'), await creds('pair')];
    assert.notEqual(moved['password'], mover['password'], 'a new password on the new connection');
    assert.equal(moved['last_vault_rotation'], e.clock.now.toISOString());
    assert.equal(await logsIn(a, String(moved['password'])), true);
    assert.equal(await logsIn(a, String(mover['password'])), false);
    assert.equal(pairMoved['username'], b);
    assert.equal(await logsIn(b, String(pairMoved['password'])), true);
    assert.equal(await logsIn(b, String(pair['password'])), false, 'no password from the old connection works');
    assert.equal((await e.call('read', 'static-roles/mover'))?.data?.['db_name'], 'other');
    // Other updates rotate nothing.
    expectOk(await e.call('update', 'static-roles/mover', { rotation_period: '2h' }), 'update');
    assert.equal((await creds('mover'))['password'], moved['password']);
  });

  it('custom rotation_statements are used, with the same safe templating', async () => {
    const user = await newUser();
    expectOk(
      await e.call('update', 'static-roles/custom', {
        db_name: 'main',
        username: user,
        rotation_period: '1h',
        rotation_statements: ['ALTER ROLE {{name}} WITH PASSWORD {{password}}', 'ALTER ROLE {{name}} CONNECTION LIMIT 7'],
      }),
      'static role',
    );
    const c = await creds('custom');
    assert.equal(await logsIn(user, String(c['password'])), true);
    const { rows } = await admin.query<{ rolconnlimit: number }>('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [user]);
    assert.equal(rows[0]?.rolconnlimit, 7);
  });

  it('rotates the root password on the connection\'s rotation_period, and the connection keeps working', async () => {
    const root = `root-${++seq}`;
    await admin.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'root-initial-1'`);
    expectOk(await e.call('update', 'config/rooted', pgConnection(pg, { username: root, password: 'root-initial-1', rotation_period: '1h' })), 'config');
    const read = (await e.call('read', 'config/rooted'))?.data ?? {};
    assert.equal(read['rotation_period'], 3600);
    assert.equal(read['disable_automated_rotation'], false);
    e.clock.advance(1800);
    await e.rollback();
    assert.equal(await logsIn(root, 'root-initial-1'), true, 'not due yet');
    e.clock.advance(1801);
    await e.rollback();
    assert.equal(await logsIn(root, 'root-initial-1'), false, 'rotated');
    // The connection works with the password only Vault knows.
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/via-rooted', { db_name: 'rooted', username: user, rotation_period: '1h' }), 'static role on the rotated connection');

    // disable_automated_rotation stops it.
    expectOk(await e.call('update', 'config/rooted', { disable_automated_rotation: true }), 'config');
    e.clock.advance(7200);
    await e.rollback();
    expectOk(await e.call('update', 'static-roles/via-rooted', { rotation_period: '2h' }), 'still works');
  });

  it('root rotation on a cron schedule; bad root rotation settings are refused', async () => {
    const root = `root-${++seq}`;
    await admin.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'root-initial-2'`);
    expectOk(await e.call('update', 'config/cron', pgConnection(pg, { username: root, password: 'root-initial-2', rotation_schedule: '30 * * * *', rotation_window: '1h' })), 'config');
    e.clock.advance(29 * 60);
    await e.rollback();
    assert.equal(await logsIn(root, 'root-initial-2'), true, 'not due yet');
    e.clock.advance(2 * 60);
    await e.rollback();
    assert.equal(await logsIn(root, 'root-initial-2'), false, 'rotated at :30');
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ rotation_period: '1h', rotation_schedule: '0 * * * *' }, /mutually exclusive/],
      [{ rotation_period: '1s' }, /rotation_period must be 5 seconds or more/],
      [{ rotation_schedule: 'every day' }, /rotation_schedule/],
      [{ rotation_schedule: '0 * * * *', rotation_window: '5m' }, /rotation_window/],
      [{ rotation_period: 1e20 }, /rotation_period must be 9223372036 seconds .* or less/],
      [{ rotation_schedule: '0 * * * *', rotation_window: 1e20 }, /rotation_window must be 9223372036 seconds .* or less/],
    ];
    for (const [data, message] of bad) assert.match(error(await e.call('update', 'config/cron', data)), message, JSON.stringify(data));
    // An automated rotation that rotate-root would refuse every time is refused at write.
    const literal = `postgresql://${pg.user}:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}/postgres`;
    assert.match(error(await e.call('update', 'config/literal', { connection_url: literal, rotation_period: '1h' })), /^rotation_period needs the username field/);
    assert.match(
      error(await e.call('update', 'config/literal', { connection_url: literal, username: pg.user, rotation_schedule: '0 * * * *' })),
      /^rotation_schedule needs \{\{password\}\} in connection_url instead of a literal password/,
    );
    assert.equal(await e.call('read', 'config/literal'), undefined, 'nothing stored');
    expectOk(await e.call('update', 'config/literal', { connection_url: literal, rotation_period: '1h', disable_automated_rotation: true }), 'kept for later, switched off');
    assert.match(error(await e.call('update', 'config/literal', { disable_automated_rotation: false })), /^rotation_period needs the username field/);
    const kept = (await e.call('read', 'config/cron'))?.data ?? {};
    assert.deepEqual([kept['rotation_period'], kept['rotation_schedule'], kept['rotation_window']], [0, '30 * * * *', 3600], 'a refused write stores nothing');
  });

  it('a config write racing the automated root rotation never stores the old password over the new one', async () => {
    const root = `root-${++seq}`;
    await admin.query(`CREATE ROLE "${root}" LOGIN CREATEROLE PASSWORD 'root-initial-4'`);
    // The config write waits after verifying the connection (with the stored password) until the test lets it go on.
    let hold: Promise<void> | undefined;
    let verified = (): void => undefined;
    const slow = await engineBackend({}, undefined, {
      verify: async (config) => {
        await verifyConnection(config);
        if (hold !== undefined) {
          verified();
          await hold;
        }
      },
    });
    expectOk(await slow.call('update', 'config/race', pgConnection(pg, { username: root, password: 'root-initial-4', rotation_period: '1h' })), 'config');
    let release = (): void => undefined;
    hold = new Promise((resolve) => (release = resolve));
    const reachedVerify = new Promise<void>((resolve) => (verified = resolve));
    const write = slow.call('update', 'config/race', { allowed_roles: '*' });
    await reachedVerify;
    slow.clock.advance(3601);
    const rotation = slow.rollback();
    // Without the lock the rotation finishes here, while the write still holds the old password.
    await Promise.race([rotation, new Promise((resolve) => setTimeout(resolve, 1000))]);
    release();
    expectOk(await write, 'config write');
    await rotation;
    assert.equal(await logsIn(root, 'root-initial-4'), false, 'the root password was rotated');
    hold = undefined;
    expectOk(await slow.call('update', 'reset/race'), 'reset');
    expectOk(await slow.call('update', 'static-roles/via-race', { db_name: 'race', username: await newUser(), rotation_period: '1h', skip_import_rotation: true }), 'the connection works with the stored password');
  });

  it('a transaction holding a lock on one user holds up neither the queue nor requests: lock_timeout, then a retry', async () => {
    const quick = await engineBackend({}, undefined, { rotation: { tickMs: 0, lockTimeoutMs: 300 } });
    expectOk(await quick.call('update', 'config/main', pgConnection(pg)), 'config');
    const quickCreds = async (name: string) => expectOk(await quick.call('read', `static-creds/${name}`), 'static-creds')?.data ?? {};
    const outcome = async (pending: Promise<{ data?: Record<string, unknown> } | undefined>): Promise<string> => {
      const settled = pending.then(error, (err: Error) => err.message);
      return Promise.race([settled, new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5s'), 5000))]);
    };
    const [a, b] = [await newUser(), await newUser()];
    expectOk(await quick.call('update', 'static-roles/locked', { db_name: 'main', username: a, rotation_period: '1h' }), 'static role');
    expectOk(await quick.call('update', 'static-roles/free', { db_name: 'main', username: b, rotation_period: '1h' }), 'static role');
    const [lockedBefore, freeBefore] = [await quickCreds('locked'), await quickCreds('free')];

    const holder = new Client({ connectionString: pg.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`ALTER ROLE "${a}" CONNECTION LIMIT 3`);
      quick.clock.advance(3601);
      assert.equal(await outcome(quick.rollback().then(() => undefined)), '', 'the tick finished');
      const lockedNow = await quickCreds('locked');
      assert.equal(lockedNow['password'], lockedBefore['password']);
      assert.match(String(lockedNow['last_rotation_error']), /lock timeout.*another open transaction holds a lock/);
      assert.equal(await logsIn(a, String(lockedNow['password'])), true, 'the stored password still works');
      assert.notEqual((await quickCreds('free'))['password'], freeBefore['password'], 'the other role was rotated');
      assert.match(await outcome(quick.call('update', 'rotate-role/locked')), /lock timeout/);
      assert.equal(await outcome(quick.call('update', 'static-roles/locked', { rotation_period: '2h' })), '', 'a timing-only update asks nothing of the database');
      const statements = 'ALTER ROLE {{name}} WITH PASSWORD {{password}} CONNECTION LIMIT 5';
      assert.match(await outcome(quick.call('update', 'static-roles/locked', { rotation_statements: statements })), /lock timeout/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    quick.clock.advance(3600);
    await quick.rollback();
    const lockedAfter = await quickCreds('locked');
    assert.notEqual(lockedAfter['password'], lockedBefore['password'], 'retried once the lock was gone');
    assert.equal(lockedAfter['last_rotation_error'], undefined);
    assert.equal(await logsIn(a, String(lockedAfter['password'])), true);
    assert.deepEqual(await quick.storage.list('wal/'), [], 'no WAL entry left behind');
  });

  it('a performance standby never rotates, and forwards static role writes and rotate-role', async () => {
    const user = await newUser();
    expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: user, rotation_period: '1h' }), 'static role');
    const before = await creds('app');
    e.systemView.replication = REPLICATION_STATE.performanceStandby;
    e.clock.advance(3601);
    await e.rollback();
    // The standby reads what storage holds; the password was not changed.
    assert.equal((await creds('app'))['password'], before['password']);
    assert.equal(await logsIn(user, String(before['password'])), true);
    await assert.rejects(e.call('update', 'rotate-role/app'), (err: Error) => /read-only|ReadOnly/i.test(`${err.name} ${err.message}`));
    await assert.rejects(e.call('update', 'static-roles/app', { rotation_period: '2h' }), (err: Error) => /read-only|ReadOnly/i.test(`${err.name} ${err.message}`));
    e.systemView.replication = 0;
    await e.rollback();
    const after = await creds('app');
    assert.notEqual(after['password'], before['password']);
    assert.equal(await logsIn(user, String(after['password'])), true);
  });
});

describe('the rotation queue on its own timer', () => {
  let pg: PostgresServer;
  let admin: Client;

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE ROLE "timer-user" LOGIN PASSWORD 'initial-password-1'`);
  });
  after(async () => {
    await admin?.end();
    await pg?.stop();
  });

  it('does nothing while the node is a performance standby (or secondary), and rotates once it is not', async () => {
    const e = await engineBackend({}, undefined, { rotation: { tickMs: 20 } });
    try {
      expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config');
      expectOk(await e.call('update', 'static-roles/app', { db_name: 'main', username: 'timer-user', rotation_period: '1h' }), 'static role');
      const before = (await e.call('read', 'static-creds/app'))?.data ?? {};
      for (const state of [REPLICATION_STATE.performanceStandby, REPLICATION_STATE.performanceSecondary]) {
        e.systemView.replication = state;
        e.clock.advance(3601);
        // Many ticks of the timer (every 20 ms) go by; the in-memory storage would take any write.
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal((await e.call('read', 'static-creds/app'))?.data?.['password'], before['password'], `no rotation in replication state ${state}`);
      }
      e.systemView.replication = 0;
      e.clock.advance(11);
      await waitUntil('the active node to rotate', async () => (await e.call('read', 'static-creds/app'))?.data?.['password'] !== before['password'], 30_000);
      const after = (await e.call('read', 'static-creds/app'))?.data ?? {};
      const client = new Client({ host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'timer-user', password: String(after['password']) });
      await client.connect();
      await client.end();
    } finally {
      await e.backend.cleanup();
    }
  });
});
