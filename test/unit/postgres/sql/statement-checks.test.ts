/**
 * What a statement list is refused for before any database is asked:
 * transaction control, placeholders a list cannot use, text that cannot be
 * lexed, NUL. Used for the role's four lists and root_rotation_statements.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passwordUnusedProblem, statementListProblem, transactionControl } from '../../../../src/postgres/sql/statements';

describe('statement checks', () => {
  it('finds transaction control by the first words, after comments', () => {
    const cases: Array<[string, string | undefined]> = [
      ['BEGIN', 'BEGIN'],
      ['begin transaction isolation level serializable', 'BEGIN'],
      ['START TRANSACTION', 'START'],
      ['/* x */ COMMIT', 'COMMIT'],
      ['-- x\nEND', 'END'],
      ['ROLLBACK TO SAVEPOINT s', 'ROLLBACK'],
      ['ABORT', 'ABORT'],
      ['SAVEPOINT s', 'SAVEPOINT'],
      ['RELEASE SAVEPOINT s', 'RELEASE'],
      ["PREPARE TRANSACTION 'x'", 'PREPARE TRANSACTION'],
      ["COMMIT PREPARED 'x'", 'COMMIT'],
      ['PREPARE q AS SELECT 1', undefined],
      ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END', undefined],
      ['DO $$ BEGIN COMMIT; END $$', undefined],
      ['SELECT 1', undefined],
      ['"begin"', undefined],
    ];
    for (const [statement, expected] of cases) assert.equal(transactionControl(statement), expected, statement);
  });

  it('names the first problem of a list', () => {
    const allowed = ['name', 'username'];
    assert.equal(statementListProblem(['DROP ROLE "{{name}}"'], allowed), undefined);
    assert.equal(statementListProblem(['SELECT 1', 'COMMIT'], allowed), 'COMMIT is not allowed: the statements of a list run as one transaction, which the plugin begins and ends');
    assert.equal(statementListProblem(["ALTER ROLE x PASSWORD '{{password}}'"], allowed), '{{password}} cannot be used here; allowed: {{name}}, {{username}}');
    assert.equal(statementListProblem(['SELECT 1\u0000'], allowed), 'a statement contains a NUL character');
    assert.match(String(statementListProblem(["SELECT 'open"], allowed)), /unterminated quoted string/);
  });

  it('a list that sets a password must use {{password}} somewhere; an empty list takes the default', () => {
    assert.equal(passwordUnusedProblem([]), undefined);
    assert.equal(passwordUnusedProblem(['ALTER ROLE {{name}} WITH PASSWORD {{password}}']), undefined);
    assert.equal(passwordUnusedProblem(['ALTER ROLE {{name}} CONNECTION LIMIT 3', "ALTER ROLE {{name}} PASSWORD '{{password}}'"]), undefined);
    assert.equal(passwordUnusedProblem(['SELECT 1']), 'none of the statements uses {{password}}, so they would not change the password');
    assert.match(String(passwordUnusedProblem(['SELECT 1 -- {{password}}'])), /none of the statements uses/, 'a placeholder in a comment sets nothing');
  });
});
