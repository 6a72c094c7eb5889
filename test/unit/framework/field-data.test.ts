import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorKind, VaultError } from '../../../src/vault';
import { FieldData, validateFields } from '../../../src/framework';
import type { FieldSchemas, FieldType } from '../../../src/framework';

function schemaOf(type: FieldType): FieldSchemas {
  return { f: { type, description: 'test field' } };
}

/** Parses `input` as one field of `type` the way a handler would see it. */
function parse(type: FieldType, input: unknown): unknown {
  const schema = schemaOf(type);
  assert.deepEqual(validateFields(schema, { f: input }, { forWrite: true }), [], `input ${String(input)} should be accepted`);
  return new FieldData({ f: input }, schema).get('f');
}

const ACCEPTED: ReadonlyArray<[FieldType, unknown, unknown]> = [
  ['string', 'abc', 'abc'],
  ['string', '', ''],
  ['string', 42, '42'],
  ['string', true, '1'],
  ['lowercase-string', 'MiXeD', 'mixed'],
  ['name', 'my-role.v2', 'my-role.v2'],
  ['name', 'a', 'a'],
  ['int', 5, 5],
  ['int', -3, -3],
  ['int', '42', 42],
  ['int', '-7', -7],
  ['int', '', 0],
  ['int', 10n, 10],
  ['bool', true, true],
  ['bool', false, false],
  ['bool', 'true', true],
  ['bool', 'false', false],
  ['bool', '1', true],
  ['bool', '0', false],
  ['bool', 't', true],
  ['bool', 'f', false],
  ['bool', 'TRUE', true],
  ['bool', 1, true],
  ['bool', 0, false],
  ['duration', 300, 300],
  ['duration', '300', 300],
  ['duration', '1h30m', 5400],
  ['duration', '90s', 90],
  ['duration', '1.5h', 5400],
  ['duration', '2.3h', 8280],
  ['duration', '500ms', 0],
  ['duration', '1d', 86400],
  ['duration', '2d', 172800],
  ['duration', '1d12h', 129600],
  ['duration', '0', 0],
  ['duration', '0s', 0],
  ['duration', '', 0],
  ['duration', 1.9, 1],
  ['comma-string-slice', 'a,b', ['a', 'b']],
  ['comma-string-slice', ' a , b ,, ', ['a', 'b']],
  ['comma-string-slice', '', []],
  ['comma-string-slice', ['a', ' b '], ['a', 'b']],
  ['comma-string-slice', '["x","y"]', ['x', 'y']],
  ['string-slice', ['a', 'b'], ['a', 'b']],
  ['string-slice', 'one, string', ['one, string']],
  ['string-slice', '["a","b"]', ['a', 'b']],
  ['string-slice', '', []],
  ['string-slice', [' x '], ['x']],
  ['map', { a: 1 }, { a: 1 }],
  ['map', '{"a":"b"}', { a: 'b' }],
  ['map', [], {}],
];

for (const [type, input, expected] of ACCEPTED) {
  test(`${type} accepts ${JSON.stringify(String(input))} (${typeof input})`, () => {
    assert.deepEqual(parse(type, input), expected);
  });
}

const REJECTED: ReadonlyArray<[FieldType, unknown, RegExp]> = [
  ['string', { a: 1 }, /expected a string, got an object/],
  ['string', ['a'], /expected a string, got an array/],
  ['name', 'bad name', /not a valid name/],
  ['name', '-leading', /not a valid name/],
  ['name', 'trailing.', /not a valid name/],
  ['int', 1.5, /expected an integer/],
  ['int', 'abc', /expected an integer/],
  ['int', '1.5', /expected an integer/],
  ['int', true, /expected an integer, got a boolean/],
  ['int', '99999999999999999999', /out of range/],
  ['bool', 'yes', /expected a boolean/],
  ['bool', [true], /expected a boolean, got an array/],
  ['duration', '-5s', /negative/],
  ['duration', -5, /negative/],
  ['duration', '-5', /negative/],
  ['duration', 'abc', /expected a duration/],
  ['duration', '5x', /expected a duration/],
  ['duration', 'h', /expected a duration/],
  ['duration', '1h 30m', /expected a duration/],
  ['duration', {}, /expected a duration, got an object/],
  ['comma-string-slice', { a: 1 }, /expected a list of strings/],
  ['comma-string-slice', [{}], /element 0: expected a string/],
  ['string-slice', ['a', ['b']], /element 1: expected a string, got an array/],
  ['map', 'not json', /expected a JSON object/],
  ['map', '[1]', /expected a JSON object/],
  ['map', 5, /expected an object, got a number/],
];

