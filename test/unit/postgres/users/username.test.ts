import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import {
  DEFAULT_USERNAME_TEMPLATE,
  MAX_IDENTIFIER_BYTES,
  UsernameTemplateError,
  compileUsernameTemplate,
  generateUsername,
  type UsernameInputs,
} from '../../../../src/postgres/users/username.js';

const INPUTS: UsernameInputs = { displayName: 'token-alice', roleName: 'readonly' };
/** 2024-01-02T15:04:05.067Z, a Tuesday: every layout element differs from Go's reference time. */
const FIXED_NOW = Date.UTC(2024, 0, 2, 15, 4, 5, 67);
const FIXED_UNIX = '1704207845';
const RANDOM_PART = 20;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const render = (template: string, inputs: UsernameInputs = INPUTS): string => compileUsernameTemplate(template).render(inputs);
const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Asserts that compiling fails with a UsernameTemplateError whose message matches. */
function assertCompileError(template: string, message: RegExp): void {
  assert.throws(
    () => compileUsernameTemplate(template),
    (err: unknown) => err instanceof UsernameTemplateError && message.test(err.message),
    `expected ${JSON.stringify(template)} to fail with ${message}`,
  );
}

/** Splits a default-template username into its parts, from the right, since names may contain "-". */
function defaultParts(username: string): { names: string; random: string; time: string } {
  const match = /^v-(.*)-([A-Za-z0-9]{20})-(\d{10})$/su.exec(username);
  assert.ok(match, `unexpected shape: ${username}`);
  return { names: match[1] ?? '', random: match[2] ?? '', time: match[3] ?? '' };
}

// ---------------------------------------------------------------------------
// The default template
// ---------------------------------------------------------------------------

test('default template: shape for lowercase ASCII inputs', () => {
  const template = compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE);
  const before = Math.floor(Date.now() / 1000);
  const username = generateUsername(template, INPUTS);
  const after = Math.floor(Date.now() / 1000);
  assert.match(username, /^v-[a-z0-9-]{0,8}-[a-z0-9-]{0,8}-[A-Za-z0-9]{20}-\d{10}$/);
  assert.ok(username.startsWith('v-token-al-readonly-'));
  const time = Number(defaultParts(username).time);
  assert.ok(time >= before && time <= after);
  assert.ok(bytes(username) <= MAX_IDENTIFIER_BYTES);
});

test('default template: long names are cut to 8 characters and the random part stays whole', () => {
  const template = compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE);
  const username = generateUsername(template, { displayName: 'd'.repeat(200), roleName: 'r'.repeat(200) });
  assert.match(username, /^v-d{8}-r{8}-[A-Za-z0-9]{20}-\d{10}$/);
  assert.equal(bytes(username), 51);
});

test('default template: multibyte names stay within 63 bytes, whole characters, random part intact', () => {
  const template = compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE);
  const cases: Array<[string, string]> = [
    ['é'.repeat(40), 'ü'.repeat(40)], // 2-byte characters
    ['日本語のユーザー名', '読み取り専用ロール'], // 3-byte characters
    ['🙂'.repeat(30), '🚀'.repeat(30)], // 4-byte characters (surrogate pairs in JavaScript)
    ['a🙂é日b', 'x日🙂yé'], // mixed widths, cut points inside characters
  ];
  for (const [displayName, roleName] of cases) {
    const username = generateUsername(template, { displayName, roleName });
    assert.ok(bytes(username) <= MAX_IDENTIFIER_BYTES, `${username} is ${bytes(username)} bytes`);
    const { names, random } = defaultParts(username);
    assert.equal(random.length, RANDOM_PART);
    assert.ok(!username.includes('\uFFFD'), 'no character was split');
    // Each name is its longest whole-character prefix of at most 8 bytes.
    assert.equal(names, `${prefixWithin(displayName, 8)}-${prefixWithin(roleName, 8)}`);
  }
});

/** The longest prefix of whole characters of `s` that fits in `maxBytes` UTF-8 bytes. */
function prefixWithin(s: string, maxBytes: number): string {
  let prefix = '';
  for (const ch of s) {
    if (bytes(prefix + ch) > maxBytes) break;
    prefix += ch;
  }
  return prefix;
}

