import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteIdentifier, quoteLiteral } from '../../../../src/postgres/sql/quote';
import { lexSql } from '../../../../src/postgres/sql/sql-lexer';
import { renderStatement, templateVariables, TemplateError, type TemplateValues } from '../../../../src/postgres/sql/sql-template';
import { splitStatements } from '../../../../src/postgres/sql/statements';

const VALUES: TemplateValues = { name: 'v-app-x1', username: 'root', password: 'A1a-pw', expiration: '2030-01-02 03:04:05+0000' };

/** The value a quoted segment holds, as the server decodes it (enough of E'…' for these tests). */
function decode(kind: string, content: string): string {
  if (kind === 'identifier') return content.replaceAll('""', '"');
  if (kind === 'string') return content.replaceAll("''", "'");
  let out = '';
  for (let i = 0; i < content.length; i++) {
    const c = content.charAt(i);
    if (c === '\\' || (c === "'" && content[i + 1] === "'")) {
      out += content.charAt(i + 1);
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

type Shape = Array<string | Shape>;

/**
 * The structure of `sql`: code tokens (whitespace dropped), comments,
 * separators, and for each quoted segment its kind (literal or identifier)
 * and decoded value; dollar-quoted bodies as the shape of their SQL.
 */
function shape(sql: string): Shape {
  const result: Shape = [];
  for (const s of lexSql(sql)) {
    const content = sql.slice(s.contentStart, s.contentEnd);
    switch (s.kind) {
      case 'code':
        if (s.text.trim() !== '') result.push(`code:${s.text}`);
        break;
      case 'string':
      case 'escape-string':
        // E'…' vs '…' is spelling, not structure.
        result.push(`literal:${decode(s.kind, content)}`);
        break;
      case 'identifier':
        result.push(`identifier:${decode(s.kind, content)}`);
        break;
      case 'dollar-string':
        result.push(shape(content));
        break;
      default:
        result.push(`${s.kind}:${s.text}`);
    }
  }
  return result;
}

/** `shape` with every marker replaced by its value: what the statement must look like with those values. */
function substituteShape(s: Shape, replacements: ReadonlyArray<[string, string]>): Shape {
  return s.map((item) => {
    if (typeof item !== 'string') return substituteShape(item, replacements);
    if (item.startsWith('code:')) return item;
    // A function replacer: `$$` in a value must not act as a replacement pattern.
    return replacements.reduce((text, [marker, value]) => text.replaceAll(marker, () => value), item);
  });
}

const MARKERS: TemplateValues = { name: 'NAMEMARK', username: 'USERMARK', password: 'PASSMARK', expiration: 'EXPMARK' };

/** Renders with hostile values and checks the result has exactly the structure of a harmless rendering. */
function assertContained(template: string, values: TemplateValues): string {
  const rendered = renderStatement(template, values);
  const replacements: Array<[string, string]> = [];
  for (const key of ['name', 'username', 'password', 'expiration'] as const) {
    const marker = MARKERS[key];
    const value = values[key];
    if (marker !== undefined && value !== undefined) replacements.push([marker, value]);
  }
  const expected = substituteShape(shape(renderStatement(template, MARKERS)), replacements);
  assert.deepEqual(shape(rendered), expected, `structure changed for ${JSON.stringify(values)}:\n${rendered}`);
  assert.equal(splitStatements(rendered).length, splitStatements(template).length, `statement count changed:\n${rendered}`);
  return rendered;
}

describe('quote', () => {
  it('quotes identifiers by doubling "', () => {
    assert.equal(quoteIdentifier('abc'), '"abc"');
    assert.equal(quoteIdentifier('a"b'), '"a""b"');
    assert.equal(quoteIdentifier('ö 😀'), '"ö 😀"');
    assert.throws(() => quoteIdentifier('a\0b'), /NUL/);
    assert.throws(() => quoteIdentifier(''), /empty/);
  });

  it("quotes literals by doubling ', and as E'…' when there is a backslash", () => {
    assert.equal(quoteLiteral('abc'), "'abc'");
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.equal(quoteLiteral(''), "''");
    assert.equal(quoteLiteral("a\\'b"), " E'a\\\\''b'");
    assert.throws(() => quoteLiteral('a\0b'), /NUL/);
  });
});

describe('renderStatement', () => {
  it("renders Vault's default creation statement", () => {
    assert.equal(
      renderStatement(
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
        VALUES,
      ),
      `CREATE ROLE "v-app-x1" WITH LOGIN PASSWORD 'A1a-pw' VALID UNTIL '2030-01-02 03:04:05+0000';`,
    );
  });

  it('accepts spaces inside the braces', () => {
    assert.equal(renderStatement('GRANT r TO "{{ name }}", "{{\tusername }}"', VALUES), 'GRANT r TO "v-app-x1", "root"');
  });

  it('doubles " inside a quoted identifier, also with a prefix', () => {
    const values = { name: 'a"b' };
    assert.equal(renderStatement('GRANT r TO "{{name}}"', values), 'GRANT r TO "a""b"');
    assert.equal(renderStatement('CREATE SCHEMA "prefix_{{name}}_s"', values), 'CREATE SCHEMA "prefix_a""b_s"');
  });

  it("doubles ' inside a literal and leaves backslash-free values alone otherwise", () => {
    assert.equal(renderStatement("ALTER ROLE x PASSWORD '{{password}}'", { password: `it's "q"` }), `ALTER ROLE x PASSWORD 'it''s "q"'`);
  });

  it("rewrites a plain literal as E'…' when a value brings a backslash, doubling every backslash", () => {
    assert.equal(
      renderStatement("COMMENT ON ROLE x IS 'c:\\dir {{password}}'", { password: "\\'" }),
      "COMMENT ON ROLE x IS E'c:\\\\dir \\\\'''",
    );
    // With a word right before the quote, a space keeps E from joining it.
    assert.equal(renderStatement("SELECT N'{{password}}'", { password: '\\' }), "SELECT N E'\\\\'");
  });

  it("doubles ' and \\ inside E'…'", () => {
    assert.equal(renderStatement("SELECT E'\\t{{password}}\\n'", { password: "a\\'b" }), "SELECT E'\\ta\\\\''b\\n'");
  });

  it('renders continued literals in the mode of their first part', () => {
    assert.equal(renderStatement("SELECT E'a'\n'{{password}}'", { password: '\\' }), "SELECT E'a'\n'\\\\'");
    assert.equal(renderStatement("SELECT 'a\\'\n'{{password}}'", { password: '\\' }), "SELECT E'a\\\\'\n'\\\\'");
  });

  it('quotes bare placeholders: names as identifiers, passwords and expirations as literals', () => {
    assert.equal(
      renderStatement('CREATE ROLE {{name}} LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}}', { ...VALUES, name: 'a"b', password: "p'w" }),
      `CREATE ROLE "a""b" LOGIN PASSWORD 'p''w' VALID UNTIL '2030-01-02 03:04:05+0000'`,
    );
    assert.equal(renderStatement('ALTER ROLE {{name}} PASSWORD {{password}}', { name: 'n', password: 'a\\b' }), `ALTER ROLE "n" PASSWORD  E'a\\\\b'`);
  });

  it('keeps a bare placeholder from merging with a neighbouring word or quote', () => {
    assert.equal(renderStatement('SELECT E{{password}}', { password: '\\' }), "SELECT E E'\\\\'");
    assert.equal(renderStatement('SELECT E{{password}}', { password: 'a' }), "SELECT E 'a'");
    assert.equal(renderStatement('SELECT U&{{password}}', { password: 'a' }), "SELECT U& 'a'");
    assert.equal(renderStatement('SELECT {{name}}"x"', { name: 'a' }), 'SELECT "a" "x"');
    assert.equal(renderStatement("SELECT 'x'{{password}}", { password: 'a' }), "SELECT 'x' 'a'");
  });

  it('renders dollar-quoted bodies as SQL', () => {
    assert.equal(
      renderStatement("DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', '{{name}}'); END $$", { name: "o'k" }),
      "DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', 'o''k'); END $$",
    );
    assert.equal(
      renderStatement('CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$ BEGIN ALTER ROLE "{{name}}" VALID UNTIL {{expiration}}; END $fn$', {
        name: 'a"b',
        expiration: 'infinity',
      }),
      `CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$ BEGIN ALTER ROLE "a""b" VALID UNTIL 'infinity'; END $fn$`,
    );
    // Nested dollar quotes are rendered at each level.
    assert.equal(
      renderStatement(`DO $a$ BEGIN EXECUTE $b$GRANT r TO "{{name}}"$b$; END $a$`, { name: 'x"y' }),
      `DO $a$ BEGIN EXECUTE $b$GRANT r TO "x""y"$b$; END $a$`,
    );
  });

  it('refuses a value that would end the dollar quote', () => {
    const doBlock = "DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', '{{name}}'); END $$";
    assert.throws(() => renderStatement(doBlock, { name: '$$; DROP TABLE t; $$' }), TemplateError);
    assert.throws(() => renderStatement(doBlock.replaceAll('$$', '$fn$'), { name: 'x$fn$y' }), /closing \$fn\$/);
    // Other tags are harmless there.
    assert.equal(renderStatement(doBlock, { name: '$fn$' }), doBlock.replace('{{name}}', () => '$fn$'));
  });

  it('never substitutes into comments', () => {
    const sql = 'GRANT r TO "{{name}}" /* for {{name}} */ -- {{password}}\n';
    assert.equal(renderStatement(sql, { name: 'n' }), 'GRANT r TO "n" /* for {{name}} */ -- {{password}}\n');
    assert.deepEqual(templateVariables(sql), ['name']);
  });

  it('ends a statement that ends in a line comment with a newline, so joined text is not commented out', () => {
    assert.equal(renderStatement('SELECT 1 -- note', {}), 'SELECT 1 -- note\n');
  });

  it('leaves text that only looks like braces alone', () => {
    const sql = "SELECT '{{1,2},{3,4}}'::int[][], '{\"a\":{\"b\":1}}'::json, E'\\{{name}}'";
    assert.equal(renderStatement(sql, {}), sql);
    assert.deepEqual(templateVariables(sql), []);
  });

  it('does not expand placeholders that a value contains', () => {
    assert.equal(renderStatement('GRANT r TO "{{name}}"', { name: '{{password}}', password: 'secret' }), 'GRANT r TO "{{password}}"');
  });

  describe('dynamic SQL inside literals', () => {
    it('escapes for the quote inside the literal too', () => {
      assert.equal(
        renderStatement(`DO $$ BEGIN EXECUTE 'GRANT SELECT ON t TO "{{name}}"'; END $$`, { name: `a"; DROP TABLE t; --'` }),
        `DO $$ BEGIN EXECUTE 'GRANT SELECT ON t TO "a""; DROP TABLE t; --''"'; END $$`,
      );
      assert.equal(
        renderStatement(`DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''{{password}}'''; END $$`, { password: `p'; DROP TABLE t; --` }),
        `DO $$ BEGIN EXECUTE 'ALTER ROLE x PASSWORD ''p''''; DROP TABLE t; --'''; END $$`,
      );
    });

    it('leaves a literal that is plain data (a format() argument) as data', () => {
      assert.equal(renderStatement(`SELECT format('%I', '{{name}}')`, { name: `"x"` }), `SELECT format('%I', '"x"')`);
    });

    it('refuses a placeholder in a comment inside SQL text in a literal', () => {
      assert.throws(() => renderStatement(`SELECT 'SELECT 1 -- {{name}}'`, { name: 'x' }), /comment within SQL text/);
    });
  });

  describe('errors', () => {
    it('names an unknown placeholder', () => {
      assert.throws(() => renderStatement('SELECT {{foo}}', VALUES), (err: unknown) => err instanceof TemplateError && /\{\{foo\}\}/.test(err.message));
    });

    it('names a placeholder without a value', () => {
      assert.throws(() => renderStatement("ALTER ROLE x PASSWORD '{{password}}'", { name: 'x' }), /no value was given for \{\{password\}\}/);
    });

    it('refuses NUL characters without echoing the value', () => {
      assert.throws(
        () => renderStatement("ALTER ROLE x PASSWORD '{{password}}'", { password: 'sekrit\0' }),
        (err: unknown) => err instanceof TemplateError && /NUL/.test(err.message) && !err.message.includes('sekrit'),
      );
    });

    it('refuses empty bare identifiers', () => {
      assert.throws(() => renderStatement('DROP ROLE {{name}}', { name: '' }), TemplateError);
    });

    it("refuses placeholders in U&'…', U&\"…\", B'…' and X'…'", () => {
      for (const sql of ["SELECT U&'{{password}}'", 'SELECT U&"{{name}}"', "SELECT B'{{password}}'", "SELECT X'{{password}}'"]) {
        assert.throws(() => renderStatement(sql, VALUES), TemplateError, sql);
        assert.throws(() => templateVariables(sql), TemplateError, sql);
      }
    });

    it('refuses a placeholder right after a numeric escape its value could extend', () => {
      for (const sql of ["SELECT E'\\x4{{password}}'", "SELECT E'\\u00{{password}}'", "SELECT E'\\1{{password}}'"]) {
        assert.throws(() => renderStatement(sql, { password: '1' }), /numeric escape/, sql);
      }
      // Complete escapes cannot be extended.
      assert.equal(renderStatement("SELECT E'\\x41{{password}}'", { password: '42' }), "SELECT E'\\x4142'");
    });

    it('refuses to let a bare literal join a following one on the next line', () => {
      assert.throws(() => renderStatement("SELECT {{password}}\n'x'", { password: 'a' }), /structure/);
    });

    it('reports an unterminated quote with its position', () => {
      assert.throws(() => renderStatement("SELECT 1;\nSELECT '{{name}}", VALUES), /unterminated quoted string starting at line 2, column 8/);
      assert.throws(
        () => renderStatement("DO $$ SELECT '{{name}} $$", VALUES),
        /dollar-quoted body .* unterminated quoted string starting at line 1, column 14/,
      );
    });
  });

  describe('hostile values stay inside their quotes', () => {
    const hostile = [
      'a"b',
      '"',
      '""',
      "'",
      "x'; DROP TABLE t; --",
      'x"; DROP TABLE t; --',
      "robert'); DROP TABLE students;--",
      '\\',
      "\\'",
      '\\"',
      "a\\'; DROP TABLE t; --",
      'a;b',
      '-- c',
      '/* c',
      '*/',
      '$$; DROP TABLE t; $$',
      '$tag$',
      '$1',
      'E\'x\'',
      'U&"x"',
      'line\nbreak',
      'cr\r\nlf\n--',
      'tab\there',
      'ö',
      '😀 emoji',
      'rtl\u200Fmark\u202Eoverride',
      '\u2028sep',
      '{{name}}',
      'x'.repeat(60),
    ];
    const templates = [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'`,
      'CREATE ROLE {{name}} LOGIN PASSWORD {{password}} VALID UNTIL {{expiration}}',
      "ALTER ROLE \"x_{{name}}_y\" PASSWORD E'p\\t{{password}}'",
      "COMMENT ON ROLE {{name}} IS 'a'\n  'b {{password}}'",
      "DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', '{{name}}'); END $$",
      "DO $fn$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', {{name}}::text, {{password}}); END $fn$",
    ];

    for (const template of templates) {
      it(template.replace(/\s+/g, ' '), () => {
        let refused = 0;
        for (const value of hostile) {
          const values = { name: value, password: value, expiration: value };
          const delimiter = /\$(\w*)\$/.exec(template)?.[0];
          if (delimiter !== undefined && value.includes(delimiter)) {
            assert.throws(() => renderStatement(template, values), TemplateError);
            refused++;
            continue;
          }
          const rendered = assertContained(template, values);
          assert.equal(splitStatements(rendered).length, 1);
        }
        assert.ok(refused <= 1);
      });
    }

    it('keeps the value inside the inner quote of dynamic SQL', () => {
      const template = `DO $$ BEGIN EXECUTE 'GRANT SELECT ON t TO "{{name}}"'; END $$`;
      for (const value of hostile.filter((v) => !v.includes('$$'))) {
        const rendered = renderStatement(template, { name: value });
        const dollar = lexSql(rendered).find((s) => s.kind === 'dollar-string');
        assert.ok(dollar);
        const body = rendered.slice(dollar.contentStart, dollar.contentEnd);
        const literal = lexSql(body).find((s) => s.kind === 'string' || s.kind === 'escape-string');
        assert.ok(literal);
        // What EXECUTE runs: one statement whose identifier is exactly the value.
        const executed = decode(literal.kind, body.slice(literal.contentStart, literal.contentEnd));
        assert.deepEqual(splitStatements(executed), [executed]);
        assert.deepEqual(shape(executed), ['code:GRANT', 'code:SELECT', 'code:ON', 'code:t', 'code:TO', `identifier:${value}`]);
      }
    });
  });
});

describe('templateVariables', () => {
  it('lists the names used, once each, in order, including unknown ones', () => {
    assert.deepEqual(
      templateVariables(`CREATE ROLE "{{name}}" PASSWORD '{{ password }}'; GRANT r TO {{name}}; SELECT {{foo}}, $$ {{expiration}} $$`),
      ['name', 'password', 'foo', 'expiration'],
    );
  });

  it('reports what cannot be lexed', () => {
    assert.throws(() => templateVariables('SELECT "{{name}}'), TemplateError);
  });
});
