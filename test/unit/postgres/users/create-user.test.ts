/**
 * The creation query's VALID UNTIL backstop: a plain ALTER ROLE when the
 * statements visibly create the role named {{name}}, else a DO block that
 * sets it only if the role exists; and the last row, which tells whether the
 * user can log in. Against a real server in test/integration/role-statements.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { creationQuery, loginState, loginWarning } from '../../../../src/postgres/users/create-user';

const USER = { username: 'v-app-1', passwordValue: 'pw', expiration: '2099-01-01 00:00:00+0000' };
const PLAIN_BACKSTOP = `ALTER ROLE "v-app-1" VALID UNTIL '2099-01-01 00:00:00+0000'`;

describe('creation query', () => {
  const cases: Array<[string, 'plain' | 'checked']> = [
    [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, 'plain'],
    ['create user {{name}} login', 'plain'],
    ['/* leading comment */ CREATE ROLE "{{ name }}"', 'plain'],
    ['-- line comment\nCREATE GROUP {{username}}', 'plain'],
    ['CREATE ROLE "{{name}}";', 'plain'],
    ['CREATE ROLE "{{name}}_ro"', 'checked'],
    ['CREATE ROLE "x{{name}}"', 'checked'],
    ['CREATE ROLE /* between */ "{{name}}"', 'checked'],
    [`DO $$ BEGIN CREATE ROLE "{{name}}"; END $$`, 'checked'],
    ['GRANT readers TO "{{name}}"', 'checked'],
    ['SELECT 1', 'checked'],
  ];
  for (const [statement, kind] of cases) {
    it(`${JSON.stringify(statement)}: ${kind === 'plain' ? 'plain ALTER ROLE' : 'VALID UNTIL only if the role exists'}`, () => {
      const text = creationQuery([statement], USER);
      const parts = text.split(';\n');
      assert.equal(parts.at(-1), `SELECT rolcanlogin FROM pg_roles WHERE rolname = 'v-app-1'`);
      if (kind === 'plain') {
        assert.equal(parts.at(-2), PLAIN_BACKSTOP);
      } else {
        assert.equal(parts.at(-2), `DO $backstop$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'v-app-1') THEN ${PLAIN_BACKSTOP}; END IF; END $backstop$`);
      }
    });
  }

  it("picks a dollar-quote tag that the user's name does not contain", () => {
    const text = creationQuery(['SELECT 1'], { ...USER, username: 'v-$backstop$-$backstop0$' });
    assert.match(text, /DO \$backstop1\$ BEGIN .*'v-\$backstop\$-\$backstop0\$'.* END \$backstop1\$/);
  });

  it('reads the login state from the last result', () => {
    const result = (rows: unknown[]) => ({ rows });
    assert.equal(loginState([result([]), result([]), result([{ rolcanlogin: true }])]), 'login');
    assert.equal(loginState([result([]), result([{ rolcanlogin: false }])]), 'nologin');
    assert.equal(loginState([result([{ rolcanlogin: true }]), result([])]), 'missing');
    assert.equal(loginState(result([{ rolcanlogin: true }])), 'login');
    assert.equal(loginWarning('login', 'u'), undefined);
    assert.equal(loginWarning('missing', 'u'), 'the creation statements created no role named "u": this credential cannot log in');
    assert.equal(loginWarning('nologin', 'u'), 'the creation statements created role "u" without LOGIN: this credential cannot log in');
  });
});