for (const [type, input, reason] of REJECTED) {
  test(`${type} rejects ${JSON.stringify(String(input))} (${typeof input}) naming the field`, () => {
    const problems = validateFields({ some_field: { type, description: '' } }, { some_field: input }, { forWrite: true });
    assert.equal(problems.length, 1);
    const [problem] = problems;
    assert.match(problem ?? '', /^error converting input .* for field "some_field": /);
    assert.match(problem ?? '', reason);
  });
}

test('conversion error quotes the input', () => {
  const problems = validateFields({ default_ttl: { type: 'duration', description: '' } }, { default_ttl: 'xyz' }, {
    forWrite: true,
  });
  assert.deepEqual(problems, [
    'error converting input "xyz" for field "default_ttl": expected a duration: seconds ("300") or a Go duration ("90s", "1h30m", "2d")',
  ]);
});

test('conversion error never quotes a sensitive value', () => {
  const schema: FieldSchemas = { password: { type: 'int', description: '', sensitive: true } };
  const problems = validateFields(schema, { password: 'hunter2' }, { forWrite: true });
  assert.equal(problems.length, 1);
  assert.ok(!(problems[0] ?? '').includes('hunter2'));
  assert.match(problems[0] ?? '', /^error converting input for field "password": /);
});

test('get returns default, then zero value, when unset or null', () => {
  const schema: FieldSchemas = {
    ttl: { type: 'duration', description: '', default: '1h' },
    roles: { type: 'comma-string-slice', description: '', default: ['a'] },
    plain: { type: 'string', description: '' },
    count: { type: 'int', description: '' },
    flag: { type: 'bool', description: '' },
    list: { type: 'string-slice', description: '' },
    obj: { type: 'map', description: '' },
  };
  const data = new FieldData({ plain: null }, schema);
  assert.equal(data.getDuration('ttl'), 3600);
  assert.deepEqual(data.getStringSlice('roles'), ['a']);
  assert.equal(data.getString('plain'), '');
  assert.equal(data.getInt('count'), 0);
  assert.equal(data.getBool('flag'), false);
  assert.deepEqual(data.getStringSlice('list'), []);
  assert.deepEqual(data.getMap('obj'), {});
});

test('getOk tells whether the request set the field', () => {
  const schema: FieldSchemas = {
    set: { type: 'int', description: '', default: 7 },
    unset: { type: 'int', description: '', default: 7 },
  };
  const data = new FieldData({ set: '3' }, schema);
  assert.deepEqual(data.getOk('set'), { value: 3, ok: true });
  assert.deepEqual(data.getOk('unset'), { value: 7, ok: false });
});

test('raw keeps the request values unparsed', () => {
  const data = new FieldData({ n: '5', extra: 'x' }, { n: { type: 'int', description: '' } });
  assert.deepEqual(data.raw, { n: '5', extra: 'x' });
});

test('typed getters refuse fields of another type', () => {
  const data = new FieldData({ n: 5 }, { n: { type: 'int', description: '' }, d: { type: 'duration', description: '' } });
  assert.throws(() => data.getString('n'), (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.InternalError);
  assert.throws(() => data.getInt('d'), /has type duration; getInt cannot read it/);
  assert.throws(() => data.getDuration('n'), /has type int/);
});

test('reading an undeclared field is an internal error', () => {
  const data = new FieldData({ toString: 'x' }, {});
  assert.throws(() => data.get('toString'), (err: unknown) => err instanceof VaultError && err.kind === ErrorKind.InternalError);
});

test('get on an unvalidated bad value answers like validation', () => {
  const data = new FieldData({ n: 'abc' }, { n: { type: 'int', description: '' } });
  assert.throws(
    () => data.get('n'),
    (err: unknown) =>
      err instanceof VaultError &&
      err.kind === ErrorKind.InvalidRequest &&
      /Field validation failed: error converting input "abc" for field "n"/.test(String(err.response?.data?.['error'])),
  );
});
