/**
 * A role's statements against a real PostgreSQL, through the engine's
 * backend. On role write, renew, revocation and rollback statements are
 * tried like the creation statements, in a rolled-back transaction against
 * a throw-away user: one that cannot run is a 400 naming its field and
 * PostgreSQL's error, and nothing is left in pg_roles. Creation statements
 * that create no role named {{name}} (bootstrap DO blocks, group roles) are
 * accepted, at role write and at creds, with a warning that the credential
 * cannot log in; its lease still revokes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { UserRecords } from '../../src/postgres/users/user-records';
import type { Response } from '../../src/vault';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON t TO "{{name}}"`;

describe('role statements', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;

  /** Every role in the cluster with its VALID UNTIL: what a role write must leave as it found it. */
  const allRoles = async () =>
    (await admin.query<{ r: string }>("SELECT rolname || ' ' || coalesce(rolvaliduntil::text, '-') AS r FROM pg_roles ORDER BY 1")).rows.map((x) => x.r);
  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const errorOf = (resp: Response | undefined) => String(resp?.data?.['error'] ?? '');

  /** Writes `roles/<name>`, expecting a 400; returns its message after checking that nothing was stored or left behind. */
  async function refused(name: string, body: Record<string, unknown>, db = 'main'): Promise<string> {
    const before = await allRoles();
    const resp = await e.call('update', `roles/${name}`, { db_name: db, creation_statements: CREATE, ...body });
    assert.ok(resp?.data?.['error'], `a 400, got ${JSON.stringify(resp)}`);
    assert.deepEqual(await allRoles(), before, 'pg_roles as before');
    assert.equal(await e.call('read', `roles/${name}`), undefined, 'nothing stored');
    return errorOf(resp);
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE t (id int); CREATE TABLE guarded (id int)');
    await admin.query(`CREATE ROLE limited_admin LOGIN CREATEROLE PASSWORD 'limited-pw'; GRANT SELECT ON t TO limited_admin WITH GRANT OPTION`);
    e = await engineBackend();
    expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config main');
    expectOk(await e.call('update', 'config/limited', pgConnection(pg, { username: 'limited_admin', password: 'limited-pw' })), 'config limited');
  });
  after(async () => {
    await e?.backend.cleanup();
    await admin?.end();
    await pg?.stop();
  });

  describe('renew, revocation and rollback statements are tried when the role is written', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp[]]> = [
      ['renew typo', { renew_statements: `ALTR ROLE "{{name}}" VALID UNTIL '{{expiration}}'` }, [/^renew_statements failed in a test transaction \(rolled back, against a throw-away user\): syntax error at or near "ALTR" \(42601\)$/]],
      ['renew on a missing table', { renew_statements: `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'; UPDATE no_such_table SET id = 1` }, [/renew_statements .*relation "no_such_table" does not exist \(42P01\)/]],
      ['revocation of another role', { revocation_statements: 'DROP ROLE "x{{name}}"' }, [/^revocation_statements failed .*: role "xv-.*" does not exist \(42704\)$/]],
      ['revocation that the grant blocks', { revocation_statements: 'DROP ROLE "{{name}}"' }, [/revocation_statements .*cannot be dropped because some objects depend on it \(2BP01\)/]],
      ['revocation with VACUUM among others', { revocation_statements: 'REVOKE ALL ON t FROM "{{name}}"; DROP ROLE "{{name}}"; VACUUM' }, [/revocation_statements .*VACUUM cannot run inside a transaction block \(25001\) \(the statements of a list run as one transaction, so it would fail there too\)/]],
      ['rollback that drops twice', { rollback_statements: 'REVOKE ALL ON t FROM "{{name}}"; DROP ROLE "{{name}}"; DROP ROLE "{{name}}"' }, [/^rollback_statements failed .*does not exist \(42704\)$/]],
      [
        'every list wrong at once, each named',
        { creation_statements: 'CREAT ROLE "{{name}}"', renew_statements: 'SELEC 1', revocation_statements: 'DROP ROLE "x{{name}}"', rollback_statements: 'DELETE FROM nowhere' },
        [/creation_statements failed in a test transaction \(rolled back\): syntax error at or near "CREAT"/, /renew_statements .*"SELEC"/, /revocation_statements .*42704/, /rollback_statements .*"nowhere" does not exist/],
      ],
      ['transaction control in creation', { creation_statements: `${CREATE}; COMMIT` }, [/^creation_statements: COMMIT is not allowed: the statements of a list run as one transaction/]],
      ['transaction control in revocation', { revocation_statements: 'ROLLBACK; DROP ROLE "{{name}}"' }, [/^revocation_statements: ROLLBACK is not allowed/]],
      ['a savepoint in renewal', { renew_statements: '/* keep */ SAVEPOINT s' }, [/^renew_statements: SAVEPOINT is not allowed/]],
      ['PREPARE TRANSACTION', { rollback_statements: "PREPARE TRANSACTION 'x'" }, [/^rollback_statements: PREPARE TRANSACTION is not allowed/]],
    ];
    for (const [what, body, messages] of cases) {
      it(`${what}: 400 naming the field and PostgreSQL's error; nothing stored, nothing left`, async () => {
        const message = await refused('checked', body);
        for (const m of messages) assert.match(message, m);
      });
    }

    it("a privilege the connection user lacks (a CREATEROLE admin, not the table's owner): 400 with PostgreSQL's 42501", async () => {
      const message = await refused('checked', { creation_statements: `CREATE ROLE "{{name}}" LOGIN`, revocation_statements: 'DROP TABLE guarded; DROP ROLE "{{name}}"' }, 'limited');
      assert.match(message, /revocation_statements .*must be owner of table guarded \(42501\)/);
    });

    it('statements that run are stored; nothing is left behind', async () => {
      const before = await allRoles();
      expectOk(
        await e.call('update', 'roles/good', {
          db_name: 'main',
          creation_statements: CREATE,
          renew_statements: `ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}'`,
          revocation_statements: 'REVOKE ALL ON t FROM "{{name}}"; DROP ROLE "{{name}}"',
          rollback_statements: 'REVOKE ALL ON t FROM {{name}}; DROP ROLE IF EXISTS {{name}}',
        }),
        'role good',
      );
      assert.deepEqual(await allRoles(), before);
      assert.equal((await e.call('read', 'roles/good'))?.data?.['revocation_statements'] instanceof Array, true);
    });

    it('one statement that cannot run in a transaction block is accepted untried, with a warning', async () => {
      for (const statement of ['VACUUM t', 'DROP DATABASE IF EXISTS "db_{{name}}"']) {
        const resp = expectOk(await e.call('update', 'roles/untried', { db_name: 'main', creation_statements: CREATE, revocation_statements: statement }), statement);
        assert.match(String(resp?.warnings?.[0]), /^revocation_statements were not tried: .* cannot run inside a transaction block \(25001\); a single such statement runs outside a transaction at run time/);
      }
    });
  });

  describe('creation statements that create no role named {{name}}', () => {
    const cases: Array<[string, string, 'missing' | 'nologin']> = [
      ['a bootstrap DO block', `DO $$ BEGIN RAISE NOTICE 'bootstrap only'; END $$`, 'missing'],
      ['a shared group role, created if missing', `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_readers') THEN CREATE ROLE app_readers; END IF; END $$; GRANT SELECT ON t TO app_readers`, 'missing'],
      ['a plain SELECT', 'SELECT 1', 'missing'],
      ['{{name}} as a group role, without LOGIN', `CREATE ROLE "{{name}}"; GRANT SELECT ON t TO "{{name}}"`, 'nologin'],
    ];
    for (const [what, statements, state] of cases) {
      it(`${what}: accepted with a warning at role write and at creds; VALID UNTIL only on a role that exists; the lease revokes`, async () => {
        const written = expectOk(await e.call('update', 'roles/nologin', { db_name: 'main', creation_statements: statements, default_ttl: 600 }), 'role');
        assert.match(String(written?.warnings?.[0]), /credentials of role "nologin" will not be able to log in/);
        const creds = expectOk(await e.call('read', 'creds/nologin'), 'creds');
        const username = String(creds?.data?.['username']);
        assert.ok(creds?.secret);
        const warning = state === 'missing' ? `created no role named "${username}"` : `created role "${username}" without LOGIN`;
        assert.deepEqual(creds?.warnings, [`the creation statements ${warning}: this credential cannot log in`]);
        assert.equal(await exists(username), state === 'nologin');
        if (state === 'nologin') {
          const until = (await admin.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [username])).rows[0]?.rolvaliduntil as Date;
          assert.ok(Math.abs(until.getTime() - (e.clock.now.getTime() + 660_000)) < 5_000, `VALID UNTIL = lease end + 60 s on the role that exists (${until.toISOString()})`);
        }
        expectOk(await e.revoke(creds.secret), 'revoke');
        assert.equal(await exists(username), false);
        assert.equal(await new UserRecords().get(e.storage, username), undefined, 'record deleted');
      });
    }

    it('with custom revocation statements: they are tried against a role the trial makes, and the lease of a missing user revokes', async () => {
      expectOk(
        await e.call('update', 'roles/bootstrap', { db_name: 'main', creation_statements: `DO $$ BEGIN NULL; END $$`, revocation_statements: 'DROP ROLE "{{name}}"' }),
        'role',
      );
      const creds = expectOk(await e.call('read', 'creds/bootstrap'), 'creds');
      assert.ok(creds?.secret);
      expectOk(await e.revoke(creds.secret), 'revoke of a user that never existed');
      const typo = await refused('bootstrap2', { creation_statements: `DO $$ BEGIN NULL; END $$`, revocation_statements: 'DROP ROLLE "{{name}}"' });
      assert.match(typo, /revocation_statements .*syntax error at or near "ROLLE"/);
    });

    it('a username holding the backstop\'s dollar-quote tag still gets its VALID UNTIL', async () => {
      expectOk(
        await e.call('update', 'config/tagged', pgConnection(pg, { username_template: 'v-$backstop$-$backstop0$-{{random 8}}' })),
        'config tagged',
      );
      expectOk(await e.call('update', 'roles/tagged', { db_name: 'tagged', creation_statements: CREATE, default_ttl: 600 }), 'role');
      const creds = expectOk(await e.call('read', 'creds/tagged'), 'creds');
      const username = String(creds?.data?.['username']);
      assert.match(username, /^v-\$backstop\$-\$backstop0\$-/);
      assert.equal(creds?.warnings, undefined);
      const row = (await admin.query('SELECT rolvaliduntil, rolcanlogin FROM pg_roles WHERE rolname = $1', [username])).rows[0];
      assert.equal(row?.rolcanlogin, true);
      assert.ok(row?.rolvaliduntil instanceof Date);
      assert.ok(creds?.secret);
      expectOk(await e.revoke(creds.secret), 'revoke');
    });
  });
});
