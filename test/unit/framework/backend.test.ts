import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, VaultError } from '../../../src/vault';
import type { Operation, Request, Response } from '../../../src/vault';
import { FrameworkBackend, genericNameRegex, matchAllRegex, optionalTrailingSlash } from '../../../src/framework';
import type { FieldData, Path } from '../../../src/framework';
import { testRequest } from '../../helpers/fakes';

/** A handler that echoes what it was given. */
function echo(label: string) {
  return async (req: Request, data: FieldData): Promise<Response> => ({
    data: { handler: label, operation: req.operation, name: data.get('name'), raw: { ...data.raw } },
  });
}

const ROLE_PATH: Path = {
  pattern: `roles/${genericNameRegex('name')}`,
  fields: {
    name: { type: 'name', description: 'Role name.' },
    db_name: { type: 'string', description: 'Connection to use.', required: true },
    default_ttl: { type: 'duration', description: 'Default lease TTL.', default: '1h' },
  },
  operations: {
    read: echo('role-read'),
    update: { callback: echo('role-update'), summary: 'Write a role.' },
    delete: echo('role-delete'),
  },
  helpSynopsis: 'Manage roles.',
  helpDescription: 'Roles decide what credentials look like.',
};

const ROLES_LIST_PATH: Path = {
  pattern: `roles${optionalTrailingSlash}`,
  operations: { list: async () => ({ data: { keys: ['a', 'b'] } }) },
  helpSynopsis: 'List roles.',
  helpDescription: 'Lists role names.',
};

const existing = new Set(['main']);
const CONFIG_PATH: Path = {
  pattern: `config/${genericNameRegex('name')}`,
  fields: { name: { type: 'string', description: 'Connection name.' }, url: { type: 'string', description: 'URL.' } },
  existenceCheck: async (_req, data) => existing.has(data.getString('name')),
  operations: { create: echo('config-create'), update: echo('config-update') },
  helpSynopsis: 'Configure connections.',
  helpDescription: 'Connections to the database.',
};

const FILES_PATH: Path = {
  pattern: `files/${matchAllRegex('rest')}`,
  fields: { rest: { type: 'string', description: 'Anything.' } },
  operations: { read: async (_req, data) => ({ data: { rest: data.getString('rest') } }) },
  helpSynopsis: 'Catch-all.',
  helpDescription: 'Catch-all.',
};

function backend(): FrameworkBackend {
  return new FrameworkBackend({
    help: 'The test backend.',
    paths: [ROLE_PATH, ROLES_LIST_PATH, CONFIG_PATH, FILES_PATH],
  });
}

function request(operation: Operation, path: string, data: Record<string, unknown> = {}): Request {
  return testRequest({ operation, path, data });
}

function isKind(kind: ErrorKind) {
  return (err: unknown): boolean => err instanceof VaultError && err.kind === kind;
}

test('routes by pattern and merges named captures into the field data', async () => {
  const resp = await backend().handleRequest(request('read', 'roles/my-role'));
  assert.deepEqual(resp?.data, { handler: 'role-read', operation: 'read', name: 'my-role', raw: { name: 'my-role' } });
});

test('captures win over body values with the same name', async () => {
  const resp = await backend().handleRequest(request('update', 'roles/x', { name: 'other', db_name: 'pg' }));
  assert.equal(resp?.data?.['name'], 'x');
});

test('matchAllRegex captures slashes', async () => {
  const resp = await backend().handleRequest(request('read', 'files/a/b/c'));
  assert.deepEqual(resp?.data, { rest: 'a/b/c' });
});

test('patterns are anchored at both ends', async () => {
  await assert.rejects(backend().handleRequest(request('read', 'xroles/a')), isKind(ErrorKind.UnsupportedPath));
  await assert.rejects(backend().handleRequest(request('read', 'roles/a/extra')), isKind(ErrorKind.UnsupportedPath));
});

test('list is routed with and without a trailing slash', async () => {
  for (const path of ['roles/', 'roles']) {
    const resp = await backend().handleRequest(request('list', path));
    assert.deepEqual(resp?.data, { keys: ['a', 'b'] });
  }
});

test('unknown path → UnsupportedPath (404)', async () => {
  await assert.rejects(backend().handleRequest(request('read', 'nope')), isKind(ErrorKind.UnsupportedPath));
});

test('operation the path does not define → UnsupportedOperation (405)', async () => {
  await assert.rejects(backend().handleRequest(request('list', 'roles/x')), isKind(ErrorKind.UnsupportedOperation));
  await assert.rejects(backend().handleRequest(request('patch', 'roles/x')), isKind(ErrorKind.UnsupportedOperation));
  await assert.rejects(
    backend().handleRequest(request('alias-lookahead', 'roles/x')),
    isKind(ErrorKind.UnsupportedOperation),
  );
});

