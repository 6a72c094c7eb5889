/**
 * High availability: on a performance standby (and a performance secondary
 * for a replicated mount) every request that writes storage answers Vault's
 * read-only error before it touches the database, so that Vault forwards it
 * to the node that can write; reads are answered where they arrive. A
 * storage write refused as read-only comes back as that same error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPLICATION_STATE } from '../../../src/framework';
import { UserRecords } from '../../../src/postgres/users/user-records';
import { ErrorKind, READ_ONLY_MESSAGE, isReadOnlyError, type Operation, type Request, type Secret, type StorageEntry } from '../../../src/vault';
import { encodeError } from '../../../src/vault/codec';
import { storageError } from '../../../src/vault/storage-client';
import { InmemStorage } from '../../helpers/fakes';
import { unreachableDatabaseMount } from '../../helpers/unreachable-database';

/** Storage that refuses writes as a performance standby's does; reads pass. */
class ReadOnlyStorage extends InmemStorage {
  override async put(entry: StorageEntry): Promise<void> {
    throw storageError('put', `failed to put ${entry.key}: ${READ_ONLY_MESSAGE}`);
  }

  override async delete(key: string): Promise<void> {
    throw storageError('delete', `failed to delete ${key}: ${READ_ONLY_MESSAGE}`);
  }
}

const mount = unreachableDatabaseMount;

const SECRET: Secret = {
  leaseOptions: { ttl: 3600, maxTtl: 0, renewable: true, increment: 0, issueTime: new Date('2029-12-31T23:00:00Z') },
  internalData: { secret_type: 'creds', username: 'v-app-1', role: 'app', db_name: 'main', revocation_statements: [], renew_statements: [] },
  leaseId: 'pg/creds/app/1',
};

/** Every request that writes (or, for reconcile, must see what the active node wrote). */
const WRITES: Array<[string, Operation, string, Record<string, unknown>, Partial<Request>?]> = [
  ['creds read', 'read', 'creds/app', {}],
  ['config create', 'create', 'config/other', { connection_url: 'postgresql://h/db' }],
  ['config update', 'update', 'config/main', { max_open_connections: 8 }],
  ['config update with bad input (the active node answers the 400)', 'update', 'config/main', { bogus: 1 }],
  ['config delete', 'delete', 'config/main', {}],
  ['role create', 'create', 'roles/other', { db_name: 'main', creation_statements: 'CREATE ROLE "{{name}}"' }],
  ['role update', 'update', 'roles/app', { default_ttl: 60 }],
  ['role delete', 'delete', 'roles/app', {}],
  ['rotate-root', 'update', 'rotate-root/main', {}],
  ['reset', 'update', 'reset/main', {}],
  ['reconcile, dry run', 'update', 'reconcile/main', {}],
  ['reconcile, dry_run=false', 'update', 'reconcile/main', { dry_run: false }],
  ['renew', 'renew', 'creds/app/1', {}, { secret: SECRET }],
  ['revoke', 'revoke', 'creds/app/1', {}, { secret: SECRET }],
];

/** Vault's ErrReadOnly as the wire carries it: ErrTypeUnknown and its text. */
function assertForwarded(err: unknown): true {
  assert.equal(isReadOnlyError(err), true, `a read-only error, got ${String(err)}`);
  const { error, response } = encodeError(err);
  assert.equal(error.err_type, ErrorKind.Unknown);
  assert.match(error.err_msg, new RegExp(READ_ONLY_MESSAGE));
  assert.equal(response, undefined, 'no error response that Vault could answer 400 with');
  return true;
}