test('default template: random parts differ between calls', () => {
  const template = compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE);
  const randoms = new Set(Array.from({ length: 200 }, () => defaultParts(generateUsername(template, INPUTS)).random));
  assert.equal(randoms.size, 200);
});

// ---------------------------------------------------------------------------
// generateUsername's checks
// ---------------------------------------------------------------------------

test('generateUsername: refuses a username longer than 63 bytes instead of truncating it', () => {
  assert.throws(() => generateUsername(compileUsernameTemplate('{{ random 64 }}'), INPUTS), (err: unknown) =>
    err instanceof UsernameTemplateError && /64-byte username.*at most 63 bytes/.test(err.message),
  );
  const template = compileUsernameTemplate('{{ .DisplayName }}');
  assert.equal(generateUsername(template, { ...INPUTS, displayName: 'a'.repeat(63) }), 'a'.repeat(63));
  assert.throws(() => generateUsername(template, { ...INPUTS, displayName: 'a'.repeat(64) }), UsernameTemplateError);
  // 32 characters but 64 bytes: the limit is in bytes.
  assert.throws(() => generateUsername(template, { ...INPUTS, displayName: 'é'.repeat(32) }), /64-byte/);
  assert.equal(generateUsername(template, { ...INPUTS, displayName: 'é'.repeat(31) + 'a' }), 'é'.repeat(31) + 'a');
});

test('generateUsername: refuses empty usernames and NUL characters', () => {
  const template = compileUsernameTemplate('{{ .RoleName }}');
  assert.throws(() => generateUsername(template, { ...INPUTS, roleName: '' }), /empty username/);
  assert.throws(() => generateUsername(template, { ...INPUTS, roleName: 'a\0b' }), /NUL/);
  assert.throws(() => generateUsername(template, { ...INPUTS, roleName: 'a\uD800b' }), /not valid Unicode/);
});

test('a template that caps its own length with truncate 63 is accepted', () => {
  const username = generateUsername(compileUsernameTemplate('{{ printf "%s-%s" (random 50) (random 50) | truncate 63 }}'), INPUTS);
  assert.equal(bytes(username), 63);
});

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

test('random: N characters of [A-Za-z0-9], different every time', () => {
  const template = compileUsernameTemplate('{{ random 32 }}');
  const values = Array.from({ length: 500 }, () => template.render(INPUTS));
  for (const v of values) assert.match(v, /^[A-Za-z0-9]{32}$/);
  assert.equal(new Set(values).size, values.length);
  // Every character of the alphabet shows up across 16,000 draws.
  assert.equal(new Set(values.join('')).size, 62);
  // Two calls within one render are independent too.
  const [a, b] = render('{{ random 20 }} {{ random 20 }}').split(' ');
  assert.notEqual(a, b);
});

test('truncate: by UTF-8 bytes, like Vault, but never inside a character', () => {
  // Vault's test cases.
  assert.equal(render('{{ truncate 1 "foobarbaz" }}'), 'f');
  assert.equal(render('{{ truncate 5 "foobarbaz" }}'), 'fooba');
  assert.equal(render('{{ truncate 8 "foobarbaz" }}'), 'foobarba');
  assert.equal(render('{{ truncate 9 "foobarbaz" }}'), 'foobarbaz');
  assert.equal(render('{{ truncate 100 "foobarbaz" }}'), 'foobarbaz');
  assert.equal(render('{{ .RoleName | truncate 4 }}'), 'read');
  // Multibyte: é is 2 bytes, 🙂 is 4.
  assert.equal(render('{{ truncate 3 "héllo" }}'), 'hé');
  assert.equal(render('{{ truncate 2 "héllo" }}'), 'h');
  assert.equal(render('{{ truncate 7 "🙂🙂" }}'), '🙂');
  assertCompileError('{{ truncate 0 "x" }}', /truncate: max length must be at least 1, got 0/);
  assertCompileError('{{ truncate -1 "x" }}', /at least 1/);
});

