/**
 * sslmode as libpq defines it, in both connection-string forms, without a
 * database: which `ssl` settings node-postgres gets (and which one allow and
 * prefer retry with), what the TLS fields and parameters add, and the
 * sentences that refuse what cannot work. test/integration/sslmode.test.ts
 * shows the same against real servers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import { clientConfig, unusedTlsWarnings, type ConnectionTarget } from '../../../../src/postgres/connections/dsn';
import type { SslSetting } from '../../../../src/postgres/connections/sslmode';

/** A CA and a client certificate with key, made once with openssl. */
interface Material {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  otherKey: string;
}

function makeMaterial(): Material {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslmode-unit-'));
  const run = (args: string[]) => {
    const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=unit CA']);
  run(['req', '-x509', '-new', ...ec, '-keyout', 'client.key', '-out', 'client.crt', '-days', '1', '-subj', '/CN=app']);
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key']);
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
  return { dir, ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key'), otherKey: read('other.key') };
}

const NONE: Omit<ConnectionTarget, 'connectionUrl'> = {
  username: 'vault',
  password: 's3cret&sslmode=disable',
  disableEscaping: false,
  tlsCa: '',
  tlsCertificate: '',
  privateKey: '',
};

/** The same settings as a URL and as key/value pairs. */
function forms(params: Record<string, string>, host = 'db.example'): { url: string; keyValue: string } {
  const query = new URLSearchParams(params).toString();
  const pairs = Object.entries(params).map(([k, v]) => `${k}='${v}'`);
  return {
    url: `postgresql://{{username}}:{{password}}@${host}:5432/app${query ? `?${query}` : ''}`,
    keyValue: [`host=${host}`, 'port=5432', 'dbname=app', 'user={{username}}', 'password={{password}}', ...pairs].join(' '),
  };
}

/** What a test compares: plaintext, or which checks a TLS attempt makes and what it sends. */
function describeSsl(ssl: SslSetting | boolean | undefined): string {
  if (ssl === false || ssl === undefined) return 'plain';
  if (ssl === true) return 'tls(pg default)';
  const o: ConnectionOptions = ssl;
  const checks = o.rejectUnauthorized === false ? 'no-check' : o.checkServerIdentity !== undefined ? 'chain' : 'chain+host';
  const ca = o.ca === undefined ? '' : '+ca';
  const cert = o.cert === undefined ? '' : '+cert';
  return `tls(${checks}${ca}${cert})`;
}

/** `ssl` of the first attempt, then of the fallback, in both forms (which must agree). */
function plan(params: Record<string, string>, extra: Partial<ConnectionTarget> = {}, host?: string): string {
  const { url, keyValue } = forms(params, host);
  const [a, b] = [url, keyValue].map((connectionUrl) => {
    const cfg = clientConfig({ ...NONE, ...extra, connectionUrl });
    return cfg.fallbackSsl === undefined ? describeSsl(cfg.ssl) : `${describeSsl(cfg.ssl)} then ${describeSsl(cfg.fallbackSsl)}`;
  });
  assert.equal(a, b, `URL and key/value forms agree for ${JSON.stringify(params)}`);
  return a ?? '';
}

/** The error message for `params`, the same in both forms. */
function refusal(params: Record<string, string>, extra: Partial<ConnectionTarget> = {}): string {
  const { url, keyValue } = forms(params);
  const [a, b] = [url, keyValue].map((connectionUrl) => {
    try {
      clientConfig({ ...NONE, ...extra, connectionUrl }, { checkTlsMaterial: true });
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return 'accepted';
  });
  assert.equal(a, b);
  return a ?? '';
}

describe('sslmode (libpq semantics, both DSN forms)', () => {
  let m: Material;
  before(() => {
    m = makeMaterial();
  });
  after(() => fs.rmSync(m.dir, { recursive: true, force: true }));

  it('maps each mode without TLS material as libpq does; no sslmode is prefer', () => {
    assert.equal(plan({ sslmode: 'disable' }), 'plain');
    assert.equal(plan({ sslmode: 'allow' }), 'plain then tls(no-check)');
    assert.equal(plan({ sslmode: 'prefer' }), 'tls(no-check) then plain');
    assert.equal(plan({}), 'tls(no-check) then plain', 'libpq default');
    assert.equal(plan({ sslmode: 'require' }), 'tls(no-check)', 'require does not check the certificate');
    assert.equal(plan({ sslmode: 'verify-full' }), 'tls(chain+host)', "Node's CAs");
    assert.match(refusal({ sslmode: 'verify-ca' }), /^sslmode=verify-ca needs the CA to check the server certificate against: set tls_ca/);
    assert.equal(refusal({ sslmode: 'sometimes' }), 'connection_url: unknown sslmode "sometimes"; use one of disable, allow, prefer, require, verify-ca, verify-full');
  });

  it('combines tls_ca with each mode: require checks the chain (verify-ca), allow/prefer ignore it, no sslmode means verify-full', () => {
    const ca = { tlsCa: m.ca };
    assert.equal(plan({ sslmode: 'disable' }, ca), 'plain');
    assert.equal(plan({ sslmode: 'allow' }, ca), 'plain then tls(no-check)');
    assert.equal(plan({ sslmode: 'prefer' }, ca), 'tls(no-check) then plain');
    assert.equal(plan({ sslmode: 'require' }, ca), 'tls(chain+ca)');
    assert.equal(plan({ sslmode: 'verify-ca' }, ca), 'tls(chain+ca)');
    assert.equal(plan({ sslmode: 'verify-full' }, ca), 'tls(chain+host+ca)');
    assert.equal(plan({}, ca), 'tls(chain+host+ca)');
    assert.equal(plan({ sslmode: 'no-verify' }, ca), 'tls(no-check)', "node-postgres' no-verify never checks");
  });

  it('sends tls_certificate/private_key whenever TLS is used', () => {
    const cert = { tlsCertificate: m.cert, privateKey: m.key };
    assert.equal(plan({ sslmode: 'disable' }, cert), 'plain');
    assert.equal(plan({ sslmode: 'allow' }, cert), 'plain then tls(no-check+cert)');
    assert.equal(plan({ sslmode: 'prefer' }, cert), 'tls(no-check+cert) then plain');
    assert.equal(plan({ sslmode: 'require' }, cert), 'tls(no-check+cert)');
    assert.equal(plan({ sslmode: 'verify-ca' }, { ...cert, tlsCa: m.ca }), 'tls(chain+ca+cert)');
    assert.equal(plan({ sslmode: 'verify-full' }, { ...cert, tlsCa: m.ca }), 'tls(chain+host+ca+cert)');
  });

  it('reads sslrootcert, sslcert and sslkey from files, like the fields; sslrootcert=system is verify-full only', () => {
    const files = { sslrootcert: path.join(m.dir, 'ca.crt'), sslcert: path.join(m.dir, 'client.crt'), sslkey: path.join(m.dir, 'client.key') };
    assert.equal(plan({ sslmode: 'require', ...files }), 'tls(chain+ca+cert)');
    assert.equal(plan({ sslmode: 'verify-ca', sslrootcert: files.sslrootcert }), 'tls(chain+ca)');
    assert.equal(plan({ sslrootcert: files.sslrootcert }), 'tls(chain+host+ca)');
    assert.equal(plan({ sslmode: 'verify-full', sslrootcert: 'system' }), 'tls(chain+host)');
    assert.equal(plan({ sslrootcert: 'system' }), 'tls(chain+host)');
    assert.equal(refusal({ sslmode: 'require', sslrootcert: 'system' }), 'connection_url: sslrootcert=system needs sslmode=verify-full (got require), as in libpq');
    assert.equal(refusal({ sslmode: 'require', sslrootcert: '/nonexistent/root.crt' }), 'connection_url: cannot read the sslrootcert file "/nonexistent/root.crt" (ENOENT)');
    assert.equal(refusal({ sslmode: 'require', sslcert: files.sslcert }), 'connection_url: sslcert and sslkey must be given together');
    assert.equal(refusal({ sslrootcert: files.sslrootcert }, { tlsCa: m.ca }), 'give the CA either as tls_ca or as sslrootcert in connection_url, not both');
    assert.equal(
      refusal({ sslcert: files.sslcert, sslkey: files.sslkey }, { tlsCertificate: m.cert, privateKey: m.key }),
      'give the client certificate either as tls_certificate and private_key or as sslcert and sslkey in connection_url, not both',
    );
  });

  it('refuses unusable certificates and keys in words that never quote them', () => {
    const mismatch = refusal({ sslmode: 'require' }, { tlsCertificate: m.cert, privateKey: m.otherKey });
    assert.equal(mismatch, 'the client certificate and key (tls_certificate and private_key, or sslcert and sslkey) cannot be used: key values mismatch');
    const notPem = refusal({ sslmode: 'verify-full' }, { tlsCa: 'not a certificate' });
    assert.equal(notPem, 'the CA (tls_ca or sslrootcert) contains no PEM certificate');
    const broken = refusal({ sslmode: 'verify-full' }, { tlsCa: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
    assert.equal(broken, 'the CA (tls_ca or sslrootcert) cannot be read: wrong tag');
    const keyBody = m.otherKey.split('\n')[1] ?? '';
    for (const text of [mismatch, notPem, broken]) assert.equal(text.includes(keyBody), false);
    assert.equal(refusal({ sslmode: 'require' }, { tlsCertificate: m.cert }), 'the client certificate and its private key must be given together (tls_certificate with private_key, or sslcert with sslkey)');
  });

  it("keeps node-postgres' URL ssl=true (verify-full) and ssl=false, and lets no credential inject a TLS parameter", () => {
    assert.equal(describeSsl(clientConfig({ ...NONE, connectionUrl: 'postgresql://u@h/db?ssl=true' }).ssl), 'tls(chain+host)');
    assert.equal(clientConfig({ ...NONE, connectionUrl: 'postgresql://u@h/db?ssl=0' }).ssl, false);
    // The password ends in "&sslmode=disable": verbatim (disable_escaping) it
    // must still not turn off TLS, and URL-escaped it stays the password.
    for (const disableEscaping of [true, false]) {
      const cfg = clientConfig({ ...NONE, disableEscaping, connectionUrl: 'postgresql://{{username}}:{{password}}@h/db?sslmode=require' });
      assert.equal(describeSsl(cfg.ssl), 'tls(no-check)', `disable_escaping=${disableEscaping}`);
    }
    const kv = clientConfig({ ...NONE, connectionUrl: "host=h password={{password}} sslmode=require" });
    assert.equal(kv.password, NONE.password);
    assert.equal(describeSsl(kv.ssl), 'tls(no-check)');
  });

  it('never uses TLS over a Unix-domain socket, as libpq and pgx', () => {
    assert.equal(describeSsl(clientConfig({ ...NONE, connectionUrl: 'host=/var/run/postgresql dbname=app sslmode=require' }).ssl), 'plain');
    assert.equal(describeSsl(clientConfig({ ...NONE, connectionUrl: 'postgresql:///app?host=%2Fvar%2Frun%2Fpostgresql&sslmode=verify-full' }).ssl), 'plain');
  });

  it('keeps the private key out of enumeration (logs, inspection)', () => {
    const cfg = clientConfig({ ...NONE, tlsCertificate: m.cert, privateKey: m.key, connectionUrl: forms({ sslmode: 'require' }).url });
    assert.ok(typeof cfg.ssl === 'object');
    assert.equal(cfg.ssl.key, m.key);
    assert.equal(JSON.stringify(cfg).includes('PRIVATE KEY'), false);
  });

  it('warns about TLS settings the mode does not use', () => {
    const warn = (params: Record<string, string>, extra: Partial<ConnectionTarget>) =>
      unusedTlsWarnings({ ...NONE, ...extra, connectionUrl: forms(params).url });
    assert.deepEqual(warn({ sslmode: 'prefer' }, { tlsCa: m.ca }), [
      'sslmode=prefer never checks the server certificate, so the CA (tls_ca or sslrootcert) is not used; use sslmode=verify-full (or verify-ca) to check the server against it',
    ]);
    assert.deepEqual(warn({ sslmode: 'disable' }, { tlsCertificate: m.cert, privateKey: m.key }), [
      'sslmode=disable: the connection is not encrypted, so tls_ca, tls_certificate and private_key are not used',
    ]);
    assert.deepEqual(warn({ sslmode: 'require' }, { tlsCa: m.ca, tlsCertificate: m.cert, privateKey: m.key }), []);
    assert.deepEqual(warn({}, { tlsCa: m.ca }), []);
  });
});
