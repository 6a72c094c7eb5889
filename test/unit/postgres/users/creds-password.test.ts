/**
 * The password of a credential before CREATE ROLE: it is hashed with the
 * pool's scram_iterations, which a pool's first credential asks the server
 * for only once its user record is written. Where that fails, or the
 * password policy does, the request ends with the right error (retryable
 * for the database, the policy's 400 for the policy) and leaves no record.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { USER_PREFIX } from '../../../../src/postgres/users/record';
import { ErrorKind, VaultError } from '../../../../src/vault';
import type { InmemStorage } from '../../../helpers/fakes';
import { unreachableDatabaseMount } from '../../../helpers/unreachable-database';

/** Keys of user records left in storage. */
async function records(storage: InmemStorage): Promise<string[]> {
  return storage.list(USER_PREFIX);
}

/** Storage that records the order of writes next to the mount's database contacts. */
function orderOf(m: Awaited<ReturnType<typeof unreachableDatabaseMount>>): string[] {
  const events: string[] = [];
  const put = m.storage.put.bind(m.storage);
  m.storage.put = async (entry) => {
    events.push(`put ${entry.key.split('/')[0]}`);
    return put(entry);
  };
  const touched = m.touched;
  const push = touched.push.bind(touched);
  touched.push = (...items: string[]) => {
    events.push(...items);
    return push(...items);
  };
  return events;
}

/** The error `request` rejects with; fails the test when it succeeds. */
async function vaultErrorOf(request: Promise<unknown>, what: string): Promise<VaultError> {
  const failure = await request.then(
    () => assert.fail(`${what} succeeded without a database`),
    (err: unknown) => err,
  );
  assert.ok(failure instanceof VaultError);
  return failure;
}

describe('creds: the password before CREATE ROLE', () => {
  it('a pool’s first credential asks the server only after the record is written; unreachable, a retryable error and no record', async () => {
    const m = await unreachableDatabaseMount();
    const events = orderOf(m);
    const failure = await vaultErrorOf(m.call('read', 'creds/app'), 'creds');
    assert.equal(failure.kind, ErrorKind.Unknown, 'retryable, not a 400');
    assert.match(failure.message, /^creating database user for role "app" failed: .*the database was reached/);
    assert.deepEqual(events, ['put user', 'connect'], 'the record first, then one contact');
    assert.deepEqual(await records(m.storage), [], 'the record of a user never created is deleted');
  });

  it('a password policy that fails: its 400, no database contact, no record', async () => {
    const m = await unreachableDatabaseMount(undefined, { passwordPolicy: 'weak' });
    m.systemView.passwordPolicy = async (name) => {
      throw new Error(`policy "${name}" not found`);
    };
    const resp = await m.call('read', 'creds/app');
    assert.match(String(resp?.data?.['error']), /^generating a password with password policy "weak" failed: policy "weak" not found/);
    assert.deepEqual(m.touched, []);
    assert.deepEqual(await records(m.storage), []);
  });

  it('a password policy that makes an empty password: the policy’s 400, no database contact, no record', async () => {
    const m = await unreachableDatabaseMount(undefined, { passwordPolicy: 'empty' });
    m.systemView.passwordPolicy = async () => '';
    const resp = await m.call('read', 'creds/app');
    assert.match(String(resp?.data?.['error']), /^generating a password with password policy "empty" failed: the policy generated an empty password/);
    assert.deepEqual(m.touched, []);
    assert.deepEqual(await records(m.storage), []);
  });

  it('rotate-root: the WAL entry is written before the server is asked; unreachable, a retryable error and no entry left', async () => {
    const m = await unreachableDatabaseMount();
    const events = orderOf(m);
    const failure = await vaultErrorOf(m.call('update', 'rotate-root/main'), 'rotate-root');
    assert.equal(failure.kind, ErrorKind.Unknown);
    assert.match(failure.message, /changing the root password of connection "main" failed: .*the database was reached/);
    assert.equal(events[0], 'put wal', 'the WAL entry is the first write');
    assert.equal(events.indexOf('connect') > 0, true, 'the server is asked after it');
    assert.deepEqual(await m.storage.list('wal/'), [], 'the entry guards nothing and is gone');
  });
});