test('truncate_sha256: Vault test vectors (hash of the cut-off part)', () => {
  const long = '"thisisareallylongstring"';
  assert.equal(render(`{{ truncate_sha256 9 ${long} }}`), 't4bb25641');
  assert.equal(render(`{{ truncate_sha256 12 ${long} }}`), 'this704cd12b');
  assert.equal(render(`{{ truncate_sha256 22 ${long} }}`), 'thisisareallyl7f978be6');
  assert.equal(render(`{{ truncate_sha256 23 ${long} }}`), 'thisisareallylongstring');
  assert.equal(render(`{{ truncate_sha256 100 ${long} }}`), 'thisisareallylongstring');
  assert.equal(render(`{{ truncate_sha256 12 ${long} }}`), `this${sha256Hex('isareallylongstring').slice(0, 8)}`);
  // Multibyte: the kept part ends on a character boundary and the result fits.
  const result = render('{{ truncate_sha256 11 "ééééééééé" }}');
  assert.equal(result, `é${sha256Hex('éééééééé').slice(0, 8)}`);
  assert.ok(bytes(result) <= 11);
  assertCompileError('{{ truncate_sha256 8 "x" }}', /truncate_sha256: max length must be at least 9, got 8/);
});

test('uppercase, lowercase', () => {
  assert.equal(render('{{ uppercase "fOoBaR" }}'), 'FOOBAR');
  assert.equal(render('{{ lowercase "fOoBaR" }}'), 'foobar');
  assert.equal(render('{{ lowercase "ÀÉÎ" }}'), 'àéî');
  // Go's simple case mapping: ß has no single-character upper case.
  assert.equal(render('{{ uppercase "straße" }}'), 'STRAßE');
  assert.equal(render('{{ uppercase "" }}'), '');
});

test('replace: Go argument order (old, new, string), all occurrences', () => {
  assert.equal(render('{{ replace "." "_" "foo.bar.baz" }}'), 'foo_bar_baz');
  assert.equal(render('{{ replace "bar" "" "foobarbaz" }}'), 'foobaz');
  assert.equal(render('{{ replace "." "_" "foobar" }}'), 'foobar');
  assert.equal(render('{{ .DisplayName | replace "-" "_" }}'), 'token_alice');
  // Go's strings.ReplaceAll with an empty old string inserts between characters.
  assert.equal(render('{{ replace "" "-" "a🙂b" }}'), '-a-🙂-b-');
});

test('sha256 and base64', () => {
  assert.equal(render('{{ sha256 "" }}'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(render('{{ sha256 "foobar" }}'), 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2');
  assert.equal(render('{{ "mystring" | sha256 }}'), 'bd3ff47540b31e62d4ca6b07794e5a886b0f655fc322730f26ecd65cc7dd5c90');
  assert.equal(render('{{ base64 "foobar" }}'), 'Zm9vYmFy');
  assert.equal(render('{{ base64 "fo" }}'), 'Zm8=');
  assert.equal(render('{{ base64 "é" }}'), 'w6k=');
});

test('unix_time and unix_time_millis read the clock', () => {
  const before = Date.now();
  const [seconds, millis] = render('{{ unix_time }} {{ unix_time_millis }}').split(' ').map(Number);
  const after = Date.now();
  assert.ok(seconds !== undefined && seconds >= Math.floor(before / 1000) && seconds <= Math.floor(after / 1000));
  assert.ok(millis !== undefined && millis >= before && millis <= after);
});

test('timestamp, unix_time, unix_time_millis with a fixed clock (UTC, Go layouts)', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: FIXED_NOW });
  // Expected values checked against Go's time.Format.
  const cases: Array<[string, string]> = [
    ['2006-01-02T15:04:05Z07:00', '2024-01-02T15:04:05Z'],
    ['20060102150405', '20240102150405'],
    ['2006-01-02 15:04:05.000', '2024-01-02 15:04:05.067'],
    ['Mon Jan _2 3:04PM MST', 'Tue Jan  2 3:04PM UTC'],
    ['Monday January 2 1 06 002', 'Tuesday January 2 1 24 002'],
    ['-0700 -07:00 Z0700', '+0000 +00:00 Z'],
    ['.999 ,00 .0000000', '.067 ,06 .0670000'],
    ['Month _2006', 'Month _2024'],
  ];
  for (const [layout, expected] of cases) {
    assert.equal(render(`{{ timestamp ${JSON.stringify(layout)} }}`), expected, layout);
  }
  assert.equal(render('{{ unix_time }}/{{ unix_time_millis }}'), `${FIXED_UNIX}/${FIXED_UNIX}067`);
  const username = generateUsername(compileUsernameTemplate(DEFAULT_USERNAME_TEMPLATE), INPUTS);
  assert.equal(defaultParts(username).time, FIXED_UNIX);
});

