import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lexSql, SqlLexError, type SegmentKind } from '../../../../src/postgres/sql/sql-lexer';
import { parseStatementsInput, splitStatements } from '../../../../src/postgres/sql/statements';

/** Kinds and texts of the segments, whitespace dropped. */
function tokens(sql: string): Array<[SegmentKind, string]> {
  return lexSql(sql)
    .filter((s) => !(s.kind === 'code' && s.text.trim() === ''))
    .map((s) => [s.kind, s.text]);
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('lexSql', () => {
  it('covers the whole text with segments in order', () => {
    const sql = `SELECT 'a', E'\\'', "b""c", $x$ ; $x$ -- c\n/* d /* e */ */;`;
    const segments = lexSql(sql);
    assert.equal(segments.map((s) => s.text).join(''), sql);
    for (const s of segments) assert.equal(sql.slice(s.start, s.end), s.text);
  });

  it('tells the contexts apart', () => {
    assert.deepEqual(tokens(`SELECT 'a''b', E'c\\'d', "e""f", $$g$$, $t$h$t$, $1 -- i\n/* j /* k */ */ ;`), [
      ['code', 'SELECT'],
      ['string', "'a''b'"],
      ['code', ','],
      ['escape-string', "E'c\\'d'"],
      ['code', ','],
      ['identifier', '"e""f"'],
      ['code', ','],
      ['dollar-string', '$$g$$'],
      ['code', ','],
      ['dollar-string', '$t$h$t$'],
      ['code', ','],
      ['code', '$1'],
      ['line-comment', '-- i'],
      ['block-comment', '/* j /* k */ */'],
      ['separator', ';'],
    ]);
  });

  it('reads prefixes only on a one-letter word', () => {
    assert.deepEqual(tokens(`e'x' B'01' X'ff' U&'u' U&"v" N'n' fooe'y'`), [
      ['escape-string', "e'x'"],
      ['bit-string', "B'01'"],
      ['bit-string', "X'ff'"],
      ['unicode-string', "U&'u'"],
      ['unicode-identifier', 'U&"v"'],
      ['code', 'N'],
      ['string', "'n'"],
      ['code', 'fooe'],
      ['string', "'y'"],
    ]);
  });

  it('keeps $ inside words and parameters apart from dollar quotes', () => {
    assert.deepEqual(tokens('a$b$c $1$$x$$ $1a'), [
      ['code', 'a$b$c'],
      ['code', '$1'],
      ['dollar-string', '$$x$$'],
      ['code', '$1'],
      ['code', 'a'],
    ]);
    // A tag cannot start with a digit, and a lone $ is just a character.
    assert.deepEqual(tokens('$ $2x'), [
      ['code', '$'],
      ['code', '$2'],
      ['code', 'x'],
    ]);
  });

  it('ends a dollar quote at the first matching delimiter only', () => {
    const [seg] = lexSql('$a$x$ba$b$a$');
    assert.equal(seg?.kind, 'dollar-string');
    assert.equal(seg?.text, '$a$x$ba$b$a$');
    assert.equal(seg?.tag, 'a');
  });

  it('marks string continuations (whitespace with a newline) with the first part\'s kind', () => {
    const segments = lexSql("E'a'\n  -- c\n'b' 'c'").filter((s) => s.kind !== 'code');
    assert.deepEqual(
      segments.map((s) => [s.kind, s.text, s.continued ?? false]),
      [
        ['escape-string', "E'a'", false],
        ['line-comment', '-- c', false],
        ['escape-string', "'b'", true],
        // No newline before it: a new literal (a syntax error for the server, but not a continuation).
        ['string', "'c'", false],
      ],
    );
  });

  it('reads a quote doubled in a bit string as two literals, as the server does', () => {
    assert.deepEqual(tokens("B'01''10'"), [
      ['bit-string', "B'01'"],
      ['string', "'10'"],
    ]);
  });

  it('takes the cautious reading of a number glued to a quote (1e\'…\' is 1 then E\'…\' on old servers)', () => {
    assert.deepEqual(tokens("1e'\\''"), [
      ['code', '1'],
      ['escape-string', "e'\\''"],
    ]);
  });

  for (const [sql, construct, position] of [
    ["SELECT 'abc", 'quoted string', 7],
    ["SELECT E'abc\\'", "escape string (E'…')", 7],
    ['SELECT "abc', 'quoted identifier', 7],
    ['SELECT $f$ abc $g$', 'dollar-quoted string', 7],
    ['SELECT 1 /* a /* b */', 'block comment', 9],
    ["SELECT U&'x", "Unicode string (U&'…')", 7],
  ] as const) {
    it(`reports an unterminated ${construct} with its position`, () => {
      assert.throws(
        () => lexSql(sql),
        (err: unknown) => {
          assert.ok(err instanceof SqlLexError);
          assert.equal(err.position, position);
          assert.equal(err.line, 1);
          assert.equal(err.column, position + 1);
          assert.match(err.message, new RegExp(`unterminated .*line 1, column ${position + 1}`));
          return true;
        },
      );
    });
  }

  it('counts lines for the error position', () => {
    assert.throws(() => lexSql("SELECT 1;\r\nSELECT\n  'x"), { line: 3, column: 3 });
  });
});

describe('splitStatements', () => {
  const cases: Array<[string, string, string[]]> = [
    ['two plain statements', 'SELECT 1; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['Vault-style creation statements', `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`, [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}"',
    ]],
    ['; inside a literal', "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", 'SELECT 2']],
    ["'' inside a literal", "SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", 'SELECT 2']],
    ["E'\\';' (escaped quote)", "SELECT E'\\';x'; SELECT 2", ["SELECT E'\\';x'", 'SELECT 2']],
    ['standard literal ending in a backslash', "SELECT 'a\\'; SELECT 2", ["SELECT 'a\\'", 'SELECT 2']],
    ['; inside a quoted identifier', 'SELECT 1 AS "a;b"; SELECT "c""d;"', ['SELECT 1 AS "a;b"', 'SELECT "c""d;"']],
    ['DO $$ body with ; and \'', "DO $$ BEGIN RAISE NOTICE 'x;y'; PERFORM 1; END $$; SELECT 2", [
      "DO $$ BEGIN RAISE NOTICE 'x;y'; PERFORM 1; END $$",
      'SELECT 2',
    ]],
    ['$fn$ body containing $$', "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$ SELECT $$a;b$$; SELECT 'c'''; $fn$; SELECT 3", [
      "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$ SELECT $$a;b$$; SELECT 'c'''; $fn$",
      'SELECT 3',
    ]],
    ['nested block comments', 'SELECT 1 /* a; /* b; */ c; */ + 1; SELECT 2', ['SELECT 1 /* a; /* b; */ c; */ + 1', 'SELECT 2']],
    ['-- comment containing ;', 'SELECT 1 -- one; two\n+ 1; SELECT 2', ['SELECT 1 -- one; two\n+ 1', 'SELECT 2']],
    ['$1 parameters', 'PREPARE p(int) AS SELECT $1; EXECUTE p(1)', ['PREPARE p(int) AS SELECT $1', 'EXECUTE p(1)']],
    ['$ inside identifiers', 'SELECT a$b$c; SELECT 2', ['SELECT a$b$c', 'SELECT 2']],
    ['trailing and duplicate semicolons', ';; SELECT 1;;; SELECT 2;\n;  ', ['SELECT 1', 'SELECT 2']],
    ['comment-only statements', '-- nothing\n; /* nothing */; SELECT 1; -- done', ['SELECT 1']],
    ['leading comments kept, trailing ones dropped', '-- why\nSELECT 1 /* x */ -- y\n; SELECT 2 -- z', ['-- why\nSELECT 1', 'SELECT 2']],
    ['; inside parentheses', 'CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b); SELECT 1', [
      'CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b)',
      'SELECT 1',
    ]],
    ['BEGIN ATOMIC body', 'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; SELECT 3', [
      'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END',
      'SELECT 3',
    ]],
    ['BEGIN outside a routine is a statement', 'BEGIN; SELECT 1; END', ['BEGIN', 'SELECT 1', 'END']],
    ['continued literal', "SELECT 'a;'\n'b;'; SELECT 2", ["SELECT 'a;'\n'b;'", 'SELECT 2']],
    ['trims only SQL whitespace (NBSP is an identifier character)', '\n\tSELECT 1\u00a0 ;', ['SELECT 1\u00a0']],
    ['empty input', '', []],
    ['whitespace only', ' \n\t ', []],
  ];
  for (const [name, sql, expected] of cases) {
    it(name, () => assert.deepEqual(splitStatements(sql), expected));
  }

  it('throws on an unterminated quote, naming the position', () => {
    assert.throws(() => splitStatements("SELECT 1; SELECT 'oops; SELECT 2"), (err: unknown) => {
      assert.ok(err instanceof SqlLexError);
      assert.equal(err.position, 17);
      assert.match(err.message, /unterminated quoted string starting at line 1, column 18/);
      return true;
    });
  });

  it('throws on an unterminated dollar quote rather than splitting inside it', () => {
    assert.throws(() => splitStatements('DO $$ BEGIN PERFORM 1; END $'), SqlLexError);
  });
});

