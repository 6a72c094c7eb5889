import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, VaultError } from '../../../src/vault';
import type { Request } from '../../../src/vault';
import { FrameworkBackend, listWal, putWal } from '../../../src/framework';
import type { FrameworkBackendOptions } from '../../../src/framework';
import { InmemStorage, testRequest } from '../../helpers/fakes';

const NOW = new Date('2024-05-01T12:00:00Z');
const MIN_AGE = 600;

function ago(seconds: number): Date {
  return new Date(NOW.getTime() - seconds * 1000);
}

function rollbackRequest(storage: InmemStorage, data: Record<string, unknown> = {}): Request {
  return testRequest({ operation: 'rollback', path: '', data, storage });
}

function backend(options: Partial<FrameworkBackendOptions>): FrameworkBackend {
  return new FrameworkBackend({ help: '', paths: [], now: () => NOW, ...options });
}

test('old entries are rolled back and deleted, young ones kept', async () => {
  const storage = new InmemStorage();
  const old = await putWal(storage, 'role', { name: 'old' }, ago(MIN_AGE + 1));
  const young = await putWal(storage, 'role', { name: 'young' }, ago(MIN_AGE - 1));
  const rolledBack: unknown[] = [];
  const b = backend({ walRollback: async (_req, kind, data) => void rolledBack.push([kind, data]) });

  assert.equal(await b.handleRequest(rollbackRequest(storage)), undefined);
  assert.deepEqual(rolledBack, [['role', { name: 'old' }]]);
  assert.deepEqual(await listWal(storage), [young]);
  assert.ok(!(await listWal(storage)).includes(old));
});

test('an entry exactly min age old is kept (Vault rolls back strictly older ones)', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(MIN_AGE));
  const b = backend({ walRollback: async () => assert.fail('must not roll back') });
  await b.handleRequest(rollbackRequest(storage));
  assert.equal((await listWal(storage)).length, 1);
});

test('walRollbackMinAge is configurable', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(61));
  let count = 0;
  await backend({ walRollbackMinAge: 60, walRollback: async () => void count++ }).handleRequest(rollbackRequest(storage));
  assert.equal(count, 1);
});

test('immediate rolls back everything', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, NOW);
  await putWal(storage, 'role', {}, ago(1));
  let count = 0;
  const b = backend({ walRollback: async () => void count++ });
  await b.handleRequest(rollbackRequest(storage, { immediate: false }));
  assert.equal(count, 2);
  assert.deepEqual(await listWal(storage), []);
});

test('a failing rollback keeps its entry; the others are processed; the error comes afterwards', async () => {
  const storage = new InmemStorage();
  const ids = [
    await putWal(storage, 'role', { name: 'a' }, ago(MIN_AGE * 2)),
    await putWal(storage, 'role', { name: 'bad' }, ago(MIN_AGE * 2)),
    await putWal(storage, 'role', { name: 'c' }, ago(MIN_AGE * 2)),
  ];
  const badId = ids[1];
  const seen: string[] = [];
  const b = backend({
    walRollback: async (_req, _kind, data) => {
      const name = typeof data === 'object' && data !== null && 'name' in data ? String(data.name) : '';
      seen.push(name);
      if (name === 'bad') throw new Error('database unreachable');
    },
  });

  await assert.rejects(b.handleRequest(rollbackRequest(storage)), (err: unknown) => {
    assert.ok(err instanceof VaultError);
    assert.equal(err.kind, ErrorKind.Unknown);
    assert.match(err.message, new RegExp(`error rolling back "role" entry ${badId}: database unreachable`));
    return true;
  });
  assert.deepEqual(seen.sort(), ['a', 'bad', 'c']);
  assert.deepEqual(await listWal(storage), [badId]);
});

test('periodic runs on every rollback, before the WAL', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(MIN_AGE + 1));
  const order: string[] = [];
  const b = backend({
    periodic: async () => void order.push('periodic'),
    walRollback: async () => void order.push('wal'),
  });
  await b.handleRequest(rollbackRequest(storage));
  assert.deepEqual(order, ['periodic', 'wal']);
});

test('a failing periodic function does not stop the WAL rollback', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(MIN_AGE + 1));
  const b = backend({
    periodic: async () => {
      throw new Error('rotation failed');
    },
    walRollback: async () => undefined,
  });
  await assert.rejects(b.handleRequest(rollbackRequest(storage)), /periodic function failed: rotation failed/);
  assert.deepEqual(await listWal(storage), []);
});

test('periodic only: WAL entries are left alone', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(MIN_AGE * 10));
  let ran = false;
  await backend({ periodic: async () => void (ran = true) }).handleRequest(rollbackRequest(storage));
  assert.ok(ran);
  assert.equal((await listWal(storage)).length, 1);
});

test('nothing configured → UnsupportedOperation (ignored by Vault)', async () => {
  await assert.rejects(
    backend({}).handleRequest(rollbackRequest(new InmemStorage())),
    (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.UnsupportedOperation,
  );
});

test('an aborted rollback stops and reports it; the entries stay', async () => {
  const storage = new InmemStorage();
  await putWal(storage, 'role', {}, ago(MIN_AGE * 2));
  const controller = new AbortController();
  controller.abort(new Error('deadline exceeded'));
  const b = backend({ walRollback: async () => assert.fail('must not run') });
  await assert.rejects(
    b.handleRequest(testRequest({ operation: 'rollback', storage, signal: controller.signal })),
    /rollback interrupted: deadline exceeded/,
  );
  assert.equal((await listWal(storage)).length, 1);
});