test('uuid: 8-4-4-4-12 hex, distinct', () => {
  const template = compileUsernameTemplate('{{ uuid }}');
  const ids = Array.from({ length: 100 }, () => template.render(INPUTS));
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
});

test('printf: %s, %d, %v, %%', () => {
  assert.equal(render('{{ printf "%s/%d/%v/%v/%%" .RoleName 42 "x" -7 }}'), 'readonly/42/x/-7/%');
  assert.equal(render('{{ printf "no verbs" }}'), 'no verbs');
  assert.equal(render('{{ .RoleName | printf "%s!" }}'), 'readonly!');
  assertCompileError('{{ printf "%s-%s" "a" }}', /format has 2 verb\(s\) but 1 argument\(s\)/);
  assertCompileError('{{ printf "%s" "a" "b" }}', /format has 1 verb\(s\) but 2 argument\(s\)/);
  assertCompileError('{{ printf "%d" "a" }}', /%d needs an integer, got a string/);
  assertCompileError('{{ printf "%s" 5 }}', /%s needs a string, got an integer/);
  assertCompileError('{{ printf "%x" 5 }}', /%x is not supported/);
  assertCompileError('{{ printf "%5s" "a" }}', /%5 is not supported/);
  assertCompileError('{{ printf "50%" }}', /lone "%"/);
  assertCompileError('{{ printf .RoleName }}', /format of printf must be a string literal/);
  assertCompileError('{{ printf }}', /printf needs a format string/);
});

// ---------------------------------------------------------------------------
// Syntax
// ---------------------------------------------------------------------------

test('pipelines pass the value as the last argument', () => {
  assert.equal(render('{{ .DisplayName | uppercase | replace "-" "." | truncate 7 }}'), 'TOKEN.A');
  assert.equal(render('{{ "a.b" | replace "." "_" }}'), 'a_b');
  assert.equal(render('{{ .RoleName | printf "%s-%s" "x" }}'), 'x-readonly');
});

test('parentheses: sub-pipelines as arguments, nested', () => {
  assert.equal(render('{{ printf "%s+%s" (.DisplayName | uppercase) (lowercase (uppercase .RoleName)) }}'), 'TOKEN-ALICE+readonly');
  assert.equal(render('{{ truncate (3) ((("abcdef"))) }}'), 'abc');
  assert.equal(render('{{ (printf "%s" .RoleName | uppercase) | base64 }}'), Buffer.from('READONLY').toString('base64'));
  // A function name as an argument is called with no arguments, as in Go.
  assert.match(render('{{ printf "%s-%s" unix_time uuid }}'), /^\d{10}-[0-9a-f-]{36}$/);
});

test('text, literals and escapes', () => {
  assert.equal(render('plain text'), 'plain text');
  assert.equal(render('v_{{ .RoleName }}_{{ 42 }}_{{ -3 }}'), 'v_readonly_42_-3');
  assert.equal(render('{{ "\\t\\x41\\101\\u00e9\\U0001F600\\"\\\\" }}'), '\tAAé😀"\\');
  assert.equal(render('{{ `raw \\n {{ }}` }}'), 'raw \\n {{ }}');
  assert.equal(render('{{ "}}" }}'), '}}');
  assert.equal(render('{{\n  .RoleName\n  | uppercase\n}}'), 'READONLY');
});

test('trim markers and comments', () => {
  assert.equal(render('a \n\t {{- .RoleName -}} \n b'), 'areadonlyb');
  assert.equal(render('a {{- .RoleName }} b'), 'areadonly b');
  assert.equal(render('a {{ .RoleName -}} b'), 'a readonlyb');
  // Without the space "{{-3" is the number -3, as in Go.
  assert.equal(render('a {{-3}} b'), 'a -3 b');
  assert.equal(render('x {{/* comment */}} y {{- /* another */ -}} z'), 'x  yz');
});

// ---------------------------------------------------------------------------
// Compile errors
// ---------------------------------------------------------------------------

