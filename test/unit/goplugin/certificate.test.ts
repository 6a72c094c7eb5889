import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';

import { generateIdentity, type TlsIdentity } from '../../../src/goplugin/certificate.js';
import * as der from '../../../src/goplugin/der.js';

const HOUR_MS = 3_600_000;
const VALIDITY_HOURS = 262_980;
const CLOCK_SKEW_MS = 30_000;

const hex = (buf: Buffer): string => buf.toString('hex');
const bytes = (spaced: string): string => spaced.replaceAll(' ', '');

function openssl(args: string[], input?: string): string {
  const result = spawnSync('openssl', args, { input, encoding: 'utf8' });
  assert.equal(result.status, 0, `openssl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

// ---------------------------------------------------------------------------
// der.ts
// ---------------------------------------------------------------------------

test('der.integer: minimal, positive, 0x00 prefix when the high bit is set', () => {
  assert.equal(hex(der.integer(Buffer.from([0x7f]))), '02017f');
  assert.equal(hex(der.integer(Buffer.from([0x80]))), '02020080');
  assert.equal(hex(der.integer(Buffer.from([0x00, 0x00, 0x80]))), '02020080');
  assert.equal(hex(der.integer(Buffer.from([0x00, 0x00, 0x01]))), '020101');
  assert.equal(hex(der.integer(Buffer.from([0x00]))), '020100');
  assert.equal(hex(der.integer(Buffer.alloc(0))), '020100');
  assert.equal(hex(der.integer(Buffer.from([0xff, 0xff]))), '020300ffff');
  assert.equal(hex(der.smallInteger(2)), '020102');
  assert.equal(hex(der.smallInteger(0)), '020100');
  assert.equal(hex(der.smallInteger(256)), '02020100');
});

test('der lengths: short form below 128, long form at 128 and 256', () => {
  assert.equal(hex(der.encodeLength(0)), '00');
  assert.equal(hex(der.encodeLength(127)), '7f');
  assert.equal(hex(der.encodeLength(128)), '8180');
  assert.equal(hex(der.encodeLength(255)), '81ff');
  assert.equal(hex(der.encodeLength(256)), '820100');
  assert.equal(hex(der.encodeLength(65_535)), '82ffff');
  assert.equal(hex(der.encodeLength(65_536)), '83010000');
  assert.throws(() => der.encodeLength(-1), RangeError);

  const at128 = der.octetString(Buffer.alloc(128, 0xaa));
  assert.equal(hex(at128.subarray(0, 3)), '048180');
  assert.equal(at128.length, 3 + 128);

  const at300 = der.sequence(Buffer.alloc(300));
  assert.equal(hex(at300.subarray(0, 4)), '3082012c');
  assert.equal(at300.length, 4 + 300);
});

test('der.oid encodes arcs in base 128', () => {
  assert.equal(hex(der.oid('1.2.840.10045.2.1')), bytes('06 07 2a 86 48 ce 3d 02 01'));
  assert.equal(hex(der.oid('1.2.840.10045.4.3.2')), bytes('06 08 2a 86 48 ce 3d 04 03 02'));
  assert.equal(hex(der.oid('2.5.29.17')), bytes('06 03 55 1d 11'));
  assert.equal(hex(der.oid('1.3.6.1.5.5.7.3.1')), bytes('06 08 2b 06 01 05 05 07 03 01'));
  // Root arc 2 allows a second arc >= 40 (2.999 -> 40*2+999 = 1079).
  assert.equal(hex(der.oid('2.999.3')), bytes('06 03 88 37 03'));
  for (const bad of ['', '1', '1..2', '1.2.x', '3.1', '1.40', '-1.2']) {
    assert.throws(() => der.oid(bad), Error, bad);
  }
});

test('der time: UTCTime through 2049, GeneralizedTime from 2050 and before 1950', () => {
  const lastUtc = new Date('2049-12-31T23:59:59.999Z');
  const firstGeneralized = new Date('2050-01-01T00:00:00Z');
  assert.equal(hex(der.time(lastUtc)), hex(der.utcTime(lastUtc)));
  assert.equal(der.time(lastUtc).toString('latin1'), '\x17\x0d491231235959Z');
  assert.equal(der.time(firstGeneralized).toString('latin1'), '\x18\x0f20500101000000Z');
  assert.equal(der.time(new Date('1950-01-01T00:00:00Z')).toString('latin1'), '\x17\x0d500101000000Z');
  assert.equal(
    der.time(new Date('1949-12-31T23:59:59Z')).toString('latin1'),
    '\x18\x0f19491231235959Z',
  );
  assert.throws(() => der.utcTime(firstGeneralized), RangeError);
  assert.throws(() => der.time(new Date(Number.NaN)), RangeError);
});

test('der primitives: boolean, bit string, strings, context tags, set ordering', () => {
  assert.equal(hex(der.boolean(true)), '0101ff');
  assert.equal(hex(der.boolean(false)), '010100');
  assert.equal(hex(der.bitString(Buffer.from([0xab, 0xcd]))), '030300abcd');
  assert.equal(hex(der.bitString(Buffer.from([0xac]), 2)), '030202ac');
  assert.throws(() => der.bitString(Buffer.from([0]), 8), RangeError);
  assert.equal(hex(der.octetString(Buffer.from([1, 2]))), '04020102');
  assert.equal(hex(der.utf8String('é')), '0c02c3a9');
  assert.equal(hex(der.printableString('Hi')), '13024869');
  assert.throws(() => der.printableString('a@b'));
  assert.equal(hex(der.contextExplicit(0, der.smallInteger(2))), 'a003020102');
  assert.equal(hex(der.contextPrimitive(2, Buffer.from('a'))), '820161');
  assert.throws(() => der.contextExplicit(31, Buffer.alloc(0)), RangeError);
  // SET OF members are sorted by encoding, regardless of argument order.
  assert.equal(hex(der.set(der.smallInteger(2), der.smallInteger(1))), '3106020101020102');
  assert.equal(hex(der.sequence()), '3000');
});

// ---------------------------------------------------------------------------
// certificate.ts
// ---------------------------------------------------------------------------

test('generateIdentity produces a parseable, self-signed CA cert for localhost', () => {
  const identity = generateIdentity();
  const cert = new crypto.X509Certificate(identity.certPem);

  assert.equal(cert.subject, 'O=HashiCorp\nCN=localhost');
  assert.equal(cert.issuer, cert.subject);
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.equal(cert.checkHost('example.com'), undefined);
  assert.equal(cert.verify(cert.publicKey), true);
  assert.equal(cert.ca, true);
  assert.equal(cert.subjectAltName, 'DNS:localhost');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const serial = BigInt(`0x${cert.serialNumber}`);
  assert.ok(serial > 0n, 'serial must be positive');
  assert.ok(serial < 2n ** 127n, 'serial must fit 127 bits');
});

test('private key is PKCS#8 PEM matching the certificate', () => {
  const identity = generateIdentity();
  assert.match(identity.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const key = crypto.createPrivateKey(identity.keyPem);
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(new crypto.X509Certificate(identity.certPem).checkPrivateKey(key), true);
});

test('validity window is now-30s .. now+262980h', () => {
  const now = new Date('2031-03-04T05:06:07.890Z');
  const cert = new crypto.X509Certificate(generateIdentity(now).certPem);
  // DER times have whole seconds, so sub-second parts are truncated.
  const truncate = (ms: number): number => Math.floor(ms / 1000) * 1000;
  assert.equal(Date.parse(cert.validFrom), truncate(now.getTime() - CLOCK_SKEW_MS));
  assert.equal(Date.parse(cert.validTo), truncate(now.getTime() + VALIDITY_HOURS * HOUR_MS));

  // Default `now` is the wall clock.
  const before = Date.now();
  const live = new crypto.X509Certificate(generateIdentity().certPem);
  const after = Date.now();
  const from = Date.parse(live.validFrom);
  assert.ok(from >= truncate(before - CLOCK_SKEW_MS) && from <= after - CLOCK_SKEW_MS);
  const to = Date.parse(live.validTo);
  assert.ok(to >= truncate(before + VALIDITY_HOURS * HOUR_MS) && to <= after + VALIDITY_HOURS * HOUR_MS);
});

test('certDer is the PEM body, and PEM lines are 64 characters', () => {
  const identity = generateIdentity();
  const lines = identity.certPem.trimEnd().split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
  const body = lines.slice(1, -1);
  assert.ok(body.slice(0, -1).every((line) => line.length === 64));
  assert.ok((body.at(-1)?.length ?? 0) <= 64);
  assert.deepEqual(Buffer.from(body.join(''), 'base64'), identity.certDer);
  assert.deepEqual(new crypto.X509Certificate(identity.certPem).raw, identity.certDer);
});

test('openssl decodes the extensions go-plugin sets', () => {
  const text = openssl(['x509', '-noout', '-text'], generateIdentity().certPem);
  for (const expected of [
    'Version: 3 (0x2)',
    'TLS Web Server Authentication, TLS Web Client Authentication',
    'DNS:localhost',
    'CA:TRUE',
    'Digital Signature, Key Encipherment, Key Agreement, Certificate Sign',
    'ecdsa-with-SHA256',
    'Subject Key Identifier',
  ]) {
    assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
  }
  assert.match(text, /X509v3 Key Usage: critical/);
  assert.match(text, /X509v3 Basic Constraints: critical/);
});

test('openssl verifies the self-signed chain for server and client use', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'goplugin-cert-'));
  try {
    const file = path.join(dir, 'cert.pem');
    fs.writeFileSync(file, generateIdentity().certPem);
    assert.match(openssl(['verify', '-CAfile', file, file]), /: OK$/m);
    for (const purpose of ['sslserver', 'sslclient']) {
      assert.match(openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', file, file]), /: OK$/m);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('each call yields a fresh key and serial', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  assert.notEqual(a.keyPem, b.keyPem);
  const certA = new crypto.X509Certificate(a.certPem);
  const certB = new crypto.X509Certificate(b.certPem);
  assert.notEqual(certA.serialNumber, certB.serialNumber);
  assert.equal(certA.publicKey.equals(certB.publicKey), false);
});

test('generation is fast', (t) => {
  const runs = 20;
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) generateIdentity();
  const perCallMs = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  t.diagnostic(`generateIdentity: ${perCallMs.toFixed(2)} ms per call`);
  // Generous bound: a regression to e.g. RSA keygen would take far longer.
  assert.ok(perCallMs < 100, `${perCallMs} ms per call`);
});

// ---------------------------------------------------------------------------
// Mutual TLS loopback, the way Vault and the plugin pin each other's certs.
// ---------------------------------------------------------------------------

/** Fail fast instead of hanging the run if a handshake never completes. */
const TLS_TEST_OPTIONS = { timeout: 10_000 };

async function listen(server: tls.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** Closes the server and any connections it still holds, so no handle outlives the test. */
function track(server: tls.Server): () => void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
}

function startServer(identity: TlsIdentity, trustedClient: TlsIdentity): tls.Server {
  return tls.createServer({
    key: identity.keyPem,
    cert: identity.certPem,
    ca: [trustedClient.certPem],
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
  });
}

function connect(port: number, identity: TlsIdentity, trustedServer: TlsIdentity): tls.TLSSocket {
  return tls.connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    key: identity.keyPem,
    cert: identity.certPem,
    ca: [trustedServer.certPem],
    ALPNProtocols: ['h2'],
  });
}

test('mutual TLS succeeds between two generated identities', TLS_TEST_OPTIONS, async () => {
  const serverIdentity = generateIdentity();
  const clientIdentity = generateIdentity();
  const server = startServer(serverIdentity, clientIdentity);
  const shutdown = track(server);
  try {
    const port = await listen(server);
    const serverSide = once(server, 'secureConnection');
    const client = connect(port, clientIdentity, serverIdentity);
    try {
      await once(client, 'secureConnect');
      const [socket] = await serverSide;
      assert.ok(socket instanceof tls.TLSSocket);
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      assert.equal(client.authorized, true, String(client.authorizationError));
      assert.equal(socket.alpnProtocol, 'h2');
      assert.equal(client.alpnProtocol, 'h2');
      assert.deepEqual(socket.getPeerX509Certificate()?.raw, clientIdentity.certDer);
      assert.deepEqual(client.getPeerX509Certificate()?.raw, serverIdentity.certDer);
      socket.destroy();
    } finally {
      client.destroy();
    }
  } finally {
    shutdown();
  }
});

test('mutual TLS rejects a client certificate the server does not trust', TLS_TEST_OPTIONS, async () => {
  const serverIdentity = generateIdentity();
  const trustedClient = generateIdentity();
  const intruder = generateIdentity();
  const server = startServer(serverIdentity, trustedClient);
  const shutdown = track(server);
  let accepted = false;
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    accepted = true;
    socket.destroy();
  });
  try {
    const port = await listen(server);
    const serverError = once(server, 'tlsClientError');
    const client = connect(port, intruder, serverIdentity);
    // With TLS 1.3 the client may finish its side before the server's alert
    // arrives, so wait for the socket to close rather than for an error.
    const clientClosed = new Promise<void>((resolve) => {
      client.on('error', () => resolve());
      client.on('close', () => resolve());
    });
    try {
      const [error] = await serverError;
      assert.ok(error instanceof Error);
      await clientClosed;
      assert.equal(accepted, false);
    } finally {
      client.destroy();
    }
  } finally {
    shutdown();
  }
});

test('a client refuses a server whose certificate it does not trust', TLS_TEST_OPTIONS, async () => {
  const serverIdentity = generateIdentity();
  const clientIdentity = generateIdentity();
  const server = startServer(serverIdentity, clientIdentity);
  const shutdown = track(server);
  server.on('tlsClientError', () => {
    // Expected: the client aborts the handshake.
  });
  try {
    const port = await listen(server);
    const client = connect(port, clientIdentity, generateIdentity());
    try {
      const [error] = await once(client, 'error');
      assert.ok(error instanceof Error);
      assert.match(String('code' in error ? error.code : ''), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    } finally {
      client.destroy();
    }
  } finally {
    shutdown();
  }
});
