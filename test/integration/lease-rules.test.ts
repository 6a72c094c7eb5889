/**
 * Vault's lease rules against a real PostgreSQL, through the engine's
 * backend: revocation runs the role's current revocation_statements while
 * the role exists (so fixing a role makes its stuck leases revocable) and
 * those recorded at issue once it is deleted; renewing a lease whose role
 * was deleted fails with Vault's error and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Client } from 'pg';
import { ROLE_KIND } from '../../src/postgres/roles/role';
import { parseStatementsInput } from '../../src/postgres/sql/statements';
import { userKey } from '../../src/postgres/users/record';
import { UserRecords } from '../../src/postgres/users/user-records';
import { ErrorKind, VaultError, type Secret } from '../../src/vault';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`;
/** A user that may create tables; DROP ROLE alone cannot drop it then (the grant depends on it). */
const CREATE_OWNER = `${CREATE}; GRANT CREATE ON SCHEMA public TO "{{name}}"`;
const DROP_ALL = 'REASSIGN OWNED BY "{{name}}" TO CURRENT_USER; DROP OWNED BY "{{name}}"; DROP ROLE "{{name}}"';

describe("Vault's lease rules", () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;

  const exists = async (name: string) => (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  const validUntil = async (name: string) =>
    ((await admin.query<{ v: Date | null }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [name])).rows[0]?.v ?? null)?.getTime();
  const record = (name: string) => new UserRecords().get(e.storage, name);
  const journal = async () => (await admin.query<{ entry: string }>('SELECT entry FROM revoke_journal ORDER BY id')).rows.map((r) => r.entry);

  async function role(name: string, body: Record<string, unknown>): Promise<void> {
    expectOk(await e.call('update', `roles/${name}`, { db_name: 'main', creation_statements: CREATE, ...body }), `role ${name}`);
  }
  async function issue(roleName: string): Promise<{ username: string; password: string; secret: Secret }> {
    const resp = expectOk(await e.call('read', `creds/${roleName}`), `creds/${roleName}`);
    assert.ok(resp?.secret);
    return { username: String(resp.data?.['username']), password: String(resp.data?.['password']), secret: resp.secret };
  }
  /** Logs in as the issued user and creates a table, so that a plain DROP ROLE cannot drop it. */
  async function ownTable(user: { username: string; password: string }, table: string): Promise<void> {
    const session = new Client({ host: '127.0.0.1', port: pg.port, database: 'postgres', user: user.username, password: user.password });
    await session.connect();
    await session.query(`CREATE TABLE ${table} (v int)`);
    await session.end();
  }
  /** The revoke fails the way Vault keeps retrying (not Unrecoverable), and leaves user and record. */
  async function revokeFails(secret: Secret, username: string, message: RegExp): Promise<void> {
    await assert.rejects(e.revoke(secret), (err: unknown) => {
      assert.ok(err instanceof VaultError);
      assert.equal(err.kind, ErrorKind.Unknown, 'retryable: Vault keeps the lease and tries again');
      assert.match(err.message, message);
      return true;
    });
    assert.equal(await exists(username), true);
    assert.ok(await record(username), 'the record stays until the user is gone');
  }

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE revoke_journal (id serial, entry text)');
  });
  after(async () => {
    await e?.backend.cleanup();
    await admin?.end();
    await pg?.stop();
  });
  beforeEach(async () => {
    await e?.backend.cleanup();
    await admin.query('TRUNCATE revoke_journal');
    e = await engineBackend();
    expectOk(await e.call('update', 'config/main', pgConnection(pg)), 'config');
  });

  it('a user owning a table: DROP ROLE fails (2BP01) and Vault retries; after the role is fixed the same lease revokes', async () => {
    // Runs on the fresh user the role write tries it on, not on one that made a table.
    await role('owner', { creation_statements: CREATE_OWNER, revocation_statements: 'REVOKE CREATE ON SCHEMA public FROM "{{name}}"; DROP ROLE "{{name}}"' });
    const user = await issue('owner');
    await ownTable(user, 'owned_by_lease');
    await revokeFails(user.secret, user.username, /revoking database user .* failed: role .* cannot be dropped because some objects depend on it \(2BP01\)/);
    await revokeFails(user.secret, user.username, /2BP01/);

    await role('owner', { creation_statements: CREATE_OWNER, revocation_statements: DROP_ALL });
    expectOk(await e.revoke(user.secret), 'revoke after the fix');
    assert.equal(await exists(user.username), false);
    assert.equal(await record(user.username), undefined);
    const owner = await admin.query("SELECT tableowner FROM pg_tables WHERE tablename = 'owned_by_lease'");
    assert.equal(owner.rows[0]?.tableowner, pg.user);
  });

  it('statements that broke after the role was written (a table dropped since): fixed by writing the role again', async () => {
    await admin.query('CREATE TABLE revoke_audit (name text)');
    await role('audited', { revocation_statements: `INSERT INTO revoke_audit VALUES ('{{name}}'); DROP ROLE "{{name}}"` });
    const user = await issue('audited');
    await admin.query('DROP TABLE revoke_audit');
    await revokeFails(user.secret, user.username, /relation "revoke_audit" does not exist \(42P01\)/);
    await role('audited', { revocation_statements: `INSERT INTO revoke_journal (entry) VALUES ('fixed ' || '{{name}}'); DROP ROLE "{{name}}"` });
    expectOk(await e.revoke(user.secret), 'revoke after the fix');
    assert.equal(await exists(user.username), false);
    assert.deepEqual(await journal(), [`fixed ${user.username}`]);
  });

  it('a typo stored by an earlier version (never tried on write): fixed by writing the role again', async () => {
    // Earlier versions tried only the creation statements when a role was written.
    const stored = ROLE_KIND.decode(ROLE_KIND.encode({ ...ROLE_KIND.decode(Buffer.from('{}')), dbName: 'main', creationStatements: parseStatementsInput([CREATE]) }));
    await e.storage.put({ key: 'role/old', value: ROLE_KIND.encode({ ...stored, revocationStatements: ['DROP ROLLE "{{name}}"'] }) });
    e.backend.invalidateKey('role/old');
    const user = await issue('old');
    await revokeFails(user.secret, user.username, /syntax error at or near "ROLLE" \(42601\)/);
    await role('old', { revocation_statements: 'DROP ROLE "{{name}}"' });
    expectOk(await e.revoke(user.secret), 'revoke after the fix');
    assert.equal(await exists(user.username), false);
  });

  it('once the role is deleted, revocation runs the statements recorded at issue', async () => {
    await role('journaled', { revocation_statements: `INSERT INTO revoke_journal (entry) VALUES ('at issue ' || '{{name}}'); DROP ROLE "{{name}}"` });
    const user = await issue('journaled');
    assert.deepEqual((await record(user.username))?.revocationStatements.length, 2, 'the record keeps them too, for the sweep');
    expectOk(await e.call('delete', 'roles/journaled'), 'delete role');
    expectOk(await e.revoke(user.secret), 'revoke');
    assert.equal(await exists(user.username), false);
    assert.deepEqual(await journal(), [`at issue ${user.username}`]);
  });

  it('a role deleted and written again with other statements: its new statements apply', async () => {
    await role('again', { revocation_statements: 'DROP ROLE "{{name}}"' });
    const user = await issue('again');
    expectOk(await e.call('delete', 'roles/again'), 'delete role');
    await role('again', { revocation_statements: `INSERT INTO revoke_journal (entry) VALUES ('new ' || '{{name}}'); DROP ROLE "{{name}}"` });
    expectOk(await e.revoke(user.secret), 'revoke');
    assert.deepEqual(await journal(), [`new ${user.username}`]);
  });

  it("renewing a lease whose role was deleted fails with Vault's error; VALID UNTIL, record and user stay as they were", async () => {
    await role('app', { default_ttl: 600, revocation_statements: DROP_ALL });
    const user = await issue('app');
    const until = await validUntil(user.username);
    const leaseEnd = (await record(user.username))?.leaseEnd;
    assert.ok(until !== undefined && leaseEnd !== undefined);

    expectOk(await e.call('delete', 'roles/app'), 'delete role');
    e.clock.advance(60);
    for (const increment of [0, 3600]) {
      await assert.rejects(e.renew(user.secret, increment), (err: unknown) => {
        assert.ok(err instanceof VaultError);
        assert.equal(err.message, 'error during renew: could not find role with name "app"');
        return true;
      });
    }
    assert.equal(await validUntil(user.username), until, 'rolvaliduntil unchanged');
    assert.equal((await record(user.username))?.leaseEnd, leaseEnd, 'recorded lease end unchanged');
    assert.equal(await exists(user.username), true);

    // The role back (with a shorter TTL): renewal works again, with the role's current TTL.
    await role('app', { default_ttl: 300 });
    const renewed = expectOk(await e.renew(user.secret, 0), 'renew');
    assert.equal(renewed?.secret?.leaseOptions.ttl, 300);
    assert.notEqual(await validUntil(user.username), until, 'VALID UNTIL moved');
    expectOk(await e.revoke(user.secret), 'revoke');
    assert.equal(await exists(user.username), false);
  });

  it('a lease with no role name in its internal data cannot be renewed either, and still revokes', async () => {
    await role('app', {});
    const user = await issue('app');
    const orphan: Secret = { ...user.secret, internalData: { ...user.secret.internalData, role: '' } };
    await assert.rejects(e.renew(orphan, 0), /could not find role with name ""/);
    expectOk(await e.revoke(orphan), 'revoke');
    assert.equal(await exists(user.username), false);
    assert.equal((await e.storage.get(userKey(user.username))) === undefined, true);
  });
});