test('compile errors: unknown functions and fields', () => {
  assertCompileError('{{ foo }}', /function "foo" is not defined; available functions: random, truncate/);
  assertCompileError('{{ rand 20 }}', /function "rand" is not defined/);
  assertCompileError('{{ .RoleName | constructor }}', /function "constructor" is not defined/);
  assertCompileError('{{ .Foo }}', /unknown field \.Foo; available fields: \.DisplayName, \.RoleName/);
  assertCompileError('{{ .displayName }}', /did you mean \.DisplayName\?/);
  assertCompileError('{{ .DisplayName.Length }}', /field chains/);
  assertCompileError('{{ . }}', /"\." on its own is not supported/);
});

test('compile errors: unterminated actions, strings, comments and parentheses', () => {
  assertCompileError('v-{{ .RoleName', /unclosed action: missing "}}" \(at line 1, column 3\)/);
  assertCompileError('{{ .RoleName }', /stray "}": actions end with "}}"/);
  assertCompileError('{{ "abc }}', /unterminated quoted string/);
  assertCompileError('{{ `abc }}', /unterminated raw string/);
  assertCompileError('{{ /* x }}', /unexpected character "\/"/);
  assertCompileError('{{/* x }}', /unclosed comment/);
  assertCompileError('{{/* x */ .RoleName }}', /comment must be followed directly by "}}"/);
  assertCompileError('{{ printf "%s" (.RoleName }}', /unclosed "\("/);
  assertCompileError('{{ .RoleName ) }}', /unexpected "\)"/);
  assertCompileError('{{ truncate 5 () }}', /empty parentheses/);
  assertCompileError(`{{ ${'('.repeat(40)}"x"${')'.repeat(40)} }}`, /nested more than 32 deep/);
});

test('compile errors: argument counts and types', () => {
  assertCompileError('{{ truncate 5 }}', /wrong number of arguments for truncate: want 2, got 1/);
  assertCompileError('{{ .RoleName | truncate }}', /want 2, got 1 \(counting the value piped into it\)/);
  assertCompileError('{{ random }}', /wrong number of arguments for random: want 1, got 0/);
  assertCompileError('{{ uuid 1 }}', /wrong number of arguments for uuid: want 0, got 1/);
  assertCompileError('{{ .RoleName | truncate 5 "x" }}', /want 2, got 3/);
  assertCompileError('{{ truncate "5" .RoleName }}', /argument 1 of truncate must be an integer, got a string/);
  assertCompileError('{{ 5 | uppercase }}', /argument 1 of uppercase must be a string, got an integer/);
  assertCompileError('{{ random 1025 }}', /random: length must be at most 1024/);
  assertCompileError('{{ random 0 }}', /random: length must be at least 1/);
});

test('compile errors: unsupported syntax and empty pieces', () => {
  assertCompileError('', /the template is empty/);
  assertCompileError('{{ }}', /missing value in action/);
  assertCompileError('{{ .RoleName | }}', /missing function after "\|"/);
  assertCompileError('{{ .RoleName | "x" }}', /stage 2 of the pipeline must be a function/);
  assertCompileError('{{ .RoleName "x" }}', /only functions take arguments/);
  assertCompileError('{{ if .RoleName }}x{{ end }}', /"if" is not supported/);
  assertCompileError('{{ $x := 1 }}', /variables/);
  assertCompileError('{{ 0x10 }}', /bad number syntax/);
  assertCompileError('{{ 1.5 }}', /bad number syntax/);
  assertCompileError('{{ 010 }}', /leading zeros/);
  assertCompileError('{{ 99999999999999999999 }}', /out of range/);
  assertCompileError('{{ "\\q" }}', /unknown escape sequence \\q/);
  assertCompileError('{{ "\\xff" }}', /byte escapes above/);
  assertCompileError('{{ "\\uD800" }}', /not a valid Unicode character/);
  assertCompileError('{{ random"5" }}', /unexpected character after random/);
});

test('compile errors report line and column', () => {
  assertCompileError('line one\n  {{ .RoleName | nope }}', /function "nope" is not defined.*\(at line 2, column 18\)$/);
});

test('rendering limits stop templates that blow up', () => {
  const blowUp = `{{ ${'replace "" "xxxxxxxxxx" ('.repeat(6)}"abcdefghij"${')'.repeat(6)} }}`;
  const template = compileUsernameTemplate(blowUp);
  assert.throws(() => template.render(INPUTS), (err: unknown) => err instanceof UsernameTemplateError && /limit is 65536/.test(err.message));
});
