import { test } from 'node:test';
import assert from 'node:assert/strict';
import { genericNameRegex, openApiDocument, optionalTrailingSlash } from '../../../src/framework';
import type { OasSchema, OpenApiDocument, Path } from '../../../src/framework';

const noop = async (): Promise<undefined> => undefined;

const PATHS: Path[] = [
  {
    pattern: `roles/${genericNameRegex('name')}`,
    fields: {
      name: { type: 'name', description: 'Role name.' },
      db_name: { type: 'string', description: '  The   connection. ', required: true },
      default_ttl: { type: 'duration', description: 'TTL.', default: '1h' },
      max_open: { type: 'int', description: 'Max.', default: 4 },
      verify: { type: 'bool', description: 'Verify.', default: true },
      allowed: { type: 'comma-string-slice', description: 'Allowed.' },
      statements: { type: 'string-slice', description: 'SQL.' },
      config: { type: 'map', description: 'Extra.' },
      password: { type: 'string', description: 'Secret.', sensitive: true, default: 'nope', displayName: 'Password' },
    },
    existenceCheck: async () => false,
    operations: {
      create: noop,
      update: { callback: noop, summary: 'Write a role.', description: 'Longer.' },
      patch: noop,
      read: noop,
      delete: noop,
    },
    helpSynopsis: 'Manage roles.',
    helpDescription: 'Roles.',
  },
  {
    pattern: `roles${optionalTrailingSlash}`,
    operations: { list: { callback: noop, summary: 'List roles.' } },
    helpSynopsis: 'List roles.',
    helpDescription: 'Lists.',
  },
  {
    pattern: `^rotate-root/${genericNameRegex('name')}$`,
    fields: { name: { type: 'string', description: 'Connection.' } },
    operations: { update: noop },
    helpSynopsis: 'Rotate.',
    helpDescription: 'Rotates.',
  },
  {
    pattern: `issuer/${genericNameRegex('ref')}/crl(/pem|/der)?`,
    fields: { ref: { type: 'string', description: '' } },
    operations: { read: noop },
    helpSynopsis: 'CRL.',
    helpDescription: '',
  },
  { pattern: '.*', operations: { read: noop }, helpSynopsis: 'Catch-all.', helpDescription: '' },
];

function doc(): OpenApiDocument {
  return openApiDocument(PATHS, { version: '1.2.3', specialPaths: { root: ['rotate-root/*'] } });
}

/** Every object in the document, for structural checks. */
function* walk(value: unknown, at = '$'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* walk(item, `${at}[${i}]`);
  } else if (typeof value === 'object' && value !== null) {
    const record: Record<string, unknown> = { ...value };
    yield [at, record];
    for (const [key, item] of Object.entries(record)) yield* walk(item, `${at}.${key}`);
  }
}

test('paths: named captures become {params}, optional parts expand, list gets a trailing slash', () => {
  assert.deepEqual(Object.keys(doc().paths).sort(), [
    '/issuer/{ref}/crl',
    '/issuer/{ref}/crl/der',
    '/issuer/{ref}/crl/pem',
    '/roles/',
    '/roles/{name}',
    '/rotate-root/{name}',
  ]);
});

test('document header is what Vault expects', () => {
  const d = doc();
  assert.equal(d.openapi, '3.0.2');
  assert.equal(d.info.version, '1.2.3');
  assert.deepEqual(d.components, { schemas: {} });
});

test('methods: read → get, create/update → post, delete → delete, no patch', () => {
  const item = doc().paths['/roles/{name}'];
  assert.ok(item !== undefined);
  assert.deepEqual(Object.keys(item).filter((k) => ['get', 'post', 'delete', 'patch', 'put'].includes(k)).sort(), [
    'delete',
    'get',
    'post',
  ]);
  assert.equal(item['x-vault-createSupported'], true);
  assert.equal(item.post?.summary, 'Write a role.');
  assert.equal(item.post?.description, 'Longer.');
  assert.deepEqual(item.delete?.responses, { '204': { description: 'empty body' } });
  assert.deepEqual(item.get?.responses, { '200': { description: 'OK' } });
  assert.deepEqual(item.parameters, [
    {
      name: 'name',
      description: 'Role name.',
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '\\w([\\w.-]*\\w)?' },
    },
  ]);
});

