import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { likeEscape, templatePrefix, usernamePattern } from '../../../../src/postgres/users/reconcile';
import { compileUsernameTemplate, DEFAULT_USERNAME_TEMPLATE } from '../../../../src/postgres/users/username';

describe('reconcile pattern from a username template', () => {
  const table: Array<[string, string]> = [
    [DEFAULT_USERNAME_TEMPLATE, 'v-'],
    ['v-{{.RoleName}}-{{random 8}}', 'v-'],
    ['app_ro%{{random 8}}', 'app_ro%'],
    ['{{ printf "svc-%s-%s" .DisplayName (random 4) }}', 'svc-'],
    ['vault-{{unix_time}}-{{random 2}}', 'vault-'],
    ['t{{timestamp "2006-01-02T15:04:05.000Z07:00 Mon Jan PM"}}', 't'],
    ['t{{timestamp "1 2 3 4 5 _2 03 Monday January"}}x', 't'],
    ['u{{uuid}}', 'u'],
    ['h{{.RoleName | sha256 | truncate 4}}', 'h'],
    ['c{{.DisplayName | truncate 1 | uppercase}}{{.RoleName | truncate 1}}', 'c'],
    ['{{random 20}}', ''],
    ['{{.RoleName}}-x', ''],
  ];
  for (const [template, prefix] of table) {
    it(`${template} → ${JSON.stringify(prefix)}`, () => {
      // Random parts must never lengthen the prefix: try many times.
      for (let i = 0; i < 200; i++) assert.equal(templatePrefix(compileUsernameTemplate(template)), prefix);
    });
  }

  it('escapes LIKE wildcards and the escape character, then appends %', () => {
    assert.equal(likeEscape('a_b%c\\d'), 'a\\_b\\%c\\\\d');
    assert.equal(usernamePattern(compileUsernameTemplate('app_ro%{{random 8}}')), 'app\\_ro\\%%');
    assert.equal(usernamePattern(compileUsernameTemplate('{{random 8}}')), undefined);
  });
});
