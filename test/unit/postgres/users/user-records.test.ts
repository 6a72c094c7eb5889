import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserRecord } from '../../../../src/postgres/users/record';
import { UserRecords, type IndexedUser } from '../../../../src/postgres/users/user-records';
import { InmemStorage } from '../../../helpers/fakes';

function record(username: string, role = 'app', state: UserRecord['state'] = 'issued'): UserRecord {
  return { username, dbName: 'main', role, state, createdAt: 1, leaseEnd: 100, displayName: '', entityId: '', revocationStatements: [], rollbackStatements: [] };
}

const user = (role: string): IndexedUser => ({ role, state: 'issuing', createdAt: 1, leaseEnd: 100 });

/** Storage that counts list calls and can hold its gets until released. */
class CountingStorage extends InmemStorage {
  lists = 0;
  gate: Promise<void> | undefined;
  override async list(prefix: string): Promise<string[]> {
    this.lists++;
    return super.list(prefix);
  }
  override async get(key: string) {
    await this.gate;
    return super.get(key);
  }
}

describe('user index', () => {
  it('is loaded from storage once, then kept up to date by writes through it', async () => {
    const storage = new CountingStorage();
    const seed = new UserRecords();
    for (const name of ['a', 'b', 'c']) await seed.put(storage, record(name, name === 'c' ? 'other' : 'app'));
    const records = new UserRecords();
    const [first, second] = await Promise.all([records.index(storage), records.index(storage)]);
    assert.equal(first, second);
    assert.equal(storage.lists, 1, 'one load for concurrent first uses');
    assert.equal(first.count('app'), 2);
    assert.equal(first.count('other'), 1);
    await records.put(storage, record('d'));
    await records.delete(storage, 'a');
    await records.delete(storage, 'never-there');
    assert.equal((await records.index(storage)).count('app'), 2);
    assert.deepEqual([...(await records.index(storage)).entries()].map(([n]) => n).sort(), ['b', 'c', 'd']);
    assert.equal(storage.lists, 1, 'no further loads');
  });

  it('changes made while it loads are applied over what the load read', async () => {
    const storage = new CountingStorage();
    const seed = new UserRecords();
    await seed.put(storage, record('a'));
    await seed.put(storage, record('b'));
    let release: () => void = () => undefined;
    storage.gate = new Promise((r) => (release = r));
    const records = new UserRecords();
    const loading = records.index(storage);
    await new Promise((r) => setImmediate(r));
    storage.gate = undefined;
    await records.delete(storage, 'a');
    await records.put(storage, record('c'));
    release();
    const index = await loading;
    assert.deepEqual([...index.entries()].map(([n]) => n).sort(), ['b', 'c']);
  });

  it('is dropped when Vault invalidates a user/ key and read again on next use; other keys leave it', async () => {
    const storage = new CountingStorage();
    const records = new UserRecords();
    await records.index(storage);
    assert.equal(records.invalidate('config/main'), false);
    assert.ok(records.loadedIndex());
    await new UserRecords().put(storage, record('elsewhere'));
    assert.equal(records.invalidate('user/elsewhere'), true);
    assert.equal(records.loadedIndex(), undefined);
    assert.equal((await records.index(storage)).count('app'), 1);
    assert.equal(storage.lists, 2);
  });

  it('counts and registers in one step: 24 issuances against a limit of 5 get 5 places', async () => {
    const storage = new InmemStorage();
    const records = new UserRecords();
    await records.put(storage, record('existing'));
    const index = await records.index(storage);
    const outcomes = Array.from({ length: 24 }, (_, i) => records.beginIssuance(index, `new-${i}`, user('app'), 5));
    const begun = outcomes.filter((o) => 'end' in o);
    assert.equal(begun.length, 4, 'the existing record takes one of the 5');
    for (const o of outcomes.filter((x) => 'limit' in x)) assert.deepEqual(o, { live: 5, limit: 5 });
    assert.equal(records.issuingNow().length, 4);
    // A running issuance whose record is written counts once, not twice.
    await records.put(storage, record('new-0'));
    assert.ok('limit' in records.beginIssuance(index, 'x', user('app'), 5));
    for (const o of begun) if ('end' in o) o.end();
    assert.deepEqual(records.issuingNow(), []);
    assert.ok('end' in records.beginIssuance(index, 'y', user('app'), 5), 'ended issuances without records free their places');
    assert.ok('end' in records.beginIssuance(index, 'z', user('other'), 1), 'limits are per role');
  });

  it('refuses a name a recorded or running user already has: its record would be overwritten', async () => {
    const storage = new InmemStorage();
    const records = new UserRecords();
    await records.put(storage, record('taken'));
    const index = await records.index(storage);
    assert.deepEqual(records.beginIssuance(index, 'taken', user('app'), 0), { inUse: 'taken' });
    const running = records.beginIssuance(index, 'fresh', user('app'), 0);
    assert.ok('end' in running);
    assert.deepEqual(records.beginIssuance(index, 'fresh', user('app'), 0), { inUse: 'fresh' }, 'also while only being issued');
    running.end();
    assert.ok('end' in records.beginIssuance(index, 'fresh', user('app'), 0), 'free again once that issuance ended without a record');
  });

  it('issuancesEnded waits for running issuances, and no longer than asked', async () => {
    const records = new UserRecords();
    const index = await records.index(new InmemStorage());
    const running = records.beginIssuance(index, 'a', user('app'), 0);
    assert.ok('end' in running);
    let done = false;
    const waiting = records.issuancesEnded(10_000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false);
    running.end();
    await waiting;
    const stuck = records.beginIssuance(index, 'b', user('app'), 0);
    const started = Date.now();
    await records.issuancesEnded(50);
    assert.ok(Date.now() - started < 5000);
    if ('end' in stuck) stuck.end();
  });
});