test('list is a get with the list query parameter', () => {
  const item = doc().paths['/roles/'];
  assert.deepEqual(item?.get?.parameters, [
    { name: 'list', description: 'Must be set to `true`', in: 'query', required: true, schema: { type: 'string', enum: ['true'] } },
  ]);
  assert.equal(item?.get?.summary, 'List roles.');
  assert.equal(item?.post, undefined);
});

test('request body: inline schema with typed properties and required list', () => {
  const body = doc().paths['/roles/{name}']?.post?.requestBody;
  assert.equal(body?.required, true);
  const schema = body?.content['application/json']?.schema;
  assert.ok(schema !== undefined);
  assert.equal(schema.type, 'object');
  assert.deepEqual(schema.required, ['db_name']);
  const props: Record<string, OasSchema> = schema.properties ?? {};
  assert.deepEqual(Object.keys(props), [
    'allowed',
    'config',
    'db_name',
    'default_ttl',
    'max_open',
    'password',
    'statements',
    'verify',
  ]);
  assert.deepEqual(props['db_name'], { type: 'string', description: 'The connection.' });
  assert.deepEqual(props['default_ttl'], { type: 'string', description: 'TTL.', format: 'duration', default: '1h' });
  assert.deepEqual(props['max_open'], { type: 'integer', description: 'Max.', default: 4 });
  assert.deepEqual(props['verify'], { type: 'boolean', description: 'Verify.', default: true });
  assert.deepEqual(props['allowed'], { type: 'array', description: 'Allowed.', items: { type: 'string' } });
  assert.deepEqual(props['statements'], { type: 'array', description: 'SQL.', items: { type: 'string' } });
  assert.deepEqual(props['config'], { type: 'object', description: 'Extra.', format: 'map' });
});

test('sensitive fields are marked and their default is not published', () => {
  const props = doc().paths['/roles/{name}']?.post?.requestBody?.content['application/json']?.schema.properties;
  assert.deepEqual(props?.['password'], {
    type: 'string',
    description: 'Secret.',
    format: 'password',
    'x-vault-displaySensitive': true,
    'x-vault-displayAttrs': { name: 'Password', sensitive: true },
  });
});

test('special paths set x-vault-sudo', () => {
  assert.equal(doc().paths['/rotate-root/{name}']?.['x-vault-sudo'], true);
  assert.equal(doc().paths['/roles/{name}']?.['x-vault-sudo'], undefined);
});

test('decodable by Vault: no $ref, no additionalProperties, status-code response keys, JSON round trip', () => {
  const d = doc();
  for (const [at, record] of walk(d)) {
    assert.ok(!('$ref' in record), `$ref at ${at}`);
    assert.ok(!('additionalProperties' in record), `additionalProperties at ${at}`);
    assert.ok(!('patch' in record && at.split('.').length === 3), `patch method at ${at}`);
    if (at.endsWith('.responses')) {
      for (const key of Object.keys(record)) assert.match(key, /^[1-5]\d\d$/, `response key ${key} at ${at}`);
    }
    for (const [key, value] of Object.entries(record)) {
      assert.notEqual(value, undefined, `undefined member ${key} at ${at}`);
      if (typeof value === 'number') assert.ok(Number.isFinite(value));
    }
  }
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
});

test('patterns with no OpenAPI form are left out rather than mangled', () => {
  const d = openApiDocument(
    [{ pattern: 'x/[a-z]+', operations: { read: noop }, helpSynopsis: '', helpDescription: '' }],
    { version: '' },
  );
  assert.deepEqual(d.paths, {});
});