test('create without a create handler runs update', async () => {
  const resp = await backend().handleRequest(request('create', 'roles/x', { db_name: 'pg' }));
  assert.equal(resp?.data?.['handler'], 'role-update');
  assert.equal(resp?.data?.['operation'], 'create');
});

test('create with its own handler runs it', async () => {
  const resp = await backend().handleRequest(request('create', 'config/new'));
  assert.equal(resp?.data?.['handler'], 'config-create');
});

test('unknown parameters on a write → InvalidRequest naming them', async () => {
  const err = await backend()
    .handleRequest(request('update', 'roles/x', { db_name: 'pg', default_tll: '1h', a: 1 }))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof VaultError);
  assert.equal(err.kind, ErrorKind.InvalidRequest);
  assert.equal(
    err.response?.data?.['error'],
    'Field validation failed: unknown field(s): a, default_tll (accepted: db_name, default_ttl, name)',
  );
});

test('unknown query parameters on a read are ignored', async () => {
  const resp = await backend().handleRequest(request('read', 'roles/x', { verbose: 'true' }));
  assert.equal(resp?.data?.['handler'], 'role-read');
});

test('bad values → InvalidRequest with the field validation message', async () => {
  await assert.rejects(
    backend().handleRequest(request('update', 'roles/x', { db_name: 'pg', default_ttl: 'xyz' })),
    (err: unknown) =>
      err instanceof VaultError &&
      err.kind === ErrorKind.InvalidRequest &&
      String(err.response?.data?.['error']).startsWith(
        'Field validation failed: error converting input "xyz" for field "default_ttl": ',
      ),
  );
});

test('required fields on update, not on read', async () => {
  await assert.rejects(
    backend().handleRequest(request('update', 'roles/x')),
    (err: unknown) =>
      err instanceof VaultError && err.response?.data?.['error'] === 'Field validation failed: field "db_name" is required',
  );
  const resp = await backend().handleRequest(request('read', 'roles/x'));
  assert.equal(resp?.data?.['handler'], 'role-read');
});

test('existence check: found / missing / absent / unknown path', async () => {
  const b = backend();
  assert.deepEqual(await b.handleExistenceCheck(request('update', 'config/main')), { checkFound: true, exists: true });
  assert.deepEqual(await b.handleExistenceCheck(request('create', 'config/other')), { checkFound: true, exists: false });
  assert.deepEqual(await b.handleExistenceCheck(request('update', 'roles/x')), { checkFound: false, exists: false });
  await assert.rejects(b.handleExistenceCheck(request('update', 'nope')), isKind(ErrorKind.UnsupportedPath));
});

test('existence check leaves unparsable values to the request (a 400 there, not a 500) and rejects other operations', async () => {
  const b = backend();
  assert.deepEqual(await b.handleExistenceCheck(request('update', 'config/main', { url: {} })), { checkFound: false, exists: false });
  await assert.rejects(b.handleRequest(request('update', 'config/main', { url: {} })), isKind(ErrorKind.InvalidRequest));
  await assert.rejects(b.handleExistenceCheck(request('read', 'config/main')), isKind(ErrorKind.Unknown));
});

