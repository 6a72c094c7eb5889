import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';

import { DEFAULT_PASSWORD_LENGTH, generatePassword, scramSha256Verifier } from '../../../../src/postgres/users/password.js';

const ALPHABET = /^[A-Za-z0-9_-]+$/;
const CLASSES: ReadonlyArray<readonly [string, RegExp]> = [
  ['upper', /[A-Z]/],
  ['lower', /[a-z]/],
  ['digit', /[0-9]/],
  ['symbol', /[-_]/],
];
const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;
const SHA256_BYTES = 32;

const classOf = (ch: string): string => CLASSES.find(([, re]) => re.test(ch))?.[0] ?? 'none';

// ---------------------------------------------------------------------------
// generatePassword
// ---------------------------------------------------------------------------

test('generatePassword: default length 24, alphabet, every class present', () => {
  assert.equal(DEFAULT_PASSWORD_LENGTH, 24);
  for (let i = 0; i < 1000; i++) {
    const password = generatePassword();
    assert.equal(password.length, DEFAULT_PASSWORD_LENGTH);
    assert.match(password, ALPHABET);
    for (const [name, re] of CLASSES) assert.match(password, re, `${password} lacks a ${name} character`);
  }
});

test('generatePassword: other lengths, including the minimum of 4', () => {
  for (const length of [4, 5, 8, 64, 1024]) {
    const password = generatePassword(length);
    assert.equal(password.length, length);
    assert.match(password, ALPHABET);
    for (const [, re] of CLASSES) assert.match(password, re);
  }
  // With 4 characters each class appears exactly once.
  for (let i = 0; i < 100; i++) {
    assert.deepEqual([...generatePassword(4)].map(classOf).sort(), ['digit', 'lower', 'symbol', 'upper']);
  }
});

test('generatePassword: rejects impossible lengths', () => {
  for (const length of [3, 0, -1, 2.5, Number.NaN, 1025]) {
    assert.throws(() => generatePassword(length), RangeError, String(length));
  }
});

test('generatePassword: 1000 passwords are distinct', () => {
  const passwords = new Set(Array.from({ length: 1000 }, () => generatePassword()));
  assert.equal(passwords.size, 1000);
});

test('generatePassword: the guaranteed characters land at random positions', () => {
  // Length 4 passwords are permutations of the four classes: every class must
  // show up first, and last, in some of them.
  const firsts = new Set<string>();
  const lasts = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const password = generatePassword(4);
    firsts.add(classOf(password.charAt(0)));
    lasts.add(classOf(password.charAt(3)));
  }
  assert.equal(firsts.size, 4);
  assert.equal(lasts.size, 4);
  // And in long passwords the symbol is not stuck in one place.
  const symbolAt = new Set(Array.from({ length: 200 }, () => generatePassword(64).search(/[-_]/)));
  assert.ok(symbolAt.size > 10);
  // Every character of the alphabet is used.
  assert.equal(new Set(Array.from({ length: 200 }, () => generatePassword()).join('')).size, 64);
});

// ---------------------------------------------------------------------------
// scramSha256Verifier
// ---------------------------------------------------------------------------

/** RFC 5802's Hi(): PBKDF2-HMAC-SHA-256 written out, independent of crypto.pbkdf2. */
function hi(password: string, salt: Buffer, iterations: number): Buffer {
  let u = createHmac('sha256', password).update(Buffer.concat([salt, Buffer.from([0, 0, 0, 1])])).digest();
  const result = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = createHmac('sha256', password).update(u).digest();
    for (let j = 0; j < SHA256_BYTES; j++) result[j] = (result[j] ?? 0) ^ (u[j] ?? 0);
  }
  return result;
}

