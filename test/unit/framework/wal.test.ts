import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, VaultError } from '../../../src/vault';
import { WAL_PREFIX, deleteWal, getWal, listWal, putWal } from '../../../src/framework';
import { InmemStorage } from '../../helpers/fakes';

const CREATED = new Date('2024-05-01T12:00:00.999Z');

test('putWal writes the Go framework layout under wal/<uuid>', async () => {
  const storage = new InmemStorage();
  const id = await putWal(storage, 'create-role', { username: 'v-1' }, CREATED);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(storage.keys(), [`wal/${id}`]);
  const stored = await storage.get(`${WAL_PREFIX}${id}`);
  assert.deepEqual(JSON.parse(stored?.value.toString('utf8') ?? ''), {
    type: 'create-role',
    data: { username: 'v-1' },
    created_at: Math.floor(CREATED.getTime() / 1000),
  });
});

test('getWal / listWal / deleteWal', async () => {
  const storage = new InmemStorage();
  const a = await putWal(storage, 'k', ['x'], CREATED);
  const b = await putWal(storage, 'k', null, CREATED);
  assert.deepEqual((await listWal(storage)).sort(), [a, b].sort());
  assert.deepEqual(await getWal(storage, a), {
    id: a,
    kind: 'k',
    data: ['x'],
    createdAt: new Date(Math.floor(CREATED.getTime() / 1000) * 1000),
  });
  await deleteWal(storage, a);
  await deleteWal(storage, a);
  assert.equal(await getWal(storage, a), undefined);
  assert.deepEqual(await listWal(storage), [b]);
});

test('entries written by Go Vault are readable', async () => {
  const storage = new InmemStorage();
  const value = Buffer.from('{"type":"role","data":{"name":"x"},"created_at":1700000000}');
  await storage.put({ key: 'wal/abc', value });
  assert.deepEqual(await getWal(storage, 'abc'), {
    id: 'abc',
    kind: 'role',
    data: { name: 'x' },
    createdAt: new Date(1700000000 * 1000),
  });
});

test('listWal ignores sub-folders', async () => {
  const storage = new InmemStorage();
  await storage.put({ key: 'wal/nested/x', value: Buffer.from('{}') });
  assert.deepEqual(await listWal(storage), []);
});

const MALFORMED: ReadonlyArray<[string, string]> = [
  ['not JSON', 'nope'],
  ['not an object', '[1]'],
  ['without type', '{"data":1,"created_at":1}'],
  ['without created_at', '{"type":"k","data":1}'],
];

for (const [label, text] of MALFORMED) {
  test(`getWal rejects an entry ${label}`, async () => {
    const storage = new InmemStorage();
    await storage.put({ key: 'wal/bad', value: Buffer.from(text) });
    await assert.rejects(
      getWal(storage, 'bad'),
      (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.Unknown && /WAL entry bad/.test(err.message),
    );
  });
}
