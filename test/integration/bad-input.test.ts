/**
 * Bad input is a 400 that names the field, never a 500, against a real
 * PostgreSQL through the engine's backend. Each case is one the plugin
 * answered with an internal error (a thrown, non-user error) before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { CONFIG_KIND } from '../../src/postgres/connections/connection-config';
import { ErrorKind, VaultError, type Response } from '../../src/vault';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`;

describe('bad input is a 400', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;

  const errorOf = (resp: Response | undefined) => String(resp?.data?.['error'] ?? '');
  const userRoles = async () => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'v%'")).rows[0]?.n;
  /** A field validation failure: Vault's 400 with the framework's message. */
  const invalid = (field: RegExp) => (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.kind, ErrorKind.InvalidRequest);
    assert.match(String(err.response?.data?.['error']), field);
    return true;
  };

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE ROLE rotator LOGIN SUPERUSER PASSWORD 'rotator-pw'`);
    e = await engineBackend();
    expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config main');
  });
  after(async () => {
    await e?.backend.cleanup();
    await admin?.end();
    await pg?.stop();
  });

  describe('username_template', () => {
    it('one that renders more than 63 bytes for a long role name: refused at role write, naming username_template and the role name', async () => {
      expectOk(await e.call('update', 'config/byrole', pgConnection(pg, { username_template: 'v-{{.RoleName}}-{{random 20}}' })), 'config');
      const long = 'r'.repeat(45);
      const resp = await e.call('update', `roles/${long}`, { db_name: 'byrole', creation_statements: CREATE });
      assert.match(errorOf(resp), new RegExp(`^the username_template of connection "byrole" does not work for this role name \\(name "${long}"\\): the username template rendered a 68-byte username; PostgreSQL allows at most 63 bytes`));
      assert.equal(await e.call('read', `roles/${long}`), undefined, 'nothing stored');
      expectOk(await e.call('update', 'roles/short', { db_name: 'byrole', creation_statements: CREATE }), 'a short role name works');
    });

    it("one that renders too long only for the caller's display name: creds is a 400 naming it, and nothing is created or recorded", async () => {
      expectOk(await e.call('update', 'config/bydisplay', pgConnection(pg, { username_template: '{{.DisplayName}}-{{random 20}}' })), 'config');
      expectOk(await e.call('update', 'roles/app', { db_name: 'bydisplay', creation_statements: CREATE }), 'role');
      const before = await userRoles();
      const resp = await e.call('read', 'creds/app', {}, { displayName: `oidc-${'x'.repeat(50)}` });
      assert.match(errorOf(resp), /^the username_template of connection "bydisplay" does not work for role "app" and display name "oidc-x+": the username template rendered a 76-byte username/);
      // Multibyte names count in bytes, as PostgreSQL counts them.
      const wide = await e.call('read', 'creds/app', {}, { displayName: 'é'.repeat(25) });
      assert.match(errorOf(wide), /rendered a 71-byte username/);
      assert.equal(await userRoles(), before);
      assert.deepEqual(await e.storage.list('user/'), []);
    });

    it('one that can make no usable username at all: refused at config write', async () => {
      for (const [template, message] of [
        ['{{ printf "%s" "" }}', /rendered an empty username/],
        ['v-\u0000-{{random 8}}', /NUL/],
        ['{{ printf "%s-%s" (random 40) (random 40) }}', /81-byte username/],
      ] as const) {
        const resp = await e.call('update', 'config/bad', pgConnection(pg, { username_template: template }));
        assert.match(errorOf(resp), /^username_template is invalid: /);
        assert.match(errorOf(resp), message);
      }
      assert.equal(await e.call('read', 'config/bad'), undefined);
    });
  });

  it('db_name that cannot name a connection (a storage path, unicode): 400, storage never asked for it', async () => {
    for (const dbName of ['../x', 'a/b', 'ünï', ' main']) {
      const resp = await e.call('update', 'roles/odd', { db_name: dbName, creation_statements: CREATE });
      assert.equal(errorOf(resp), `db_name "${dbName}" does not name a configured connection (write config/${dbName} first)`);
    }
  });

  it('text that is not Unicode (a lone surrogate) in any string field: a field validation 400, not a crash while building the URL', async () => {
    for (const field of ['username', 'password', 'connection_url', 'username_template']) {
      await assert.rejects(e.call('update', 'config/main', { [field]: 'a\ud800b' }), invalid(new RegExp(`field "${field}": expected Unicode text, got a lone surrogate`)));
    }
    await assert.rejects(e.call('update', 'roles/app', { creation_statements: ['x\udc00'] }), invalid(/field "creation_statements": element 0: expected Unicode text/));
    await assert.rejects(e.call('update', 'reconcile/main', { pattern: '\ud83d%' }), invalid(/field "pattern"/));
  });

  it('allowed_roles with a huge glob: creds answers "not an allowed role", not a regular-expression failure', async () => {
    expectOk(await e.call('update', 'config/globbed', pgConnection(pg, { allowed_roles: ['x'.repeat(200_000), `${'*a'.repeat(5_000)}*`] })), 'config');
    expectOk(await e.call('update', 'config/globbed', { verify_connection: false }), 'config keeps its fields');
    // The role write itself does not check allowed_roles (as in Vault); creds does.
    expectOk(await e.call('update', 'roles/globbed', { db_name: 'globbed', creation_statements: CREATE }), 'role');
    assert.match(errorOf(await e.call('read', 'creds/globbed')), /"globbed" is not an allowed role of connection "globbed"/);
  });

  it('reconcile with a pattern PostgreSQL refuses (ends with the escape character, holds NUL): 400 naming pattern', async () => {
    await admin.query('CREATE ROLE "v-unclaimed"');
    // LIKE objects to a trailing escape only when a match reaches it: a role must match up to there.
    for (const pattern of ['v-\\', '\\']) {
      const resp = await e.call('update', 'reconcile/main', { pattern });
      assert.equal(errorOf(resp), `pattern ${JSON.stringify(pattern)} is not a usable LIKE pattern: LIKE pattern must not end with escape character (22025)`);
    }
    assert.equal(errorOf(await e.call('update', 'reconcile/main', { pattern: 'v-\u0000' })), 'pattern cannot contain a NUL character');
    assert.deepEqual((await e.call('update', 'reconcile/main', { pattern: 'v-unclaimed' }))?.data?.['unclaimed'], ['v-unclaimed'], 'a good pattern still works');
    await admin.query('DROP ROLE "v-unclaimed"');
  });

  describe('root_rotation_statements', () => {
    const rotator = (extra: Record<string, unknown> = {}) => pgConnection(pg, { username: 'rotator', password: 'rotator-pw', ...extra });

    it('refused at config write when they cannot be lexed, use a variable they cannot have, hold NUL, or never set the password', async () => {
      for (const [statements, message] of [
        [["ALTER ROLE {{username}} WITH PASSWORD '{{password}}"], /root_rotation_statements: .*unterminated/],
        ['ALTER ROLE {{username}} VALID UNTIL {{expiration}}', /root_rotation_statements: \{\{expiration\}\} cannot be used here; allowed: \{\{name\}\}, \{\{username\}\}, \{\{password\}\}/],
        ['ALTER ROLE {{username}} WITH PASSWORD {{password}}\u0000', /root_rotation_statements: a statement contains a NUL character/],
        ['COMMIT', /root_rotation_statements: COMMIT is not allowed/],
        ['SELECT 1', /root_rotation_statements: none of the statements uses \{\{password\}\}/],
        [['ALTER ROLE {{username}} CONNECTION LIMIT 5'], /root_rotation_statements: none of the statements uses \{\{password\}\}/],
      ] as const) {
        assert.match(errorOf(await e.call('update', 'config/rot', rotator({ root_rotation_statements: statements }))), message);
      }
      assert.equal(await e.call('read', 'config/rot'), undefined);
    });

    it("rotate-root with statements PostgreSQL refuses: a 400 with PostgreSQL's error; the root password is unchanged", async () => {
      expectOk(await e.call('update', 'config/rot', rotator({ root_rotation_statements: 'ALTR ROLE {{username}} WITH PASSWORD {{password}}' })), 'config rot');
      const resp = await e.call('update', 'rotate-root/rot');
      assert.equal(errorOf(resp), 'changing the root password of connection "rot" failed: syntax error at or near "ALTR" (42601); check root_rotation_statements');
      assert.deepEqual(await e.storage.list('wal/'), [], 'its WAL entry is gone');
      const session = new Client({ host: '127.0.0.1', port: pg.port, database: 'postgres', user: 'rotator', password: 'rotator-pw' });
      await session.connect();
      await session.end();
    });

    it('statements stored by an earlier version that cannot even be rendered: a 400 naming them', async () => {
      const entry = await e.storage.get('config/rot');
      assert.ok(entry);
      const config = CONFIG_KIND.decode(entry.value);
      await e.storage.put({ key: 'config/rot', value: CONFIG_KIND.encode({ ...config, rootRotationStatements: ["ALTER ROLE {{username}} PASSWORD '"] }) });
      e.backend.invalidateKey('config/rot');
      assert.match(errorOf(await e.call('update', 'rotate-root/rot')), /^root_rotation_statements of connection "rot": .*unterminated quoted string/);
    });
  });

  it('durations beyond any date (default_ttl of 2^50 s): the role write and creds work, capped by the mount maximum', async () => {
    expectOk(await e.call('update', 'roles/forever', { db_name: 'main', creation_statements: CREATE, default_ttl: 2 ** 50 }), 'role');
    const creds = expectOk(await e.call('read', 'creds/forever'), 'creds');
    assert.ok(creds?.secret);
    expectOk(await e.revoke(creds.secret), 'revoke');
  });
});
