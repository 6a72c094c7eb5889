import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateFields } from '../../../src/framework';
import type { FieldSchemas } from '../../../src/framework';

const ROLE_FIELDS: FieldSchemas = {
  name: { type: 'name', description: 'Role name.', required: true },
  db_name: { type: 'string', description: 'Connection.', required: true },
  default_ttl: { type: 'duration', description: 'TTL.' },
};

test('unknown fields are rejected on writes, sorted, with the accepted ones', () => {
  const problems = validateFields(ROLE_FIELDS, { name: 'r', db_name: 'pg', foo: 1, bar: 2 }, { forWrite: true });
  assert.deepEqual(problems, ['unknown field(s): bar, foo (accepted: db_name, default_ttl, name)']);
});

test('unknown fields are ignored on reads', () => {
  assert.deepEqual(validateFields(ROLE_FIELDS, { name: 'r', foo: 1 }, { forWrite: false }), []);
});

test('a path without fields says so', () => {
  assert.deepEqual(validateFields({}, { x: 1 }, { forWrite: true }), ['unknown field(s): x (this path accepts no fields)']);
});

test('required fields are enforced only when asked', () => {
  assert.deepEqual(validateFields(ROLE_FIELDS, { name: 'r' }, { forWrite: true, requireFields: true }), [
    'field "db_name" is required',
  ]);
  assert.deepEqual(validateFields(ROLE_FIELDS, { name: 'r', db_name: null }, { forWrite: true, requireFields: true }), [
    'field "db_name" is required',
  ]);
  assert.deepEqual(validateFields(ROLE_FIELDS, { name: 'r' }, { forWrite: true }), []);
});

test('problems come in a stable order: conversions, required, unknown', () => {
  const problems = validateFields(
    ROLE_FIELDS,
    { name: 'r', default_ttl: 'soon', zzz: true },
    { forWrite: true, requireFields: true },
  );
  assert.equal(problems.length, 3);
  assert.match(problems[0] ?? '', /for field "default_ttl"/);
  assert.equal(problems[1], 'field "db_name" is required');
  assert.match(problems[2] ?? '', /^unknown field\(s\): zzz/);
});

test('inherited property names are unknown fields, not schema entries', () => {
  assert.deepEqual(validateFields(ROLE_FIELDS, { constructor: 'x' }, { forWrite: false }), []);
  assert.match(validateFields(ROLE_FIELDS, { constructor: 'x' }, { forWrite: true })[0] ?? '', /unknown field\(s\): constructor/);
});