/** The verifier computed step by step from RFC 5802's definitions. */
function expectedVerifier(password: string, salt: Buffer, iterations: number): string {
  const saltedPassword = hi(password, salt, iterations);
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function parseVerifier(verifier: string): { iterations: number; salt: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const match = VERIFIER.exec(verifier);
  assert.ok(match, `not a SCRAM-SHA-256 verifier: ${verifier}`);
  const [, iterations, salt, storedKey, serverKey] = match;
  return {
    iterations: Number(iterations),
    salt: Buffer.from(salt ?? '', 'base64'),
    storedKey: Buffer.from(storedKey ?? '', 'base64'),
    serverKey: Buffer.from(serverKey ?? '', 'base64'),
  };
}

test('scramSha256Verifier: "foobar" with a fixed salt, known answer', async () => {
  const salt = Buffer.from('rPjP2IZd4YMkJAQu/szwLw==', 'base64');
  const verifier = await scramSha256Verifier('foobar', { salt, iterations: 4096 });
  // Computed independently: step by step here, and by PostgreSQL 15's libpq
  // (PQencryptPasswordConn, which printed this salt and verifier).
  assert.equal(verifier, expectedVerifier('foobar', salt, 4096));
  assert.equal(
    verifier,
    'SCRAM-SHA-256$4096:rPjP2IZd4YMkJAQu/szwLw==$hOCvfkC9ZOym/Mn8HKag+aYOPS1UK9vTuur4LtHcqeQ=:uuTGJ3a/tQtTDov5RtH0G4dAHbddWptAzWIg9lNwgqo=',
  );
});

test('scramSha256Verifier: accepts the RFC 7677 example exchange, as PostgreSQL would check a login', async () => {
  const verifier = await scramSha256Verifier('pencil', { salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64') });
  const { storedKey, serverKey } = parseVerifier(verifier);
  const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
  const clientProof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  // Server side: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must equal StoredKey.
  const clientSignature = createHmac('sha256', storedKey).update(authMessage).digest();
  const clientKey = Buffer.from(clientProof.map((b, i) => b ^ (clientSignature[i] ?? 0)));
  assert.deepEqual(createHash('sha256').update(clientKey).digest(), storedKey);
  const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
  assert.equal(serverSignature, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

test('scramSha256Verifier: non-ASCII passwords match PostgreSQL 15 (SASLprep)', async () => {
  // Salts and verifiers printed by libpq's PQencryptPasswordConn.
  const cases: Array<[string, string]> = [
    ['pässwörd', 'SCRAM-SHA-256$4096:uDZ+7efw/kVtiGdiCBwS0Q==$SRBmnaggCoZewbAqdABuBhIoaR3QC35jGMqJpRzTrKI=:c5R7HOn7s4OSlc8QuqASm0pKAyR25W7sIPIE2jcBv/0='],
    // Fullwidth letters: NFKC makes them "full".
    ['ｆｕｌｌ', 'SCRAM-SHA-256$4096:LM2oq+roZT/vqWxAWIsSsw==$qieKlDBnQQr6jy+V2dogN016BuKAHK3ga4aVgTZQjkk=:e2cma4EzifwCu/nmRoS3+0ukMoRW5UNgLC3pLUHt648='],
    // Zero-width space: PostgreSQL maps it to a space.
    ['a\u200Bb', 'SCRAM-SHA-256$4096:EXPGGLZ7RZuI9RxdUTyNng==$fUcXQvHKTwMj6Tgmpalqv8cJpMurXua5oL8UTUe1nck=:4voSMjQfYAa/cxeg8GRl6kKOowIO/aA+oBQZWWz8/nM='],
    // Soft hyphen: mapped to nothing.
    ['x\u00ADy', 'SCRAM-SHA-256$4096:m+0X036QuopinpzLDUTYcg==$9G+Kvn2nQEe14Y9hbUDLrTo9fLgWOdhlTkYgrnDOsMw=:UCLgCYtMMMmGltCSD0Ir/WilyamxuXdfnXa7Px9qFjg='],
    // Decomposed é: NFKC composes it.
    ['e\u0301', 'SCRAM-SHA-256$4096:pxmbC+SzMLdNxrs44PF2Wg==$1w1bOKFpnXqlBJBySTtFeb9vbfeGWd5FSWfBKRlI1hY=:PqQ9oaPKdrLgB3a3cmdFNesVl1lvUVmYefarqcsFTzo='],
  ];
  for (const [password, expected] of cases) {
    const { salt } = parseVerifier(expected);
    assert.equal(await scramSha256Verifier(password, { salt }), expected, JSON.stringify(password));
  }
  assert.equal(await scramSha256Verifier('ｆｕｌｌ', { salt: Buffer.alloc(16) }), await scramSha256Verifier('full', { salt: Buffer.alloc(16) }));
});

test('scramSha256Verifier: defaults are 4096 iterations and a fresh 16-byte salt', async () => {
  const a = parseVerifier(await scramSha256Verifier('foobar'));
  const b = parseVerifier(await scramSha256Verifier('foobar'));
  assert.equal(a.iterations, 4096);
  assert.equal(a.salt.length, 16);
  assert.equal(a.storedKey.length, SHA256_BYTES);
  assert.equal(a.serverKey.length, SHA256_BYTES);
  assert.notDeepEqual(a.salt, b.salt);
  assert.notDeepEqual(a.storedKey, b.storedKey);
});

test('scramSha256Verifier: other iteration counts and salts', async () => {
  const salt = Buffer.from('0123456789abcdef0123', 'utf8');
  for (const iterations of [1, 2, 10_000]) {
    assert.equal(await scramSha256Verifier('Abc-123_xyz', { iterations, salt }), expectedVerifier('Abc-123_xyz', salt, iterations));
  }
  const password = generatePassword();
  assert.equal(await scramSha256Verifier(password, { salt }), expectedVerifier(password, salt, 4096));
});

test('scramSha256Verifier: rejects an empty password and bad options', async () => {
  await assert.rejects(scramSha256Verifier(''), /empty password/);
  for (const iterations of [0, -1, 1.5, 2 ** 31]) {
    await assert.rejects(scramSha256Verifier('x', { iterations }), RangeError);
  }
  await assert.rejects(scramSha256Verifier('x', { salt: Buffer.alloc(0) }), RangeError);
});

test('scramSha256Verifier: hashing does not block the event loop', async () => {
  let ticks = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    ticks += 1;
    setImmediate(spin);
  };
  setImmediate(spin);
  await scramSha256Verifier('foobar', { iterations: 300_000 });
  done = true;
  assert.ok(ticks > 1, `the event loop turned ${ticks} times while hashing`);
});
