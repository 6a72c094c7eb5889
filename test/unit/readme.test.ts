import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { apiReferenceMarkdown, BEGIN_MARKER, END_MARKER } from '../../scripts/lib/api-reference';

const README = path.resolve(__dirname, '..', '..', 'README.md');

test('README path reference matches the engine\'s OpenAPI document (run npm run docs after changing paths)', () => {
  const readme = fs.readFileSync(README, 'utf8');
  const start = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  assert.ok(start >= 0 && end > start, 'README has the generated section');
  assert.equal(readme.slice(start, end + END_MARKER.length), apiReferenceMarkdown());
});

test('the reference covers every path and the key fields with their defaults', () => {
  const md = apiReferenceMarkdown();
  for (const p of ['/config/{name}', '/roles/{name}', '/creds/{name}', '/rotate-root/{name}', '/reset/{name}', '/users/', '/users/{username}', '/reconcile/{name}', '/static-roles/{name}', '/static-roles/', '/static-creds/{name}', '/rotate-role/{name}']) {
    assert.ok(md.includes(`#### \`${p}\``), p);
  }
  assert.match(md, /\| `max_open_connections` \| integer \| `4` \|/);
  assert.match(md, /\| `password_authentication` \| string \| `"scram-sha-256"` \|/);
  assert.match(md, /\| `verify_connection` \| boolean \| `true` \|/);
  assert.match(md, /\| `max_live_credentials` \| integer \| `0` \|/);
  assert.match(md, /\| `dry_run` \| boolean \| `true` \|/);
  assert.match(md, /\| `rotation_strategy` \| string \| `"single"` \|/);
  assert.match(md, /\| `skip_import_rotation` \| boolean \| `false` \|/);
  assert.match(md, /\| `disable_automated_rotation` \| boolean \| `false` \|/);
});
