import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InmemStorage, StaticSystemView, testRequest } from '../../helpers/fakes';

const put = (storage: InmemStorage, key: string): Promise<void> => storage.put({ key, value: Buffer.from(key) });

test('InmemStorage lists immediate children, folders once with a slash, sorted', async () => {
  const storage = new InmemStorage();
  for (const key of ['config/b', 'config/a', 'config/sub/x', 'config/sub/y', 'roles/r', 'top']) await put(storage, key);
  assert.deepEqual(await storage.list('config/'), ['a', 'b', 'sub/']);
  assert.deepEqual(await storage.list(''), ['config/', 'roles/', 'top']);
  assert.deepEqual(await storage.list('missing/'), []);
});

test('InmemStorage get/put/delete copy values and reject parent references', async () => {
  const storage = new InmemStorage();
  const value = Buffer.from('abc');
  await storage.put({ key: 'k', value });
  value.write('x');
  assert.equal((await storage.get('k'))?.value.toString(), 'abc');
  await storage.delete('k');
  await storage.delete('k');
  assert.equal(await storage.get('k'), undefined);
  await assert.rejects(storage.get('a/../b'), /parent references/);
  await assert.rejects(put(storage, '../x'), /parent references/);
});

test('StaticSystemView answers what it was given and can be changed', async () => {
  const sys = new StaticSystemView({ defaultLeaseTtl: 60, passwordPolicy: async (name) => `pw-${name}` });
  assert.equal(await sys.defaultLeaseTtl(), 60);
  assert.equal(await sys.maxLeaseTtl(), 768 * 3600);
  assert.equal(await sys.generatePasswordFromPolicy('p'), 'pw-p');
  sys.isTainted = true;
  assert.equal(await sys.tainted(), true);
  await assert.rejects(new StaticSystemView().generatePasswordFromPolicy('x'), /not found/);
});

test('testRequest fills defaults and takes overrides', () => {
  const req = testRequest({ operation: 'update', path: 'roles/x' });
  assert.equal(req.operation, 'update');
  assert.equal(req.path, 'roles/x');
  assert.deepEqual(req.data, {});
  assert.equal(req.signal.aborted, false);
  assert.ok(req.storage instanceof InmemStorage);
});