test('root help lists every path with its synopsis and carries OpenAPI', async () => {
  const resp = await backend().handleRequest(request('help', ''));
  const help = String(resp?.data?.['help']);
  assert.match(help, /The test backend\./);
  for (const synopsis of ['Manage roles.', 'List roles.', 'Configure connections.', 'Catch-all.']) {
    assert.ok(help.includes(synopsis), synopsis);
  }
  assert.match(help, /\^roles\/\(\?<name>/);
  assert.equal(resp?.data?.['see_also'], null);
  const openapi = resp?.data?.['openapi'];
  assert.ok(typeof openapi === 'object' && openapi !== null && 'paths' in openapi);
  assert.ok(typeof openapi.paths === 'object' && openapi.paths !== null);
  assert.deepEqual(Object.keys(openapi.paths).sort(), ['/config/{name}', '/files/{rest}', '/roles/', '/roles/{name}']);
});

test('path help shows synopsis, description and fields with type and default', async () => {
  const resp = await backend().handleRequest(request('help', 'roles/abc'));
  const help = String(resp?.data?.['help']);
  assert.match(help, /^Request: {8}roles\/abc$/m);
  assert.match(help, /Manage roles\./);
  assert.match(help, /Roles decide what credentials look like\./);
  assert.match(help, / {4}db_name \(string, required\)\n {8}Connection to use\./);
  assert.match(help, / {4}default_ttl \(duration\)\n {8}Default lease TTL\.\n {8}Default: "1h"/);
  const openapi = resp?.data?.['openapi'];
  assert.ok(typeof openapi === 'object' && openapi !== null && 'paths' in openapi);
  assert.ok(typeof openapi.paths === 'object' && openapi.paths !== null);
  assert.deepEqual(Object.keys(openapi.paths), ['/roles/{name}']);
});

test('help for an unknown path → UnsupportedPath', async () => {
  await assert.rejects(backend().handleRequest(request('help', 'nope')), isKind(ErrorKind.UnsupportedPath));
});

test('OpenAPI info.version comes from the options, else from Vault', async () => {
  const withVersion = new FrameworkBackend({ help: '', paths: [ROLE_PATH], version: 'v9.9.9' });
  const versionOf = async (b: FrameworkBackend): Promise<unknown> => {
    const openapi = (await b.handleRequest(request('help', '')))?.data?.['openapi'];
    return typeof openapi === 'object' && openapi !== null && 'info' in openapi && typeof openapi.info === 'object'
      ? openapi.info
      : undefined;
  };
  assert.deepEqual((await versionOf(withVersion)) ?? {}, {
    title: 'HashiCorp Vault API',
    description: 'HTTP API that gives you full access to Vault. All API routes are prefixed with `/v1/`.',
    version: 'v9.9.9',
    license: { name: 'Mozilla Public License 2.0', url: 'https://www.mozilla.org/en-US/MPL/2.0' },
  });
  const info = await versionOf(backend());
  assert.ok(typeof info === 'object' && info !== null && 'version' in info);
  assert.equal(info.version, '1.17.0');
});

test('lifecycle hooks are passed through', async () => {
  const calls: string[] = [];
  const b = new FrameworkBackend({
    help: '',
    paths: [],
    initialize: async () => void calls.push('initialize'),
    invalidate: (key) => void calls.push(`invalidate ${key}`),
    clean: async () => void calls.push('clean'),
    specialPaths: { localStorage: ['wal/'] },
  });
  await b.initialize(testRequest().storage);
  b.invalidateKey('config/a');
  await b.cleanup();
  assert.deepEqual(calls, ['initialize', 'invalidate config/a', 'clean']);
  assert.deepEqual(b.specialPaths(), { localStorage: ['wal/'] });
  assert.deepEqual(new FrameworkBackend({ help: '', paths: [] }).specialPaths(), {});
});

const BAD_TABLES: ReadonlyArray<[string, Path, RegExp]> = [
  ['empty pattern', { ...ROLES_LIST_PATH, pattern: '' }, /must not be empty/],
  ['invalid regex', { ...ROLES_LIST_PATH, pattern: 'roles/(' }, /not a valid regular expression/],
  ['undeclared capture', { ...ROLES_LIST_PATH, pattern: `x/${genericNameRegex('who')}` }, /capture "who" is not declared/],
  [
    'invalid default',
    { ...ROLES_LIST_PATH, fields: { t: { type: 'duration', description: '', default: 'soon' } } },
    /default of field "t" is invalid/,
  ],
  [
    'existence check without create',
    { ...ROLES_LIST_PATH, existenceCheck: async () => true, operations: { update: echo('u') } },
    /must handle create/,
  ],
];

for (const [label, path, message] of BAD_TABLES) {
  test(`construction fails on ${label}`, () => {
    assert.throws(
      () => new FrameworkBackend({ help: '', paths: [path] }),
      (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.InternalError && message.test(err.message),
    );
  });
}

test('construction fails on duplicate secret types and a negative WAL age', () => {
  const revoke = async (): Promise<undefined> => undefined;
  assert.throws(
    () => new FrameworkBackend({ help: '', paths: [], secrets: [{ type: 'c', revoke }, { type: 'c', revoke }] }),
    /declared twice/,
  );
  assert.throws(() => new FrameworkBackend({ help: '', paths: [], walRollbackMinAge: -1 }), /non-negative/);
});

test('Go-style (?P<name>) captures work too', async () => {
  const b = new FrameworkBackend({
    help: '',
    paths: [
      {
        pattern: '^creds/(?P<name>\\w+)$',
        fields: { name: { type: 'string', description: '' } },
        operations: { read: async (_req, data) => ({ data: { name: data.getString('name') } }) },
        helpSynopsis: '',
        helpDescription: '',
      },
    ],
  });
  assert.deepEqual((await b.handleRequest(request('read', 'creds/ro')))?.data, { name: 'ro' });
});
