import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ClientConfig } from 'pg';
import { createLogger } from '../../../src/log';
import { postgresBackendFactory } from '../../../src/postgres';
import { clientConfig, hasLiteralUrlPassword, parseKeyValue, redactConnectionUrl } from '../../../src/postgres/connections/dsn';
import { roleAllowed, decodeConfig, encodeConfig } from '../../../src/postgres/connections/connection-config';
import { ErrorKind, VaultError, type Backend, type Operation } from '../../../src/vault';
import { InmemStorage, StaticSystemView, testRequest } from '../../helpers/fakes';

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

async function backendWith(verified: ClientConfig[] = []) {
  const storage = new InmemStorage();
  const systemView = new StaticSystemView();
  const backend: Backend = await postgresBackendFactory(silent, { verify: async (c) => void verified.push(c) })({
    config: {},
    backendUuid: 'u',
    storage,
    systemView,
  });
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
    backend.handleRequest(testRequest({ operation, path, data, storage, systemView }));
  return { backend, storage, call };
}

const URL_TEMPLATE = 'postgresql://{{username}}:{{password}}@db.example:5432/app?sslmode=require';

describe('postgres engine (no database)', () => {
  it('verifies with the templated credentials, URL-escaped, and never returns them', async () => {
    const verified: ClientConfig[] = [];
    const { call } = await backendWith(verified);
    await call('create', 'config/main', { connection_url: URL_TEMPLATE, username: 'va@ult', password: 'p:w/d?#' });
    assert.equal(verified.length, 1);
    assert.equal(verified[0]?.user, 'va@ult');
    assert.equal(verified[0]?.password, 'p:w/d?#');
    assert.equal(verified[0]?.host, 'db.example');
    const read = await call('read', 'config/main');
    const text = JSON.stringify(read);
    assert.equal(text.includes('p:w/d?#'), false);
    assert.equal((read?.data?.['connection_details'] as Record<string, unknown>)['connection_url'], URL_TEMPLATE);
  });

  it('refuses unknown fields, a missing connection_url and bad values, naming them', async () => {
    const { call } = await backendWith();
    await assert.rejects(call('create', 'config/x', { connection_url: URL_TEMPLATE, bogus: 1 }), (err: VaultError) =>
      err.kind === ErrorKind.InvalidRequest && /unknown field\(s\): bogus/.test(String(err.response?.data?.['error'])),
    );
    const missing = await call('create', 'config/x', { username: 'u' });
    assert.match(String(missing?.data?.['error']), /connection_url is required/);
    const auth = await call('create', 'config/x', { connection_url: URL_TEMPLATE, password_authentication: 'md5' });
    assert.match(String(auth?.data?.['error']), /password_authentication must be one of/);
    const template = await call('create', 'config/x', { connection_url: URL_TEMPLATE, username_template: '{{ nosuchfunc }}' });
    assert.match(String(template?.data?.['error']), /username_template is invalid/);
  });

  it('drops cached configs when Vault invalidates their key', async () => {
    const { backend, storage, call } = await backendWith();
    await call('create', 'config/main', { connection_url: URL_TEMPLATE, username: 'a', verify_connection: false });
    const before = await call('read', 'config/main');
    assert.equal((before?.data?.['connection_details'] as Record<string, unknown>)['username'], 'a');
    // Another node rewrites the entry.
    const entry = await storage.get('config/main');
    assert.ok(entry);
    const changed = { ...decodeConfig(entry.value), username: 'b' };
    await storage.put({ key: 'config/main', value: encodeConfig(changed) });
    const stale = await call('read', 'config/main');
    assert.equal((stale?.data?.['connection_details'] as Record<string, unknown>)['username'], 'a', 'cached until invalidated');
    backend.invalidateKey('config/main');
    const fresh = await call('read', 'config/main');
    assert.equal((fresh?.data?.['connection_details'] as Record<string, unknown>)['username'], 'b');
  });

  it('matches allowed_roles names and globs; empty allows none', () => {
    const config = (allowedRoles: string[]) => ({ ...decodeConfig(Buffer.from('{}')), allowedRoles });
    assert.equal(roleAllowed(config([]), 'app'), false);
    assert.equal(roleAllowed(config(['*']), 'app'), true);
    assert.equal(roleAllowed(config(['app-*']), 'app-read'), true);
    assert.equal(roleAllowed(config(['app-*']), 'other'), false);
    assert.equal(roleAllowed(config(['a.b']), 'axb'), false, 'dots are literal');
  });
});

describe('connection strings', () => {
  const target = { username: 'u', password: "it's", disableEscaping: false, tlsCa: '', tlsCertificate: '', privateKey: '' };

  it('parses libpq key=value pairs with quoting, filling templates after parsing', () => {
    assert.deepEqual([...parseKeyValue("host=h port=5433 dbname='my db' password='a\\'b'")], [
      ['host', 'h'],
      ['port', '5433'],
      ['dbname', 'my db'],
      ['password', "a'b"],
    ]);
    const cfg = clientConfig({ ...target, connectionUrl: 'host=h user={{username}} password={{password}} sslmode=disable' });
    assert.equal(cfg.user, 'u');
    assert.equal(cfg.password, "it's");
    assert.equal(cfg.ssl, false);
    assert.throws(() => clientConfig({ ...target, connectionUrl: 'host=h sslmode=sometimes' }), /unknown sslmode/);
  });

  it('tells a literal URL password (rotate-root would not change it) from the template', () => {
    assert.equal(hasLiteralUrlPassword('postgres://u:secret@h/db'), true);
    assert.equal(hasLiteralUrlPassword('postgres://u:@h/db'), true, 'an empty password is still not {{password}}');
    assert.equal(hasLiteralUrlPassword(URL_TEMPLATE), false);
    assert.equal(hasLiteralUrlPassword('postgres://u@h/db'), false);
    assert.equal(hasLiteralUrlPassword("host=h password='s'"), false, 'key=value strings have no URL userinfo');
  });

  it('never quotes the connection string in errors', () => {
    assert.throws(
      () => clientConfig({ ...target, connectionUrl: 'postgresql://u:supersecret@[bad/db' }),
      (err: Error) => !err.message.includes('supersecret'),
    );
  });

  it('redacts literal passwords but keeps templates', () => {
    assert.equal(redactConnectionUrl('postgres://u:secret@h/db'), 'postgres://u:*****@h/db');
    assert.equal(redactConnectionUrl(URL_TEMPLATE), URL_TEMPLATE);
    assert.equal(redactConnectionUrl('postgres://h/db?user=u&password=secret'), 'postgres://h/db?user=u&password=*****');
    assert.equal(redactConnectionUrl("host=h password='s e c' user=u"), 'host=h password=***** user=u');
  });
});