describe('parseStatementsInput', () => {
  const plain = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'; GRANT SELECT ON t TO "{{name}}";`;
  const expected = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, 'GRANT SELECT ON t TO "{{name}}"'];
  const doBlock = "DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', '{{name}}'); END $$";

  it('splits a plain ;-separated string', () => {
    assert.deepEqual(parseStatementsInput([plain]), expected);
  });

  it('uses the elements of a JSON array, each split', () => {
    assert.deepEqual(parseStatementsInput([JSON.stringify([expected[0], `${expected[1]}; ${doBlock}`])]), [...expected, doBlock]);
  });

  it('decodes base64 of a plain string', () => {
    assert.deepEqual(parseStatementsInput([b64(plain)]), expected);
  });

  it('decodes base64 of a JSON array', () => {
    assert.deepEqual(parseStatementsInput([b64(JSON.stringify([doBlock, expected[1]]))]), [doBlock, expected[1]]);
  });

  it('accepts base64 broken into lines, as Go does', () => {
    const encoded = b64(plain).replace(/(.{20})/g, '$1\n');
    assert.deepEqual(parseStatementsInput([encoded]), expected);
  });

  it('flattens several values in order and skips empty ones', () => {
    assert.deepEqual(parseStatementsInput(['SELECT 1; SELECT 2', '  ', b64('SELECT 3'), '["SELECT 4", ""]', ';']), [
      'SELECT 1',
      'SELECT 2',
      'SELECT 3',
      'SELECT 4',
    ]);
  });

  it('keeps a DO block whole (Vault would split it at its inner ;)', () => {
    assert.deepEqual(parseStatementsInput([`${doBlock}; SELECT 1`]), [doBlock, 'SELECT 1']);
  });

  it('leaves SQL that happens to be valid base64 as SQL when it does not decode to text', () => {
    // "ROLLBACK" is valid base64 of bytes that are not UTF-8.
    assert.deepEqual(parseStatementsInput(['ROLLBACK']), ['ROLLBACK']);
    // Unpadded or URL-safe forms are not standard base64.
    assert.deepEqual(parseStatementsInput(['SELECT']), ['SELECT']);
  });

  it('treats JSON that is not an array of strings as SQL text, and null as nothing', () => {
    assert.deepEqual(parseStatementsInput(['null']), []);
    assert.deepEqual(parseStatementsInput(['"SELECT 1"']), ['"SELECT 1"']);
  });

  it('reports lexing errors', () => {
    assert.throws(() => parseStatementsInput(["SELECT 'x"]), SqlLexError);
  });
});