describe('performance standby', () => {
  for (const [what, operation, path, data, extra] of WRITES) {
    it(`${what}: Vault's read-only error before the database or storage is touched`, async () => {
      const m = await mount();
      m.systemView.replication = REPLICATION_STATE.performanceStandby;
      const keys = m.storage.keys();
      await assert.rejects(m.call(operation, path, data, extra), assertForwarded);
      assert.deepEqual(m.touched, []);
      assert.deepEqual(m.storage.keys(), keys);
    });
  }

  it('answers reads itself: config, roles, users', async () => {
    const m = await mount();
    m.systemView.replication = REPLICATION_STATE.performanceStandby;
    assert.equal((await m.call('read', 'config/main'))?.data?.['plugin_name'], '');
    assert.deepEqual((await m.call('list', 'config/'))?.data?.['keys'], ['main']);
    assert.equal((await m.call('read', 'roles/app'))?.data?.['db_name'], 'main');
    assert.deepEqual((await m.call('list', 'roles/'))?.data?.['keys'], ['app']);
    assert.deepEqual((await m.call('list', 'users/'))?.data?.['keys'], []);
    assert.deepEqual(m.touched, []);
  });

  it('skips the sweep and WAL rollback: they write, and the active node does them', async () => {
    const m = await mount();
    await new UserRecords().put(m.storage, {
      username: 'v-expired',
      dbName: 'main',
      role: 'app',
      state: 'issued',
      createdAt: 0,
      issuedAt: 0,
      leaseEnd: 1,
      displayName: '',
      entityId: '',
      revocationStatements: [],
      rollbackStatements: [],
    });
    m.systemView.replication = REPLICATION_STATE.performanceStandby;
    assert.equal(await m.call('rollback', ''), undefined);
    assert.deepEqual(m.touched, []);
    // The same tick on the active node tries to drop the expired user (and here cannot reach the database).
    m.systemView.replication = 0;
    await assert.rejects(m.call('rollback', ''), /user sweep/);
    assert.deepEqual(m.touched, ['connect']);
  });
});

describe('replication secondaries', () => {
  it('a performance secondary forwards writes of a replicated mount, and handles those of a local mount', async () => {
    const m = await mount();
    m.systemView.replication = REPLICATION_STATE.performanceSecondary;
    await assert.rejects(m.call('read', 'creds/app'), assertForwarded);
    await assert.rejects(m.call('update', 'roles/app', { default_ttl: 60 }), assertForwarded);
    assert.deepEqual(m.touched, []);
    m.systemView.isLocalMount = true;
    await assert.rejects(m.call('read', 'creds/app'), /the database was reached/);
    assert.deepEqual(m.touched, ['connect']);
  });

  it('a DR secondary runs no sweep', async () => {
    const m = await mount();
    m.systemView.replication = REPLICATION_STATE.drSecondary;
    assert.equal(await m.call('rollback', ''), undefined);
    assert.deepEqual(m.touched, []);
  });
});

describe('storage that refuses a write as read-only', () => {
  it('storageError keeps Vault\'s read-only text as a read-only error, anything else as a plain error', () => {
    assert.equal(storageError('put', ''), undefined);
    assert.equal(isReadOnlyError(storageError('put', READ_ONLY_MESSAGE)), true);
    assert.match(String(storageError('put', READ_ONLY_MESSAGE)?.message), /^storage put failed: cannot write to readonly storage$/);
    const other = storageError('get', 'permission denied');
    assert.equal(isReadOnlyError(other), false);
    assert.match(String(other?.message), /storage get failed: permission denied/);
  });

  it('creds: the record write is refused before CREATE ROLE; the error reaches Vault as its read-only error', async () => {
    const m = await mount(new ReadOnlyStorage());
    // An active node that does not know yet (no replication flag): only the storage says so.
    await assert.rejects(m.call('read', 'creds/app'), assertForwarded);
    assert.deepEqual(m.touched, []);
  });

  it('role delete and config delete pass the refusal on as it came', async () => {
    const m = await mount(new ReadOnlyStorage());
    await assert.rejects(m.call('delete', 'roles/app'), assertForwarded);
    await assert.rejects(m.call('delete', 'config/main'), assertForwarded);
  });

  it('a read-only error wrapped by a handler is still sent as one, with the text Vault looks for', () => {
    const inner = storageError('put', READ_ONLY_MESSAGE);
    const wrapped = new Error('recording the renewal failed', { cause: inner });
    const { error } = encodeError(wrapped);
    assert.equal(error.err_type, ErrorKind.Unknown);
    assert.equal(error.err_msg, `recording the renewal failed: ${READ_ONLY_MESSAGE}`);
  });
});
