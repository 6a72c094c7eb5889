import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTransientConflict, MAX_ATTEMPTS, withConflictRetry } from '../../../../src/postgres/sql/retry';

/** An error shaped like node-postgres' DatabaseError. */
function dbError(code: string, fields: { schema?: string; table?: string; constraint?: string } = {}): Error {
  return Object.assign(new Error(`error ${code}`), { code, ...fields });
}

describe('transient conflicts', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['tuple concurrently updated (XX000)', dbError('XX000'), true],
    ['serialization failure (40001)', dbError('40001'), true],
    ['deadlock (40P01)', dbError('40P01'), true],
    ['a group role created concurrently (23505 on pg_authid_rolname_index)', dbError('23505', { schema: 'pg_catalog', table: 'pg_authid', constraint: 'pg_authid_rolname_index' }), true],
    ['a schema created concurrently (23505 on pg_namespace_nspname_index)', dbError('23505', { schema: 'pg_catalog', table: 'pg_namespace', constraint: 'pg_namespace_nspname_index' }), true],
    ['a table created concurrently (23505 on pg_type_typname_nsp_index)', dbError('23505', { schema: 'pg_catalog', table: 'pg_type', constraint: 'pg_type_typname_nsp_index' }), true],
    ['a catalog index, the schema field dropped by a proxy', dbError('23505', { constraint: 'pg_authid_rolname_index' }), true],
    ['a duplicate row in a user table', dbError('23505', { schema: 'public', table: 'registry', constraint: 'registry_pkey' }), false],
    ['a user index named like a catalog index, in a user schema', dbError('23505', { schema: 'app', table: 't', constraint: 'pg_authid_rolname_index' }), false],
    ['a unique violation without any fields', dbError('23505'), false],
    ['duplicate_object (42710): another transaction created it first', dbError('42710'), true],
    ['duplicate_table (42P07): a table committed between IF NOT EXISTS and the creation', dbError('42P07'), true],
    ['duplicate_schema (42P06): the same for a schema', dbError('42P06'), true],
    ['permission denied (42501)', dbError('42501'), false],
    ['syntax error (42601)', dbError('42601'), false],
    ['an error without a SQLSTATE', new Error('connection reset'), false],
    ['not an error at all', 'nope', false],
  ];
  for (const [what, err, transient] of cases) {
    it(`${what}: ${transient ? 'retried' : 'not retried'}`, () => {
      assert.equal(isTransientConflict(err), transient);
    });
  }
});

describe('withConflictRetry', () => {
  it('retries a catalog race until it succeeds', async () => {
    let attempts = 0;
    const result = await withConflictRetry(async () => {
      attempts++;
      if (attempts < 3) throw dbError('23505', { schema: 'pg_catalog', constraint: 'pg_authid_rolname_index' });
      return 'done';
    });
    assert.equal(result, 'done');
    assert.equal(attempts, 3);
  });

  it('throws at once what the caller calls permanent, and what is not transient', async () => {
    let attempts = 0;
    const duplicate = dbError('42710');
    await assert.rejects(
      withConflictRetry(
        async () => {
          attempts++;
          throw duplicate;
        },
        undefined,
        async (err) => err === duplicate,
      ),
      (err) => err === duplicate,
    );
    assert.equal(attempts, 1);
    attempts = 0;
    await assert.rejects(
      withConflictRetry(async () => {
        attempts++;
        throw dbError('23505', { schema: 'public', constraint: 'registry_pkey' });
      }),
      { code: '23505' },
    );
    assert.equal(attempts, 1);
  });

  it('gives up after MAX_ATTEMPTS', async () => {
    let attempts = 0;
    await assert.rejects(
      withConflictRetry(async () => {
        attempts++;
        throw dbError('42710');
      }),
      { code: '42710' },
    );
    assert.equal(attempts, MAX_ATTEMPTS);
  });
});
