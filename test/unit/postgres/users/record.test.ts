import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeUserRecord,
  encodeUserRecord,
  escapeUsername,
  MalformedUserRecord,
  unescapeUsername,
  userKey,
  type UserRecord,
} from '../../../../src/postgres/users/record';
import { InmemStorage } from '../../../helpers/fakes';

/** What every escaped name must be to live in Vault storage as one key segment. */
function assertStorable(segment: string): void {
  assert.equal(segment.includes('/'), false, `${JSON.stringify(segment)} has a /`);
  assert.equal(segment.includes('..'), false, `${JSON.stringify(segment)} has ..`);
  assert.equal(segment.startsWith('.'), false, `${JSON.stringify(segment)} starts with .`);
  assert.equal(/\p{C}/u.test(segment), false, `${JSON.stringify(segment)} has a non-printable character`);
}

describe('user record keys', () => {
  const cases: Array<[string, string]> = [
    ['v-token-app-AbCdEfGhIjKlMnOpQrSt-1700000000', 'v-token-app-AbCdEfGhIjKlMnOpQrSt-1700000000'],
    ['app.reader', 'app.reader'],
    ['Ünïcødé-用户-😀', 'Ünïcødé-用户-😀'],
    [`x"; DROP TABLE t; --'$$`, `x"; DROP TABLE t; --'$$`],
    ['a/b', 'a%2Fb'],
    ['100%', '100%25'],
    ['%2F', '%252F'],
    ['tab\there', 'tab%09here'],
    ['new\nline\r', 'new%0Aline%0D'],
    ['del\u007f', 'del%7F'],
    ['zero\u200bwidth', 'zero%E2%80%8Bwidth'],
    ['.', '%2E'],
    ['..', '%2E%2E'],
    ['.hidden', '%2Ehidden'],
    ['a..b', 'a%2E%2Eb'],
    ['a...', 'a%2E%2E%2E'],
  ];

  it('keeps ordinary names readable and escapes what a key cannot hold', () => {
    for (const [name, escaped] of cases) {
      assert.equal(escapeUsername(name), escaped, JSON.stringify(name));
      assertStorable(escaped);
    }
  });

  it('round-trips every case and thousands of random names', () => {
    for (const [name] of cases) assert.equal(unescapeUsername(escapeUsername(name)), name);
    const pools = [[0x20, 0x7e], [0x01, 0x1f], [0x80, 0x24f], [0x2000, 0x206f], [0x1f600, 0x1f64f]];
    for (let n = 0; n < 5000; n++) {
      let name = '';
      const length = randomInt(1, 20);
      for (let i = 0; i < length; i++) {
        const [lo = 0x20, hi = 0x7e] = pools[randomInt(pools.length)] ?? [];
        name += n % 3 === 0 && i % 2 === 0 ? '.' : String.fromCodePoint(randomInt(lo, hi + 1));
      }
      const escaped = escapeUsername(name);
      assertStorable(escaped);
      assert.equal(unescapeUsername(escaped), name, JSON.stringify(name));
    }
  });

  it('puts every name under user/ as exactly one key, which storage lists back', async () => {
    const storage = new InmemStorage();
    for (const [name] of cases) await storage.put({ key: userKey(name), value: Buffer.from('{}') });
    const listed = await storage.list('user/');
    assert.equal(listed.length, cases.length);
    assert.deepEqual(listed.map(unescapeUsername).sort(), cases.map(([name]) => name).sort());
  });
});

describe('user record encoding', () => {
  const record: UserRecord = {
    username: 'v-a',
    dbName: 'main',
    role: 'app',
    state: 'issued',
    createdAt: 1_700_000_000,
    issuedAt: 1_700_000_001,
    leaseEnd: 1_700_003_601,
    displayName: 'token',
    entityId: 'ent-1',
    revocationStatements: ['DROP ROLE "{{name}}"'],
    rollbackStatements: [],
  };

  it('writes the agreed JSON, leaving out empty statement lists and a missing issued_at', () => {
    assert.deepEqual(JSON.parse(encodeUserRecord(record).toString()), {
      username: 'v-a',
      db_name: 'main',
      role: 'app',
      state: 'issued',
      created_at: 1_700_000_000,
      issued_at: 1_700_000_001,
      lease_end: 1_700_003_601,
      display_name: 'token',
      entity_id: 'ent-1',
      revocation_statements: ['DROP ROLE "{{name}}"'],
    });
    const issuing = JSON.parse(encodeUserRecord({ ...record, state: 'issuing', issuedAt: undefined, revocationStatements: [] }).toString());
    assert.equal('issued_at' in issuing, false);
    assert.equal('revocation_statements' in issuing, false);
    assert.equal('rollback_statements' in issuing, false);
  });

  it('reads back what it wrote, and refuses records it cannot act on', () => {
    assert.deepEqual(decodeUserRecord('user/v-a', encodeUserRecord(record)), record);
    for (const bad of ['not json', '[]', '{"state":"issued"}', '{"username":"x","state":"gone"}']) {
      assert.throws(() => decodeUserRecord('user/x', Buffer.from(bad)), MalformedUserRecord, bad);
    }
  });
});
