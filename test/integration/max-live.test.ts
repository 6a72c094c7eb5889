/**
 * max_live_credentials against a real PostgreSQL: concurrent reads never
 * pass the limit, a refused read creates and records nothing, and the error
 * names the role and its limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { USER_PREFIX } from '../../src/postgres/users/record';
import { engineBackend, expectOk, pgConnection, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT SELECT ON t TO "{{name}}"`;
const LIMIT_TEXT = 'role "capped" has 5 live credentials, its max_live_credentials; revoke one or raise the limit';

describe('max_live_credentials', () => {
  let pg: PostgresServer;
  let admin: Client;
  let e: EngineBackend;

  const cappedRoles = async () =>
    (await admin.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-token-te-capped-%' ORDER BY 1")).rows.map((r) => r.rolname);

  before(async () => {
    pg = await startPostgres();
    admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE t (id int)');
    e = await engineBackend();
    expectOk(await e.call('update', 'config/main', pgConnection(pg, { max_open_connections: 8 })), 'config');
  });
  after(async () => {
    await admin?.end();
    await pg?.stop();
  });

  it('refuses a negative limit with a 400 naming the field, and reads the limit back', async () => {
    const bad = await e.call('create', 'roles/capped', { db_name: 'main', creation_statements: CREATE, max_live_credentials: -1 });
    assert.match(String(bad?.data?.['error']), /max_live_credentials must be 0 \(no limit\) or more; got -1/);
    assert.equal(await e.call('read', 'roles/capped'), undefined, 'nothing stored');
    expectOk(await e.call('create', 'roles/capped', { db_name: 'main', creation_statements: CREATE, max_live_credentials: 5 }), 'role');
    assert.equal((await e.call('read', 'roles/capped'))?.data?.['max_live_credentials'], 5);
    expectOk(await e.call('create', 'roles/free', { db_name: 'main', creation_statements: CREATE }), 'role free');
    assert.equal((await e.call('read', 'roles/free'))?.data?.['max_live_credentials'], 0, 'default: no limit');
  });

  it('24 concurrent reads against a limit of 5: exactly 5 users, 19 refusals naming the role and its limit', async () => {
    const before = await cappedRoles();
    assert.deepEqual(before, []);
    const replies = await Promise.all(Array.from({ length: 24 }, () => e.call('read', 'creds/capped')));
    const issued = replies.filter((r) => typeof r?.data?.['username'] === 'string');
    const refused = replies.filter((r) => r?.data?.['error'] !== undefined);
    assert.equal(issued.length, 5);
    assert.equal(refused.length, 19);
    for (const r of refused) assert.equal(r?.data?.['error'], LIMIT_TEXT);
    assert.deepEqual(await cappedRoles(), issued.map((r) => String(r?.data?.['username'])).sort(), 'pg_roles has exactly the 5 issued users');
    assert.equal((await e.storage.list(USER_PREFIX)).length, 5, 'refused reads recorded nothing');
  });

  it('a username template without a random part: the second read is refused before anything is written, the first user keeps its record', async () => {
    expectOk(await e.call('update', 'config/fixed', pgConnection(pg, { username_template: 'fixed-{{.RoleName}}' })), 'config');
    expectOk(await e.call('create', 'roles/samename', { db_name: 'fixed', creation_statements: CREATE }), 'role');
    const first = expectOk(await e.call('read', 'creds/samename'), 'first read');
    assert.equal(first?.data?.['username'], 'fixed-samename');
    const second = await e.call('read', 'creds/samename');
    assert.equal(
      second?.data?.['error'],
      'the username_template of connection "fixed" produced "fixed-samename", which a live user of this mount already has; ' +
        'the template must give a new name every time (keep (random N) or unix_time in it)',
    );
    const kept = await e.call('read', 'users/fixed-samename');
    assert.equal(kept?.data?.['state'], 'issued', 'the first user\'s record is untouched');
    assert.equal((await admin.query("SELECT 1 FROM pg_roles WHERE rolname = 'fixed-samename'")).rowCount, 1);
  });

  it('counts per role; a revocation frees a place', async () => {
    expectOk(await e.call('read', 'creds/free'), 'a role without limit still issues');
    const refused = await e.call('read', 'creds/capped');
    assert.equal(refused?.data?.['error'], LIMIT_TEXT);

    const listed = await e.call('list', 'users/');
    const keyInfo = listed?.data?.['key_info'] as Record<string, { role: string }>;
    const victim = Object.entries(keyInfo).find(([, info]) => info.role === 'capped')?.[0];
    assert.ok(victim);
    const lease = { leaseOptions: { ttl: 0, maxTtl: 0, renewable: true, increment: 0, issueTime: new Date() }, leaseId: '', internalData: { secret_type: 'creds', username: victim, role: 'capped', db_name: 'main' } };
    expectOk(await e.revoke(lease), 'revoke');
    const again = expectOk(await e.call('read', 'creds/capped'), 'a place was freed');
    assert.equal(typeof again?.data?.['username'], 'string');
    assert.equal((await cappedRoles()).length, 5);
    assert.equal((await e.call('read', 'creds/capped'))?.data?.['error'], LIMIT_TEXT);
  });

  it('raising the limit lets reads through again; 0 means no limit', async () => {
    expectOk(await e.call('update', 'roles/capped', { max_live_credentials: 6 }), 'raise');
    expectOk(await e.call('read', 'creds/capped'), 'sixth');
    assert.match(String((await e.call('read', 'creds/capped'))?.data?.['error']), /has 6 live credentials/);
    expectOk(await e.call('update', 'roles/capped', { max_live_credentials: 0 }), 'unlimited');
    expectOk(await e.call('read', 'creds/capped'), 'seventh');
    assert.equal((await cappedRoles()).length, 7);
  });
});
