/**
 * Rendered statement templates against a real PostgreSQL 15: for hostile
 * role names and passwords, the statements must create exactly that role,
 * with exactly that password, and touch nothing else (canary tables `t`
 * and `students` survive with their rows).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { renderStatement, TemplateError, type TemplateValues } from '../../src/postgres/sql/sql-template';
import { parseStatementsInput, splitStatements } from '../../src/postgres/sql/statements';
import { withPgClient } from '../helpers/pg-client';
import { startPostgres, type PostgresServer } from '../helpers/postgres';

interface Case {
  label: string;
  name: string;
  password: string;
}

const CASES: Case[] = [
  { label: 'double quotes', name: 'a"b', password: `p"w'd` },
  { label: 'quote, semicolon, comment', name: "x'; DROP TABLE t; --", password: "x'; DROP TABLE t; --" },
  { label: 'identifier break-out', name: '"; DROP TABLE t; --', password: '"; DROP TABLE t; --' },
  { label: 'dollar quotes', name: '$$; DROP TABLE t; $$', password: '$$; DROP TABLE t; $$' },
  { label: 'Bobby Tables', name: "robert'); DROP TABLE students;--", password: "robert'); DROP TABLE students;--" },
  { label: 'backslashes', name: 'back\\slash\\', password: "\\'; DROP TABLE t; --\\" },
  { label: 'lone backslash', name: '\\', password: "a\\\\b\\'c\\" },
  { label: 'unicode', name: 'ö-é-😀', password: 'pässwörd-😀' },
  { label: 'RTL marks', name: 'rtl\u200Fmark\u202E', password: 'pw\u200F\u202E\u2028' },
  { label: '60-byte ASCII name', name: 'n'.repeat(60), password: 'p'.repeat(60) },
  { label: '60-byte multibyte name', name: 'ö'.repeat(30), password: '😀'.repeat(15) },
  { label: 'newlines and comments', name: 'semi;colon -- /* */', password: 'line\nbreak\r\n-- x /*' },
  { label: 'placeholder-looking values', name: '$tag$ $1 {{password}}', password: '{{name}} $q$' },
  { label: 'prefix-looking values', name: "E'x' U&\"y\"", password: "E'\\x41' B'01'" },
];

const CANARY_ROWS = 1;


describe('statement templates against PostgreSQL', () => {
  let server: PostgresServer;
  let admin: Client;

  before(async () => {
    server = await startPostgres();
    admin = new Client({ connectionString: server.url });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query('CREATE TABLE t (x int); CREATE TABLE students (x int); INSERT INTO t VALUES (1); INSERT INTO students VALUES (1)');
  });

  after(async () => {
    await admin?.end().catch(() => undefined);
    await server?.stop();
  });

  afterEach(async () => {
    // Server-side quoting, independent of the code under test.
    const { rows } = await admin.query<{ q: string }>(`SELECT quote_ident(rolname) AS q FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres'`);
    for (const { q } of rows) await admin.query(`DROP OWNED BY ${q}; DROP ROLE ${q}`);
  });

  /** Executes one rendered statement, after checking it is one statement. */
  async function exec(sql: string, client: Client = admin): Promise<void> {
    assert.equal(splitStatements(sql).length, 1, `expected a single statement:\n${sql}`);
    await client.query(sql);
  }

  async function appRoles(): Promise<string[]> {
    const { rows } = await admin.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY 1`);
    return rows.map((r) => r.rolname);
  }

  async function assertCanaries(): Promise<void> {
    const { rows } = await admin.query<{ t: string; students: string }>('SELECT (SELECT count(*) FROM t) AS t, (SELECT count(*) FROM students) AS students');
    assert.deepEqual(rows, [{ t: String(CANARY_ROWS), students: String(CANARY_ROWS) }]);
  }

  /** Exactly one application role exists, named exactly `name`, and it logs in with exactly `password`. */
  async function assertRole(name: string, password: string): Promise<void> {
    assert.deepEqual(await appRoles(), [name]);
    await assertCanaries();
    const who = await withPgClient(
      { host: server.host, port: server.port, database: server.database, user: name, password },
      async (client) => (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u,
    );
    assert.equal(who, name);
  }

  async function canSelect(name: string): Promise<boolean> {
    const { rows } = await admin.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'public.t', 'SELECT') AS ok`, [name]);
    return rows[0]?.ok === true;
  }

  it('would be injectable with raw substitution (the canary works)', async () => {
    const raw = `CREATE ROLE "n" WITH LOGIN PASSWORD '{{password}}'`.split('{{password}}').join("x'; DROP TABLE t; --");
    await admin.query('BEGIN');
    try {
      await admin.query(raw);
      const { rows } = await admin.query<{ gone: boolean }>(`SELECT to_regclass('public.t') IS NULL AS gone`);
      assert.deepEqual(rows, [{ gone: true }]);
    } finally {
      await admin.query('ROLLBACK');
    }
    await assertCanaries();
  });

  for (const c of CASES) {
    describe(c.label, () => {
      const values: TemplateValues = { name: c.name, password: c.password, expiration: '2099-01-02 03:04:05+00' };

      it('CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\'', async () => {
        await exec(renderStatement(`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, values));
        await assertRole(c.name, c.password);
      });

      it('CREATE ROLE {{name}} LOGIN PASSWORD {{password}} (bare)', async () => {
        await exec(renderStatement('CREATE ROLE {{name}} LOGIN PASSWORD {{password}}', values));
        await assertRole(c.name, c.password);
      });

      it('with standard_conforming_strings off', async () => {
        await withPgClient({ connectionString: server.url }, async (client) => {
          await client.query('SET standard_conforming_strings = off; SET escape_string_warning = off');
          await exec(renderStatement(`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, values), client);
        });
        await assertRole(c.name, c.password);
      });

      it("DO $$ … format('GRANT SELECT ON t TO %I', '{{name}}') … $$", async () => {
        await exec(renderStatement(`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}'`, values));
        const template = "DO $$ BEGIN EXECUTE format('GRANT SELECT ON t TO %I', '{{name}}'); END $$";
        if (c.name.includes('$$')) {
          // The value would end the dollar quote: refused, nothing runs.
          assert.throws(() => renderStatement(template, values), TemplateError);
          assert.equal(await canSelect(c.name), false);
        } else {
          await exec(renderStatement(template, values));
          assert.equal(await canSelect(c.name), true);
        }
        await assertRole(c.name, c.password);
      });

      it('dynamic SQL: EXECUTE \'CREATE ROLE "{{name}}" … \'\'{{password}}\'\'\'', async () => {
        const template = `DO $fn$ BEGIN EXECUTE 'CREATE ROLE "{{name}}" LOGIN PASSWORD ''{{password}}'''; END $fn$`;
        await exec(renderStatement(template, values));
        await assertRole(c.name, c.password);
      });

      it('Vault-style creation_statements, split and rendered', async () => {
        const input = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';\nGRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";`;
        const statements = parseStatementsInput([Buffer.from(input).toString('base64')]);
        assert.equal(statements.length, 2);
        for (const statement of statements) await exec(renderStatement(statement, values));
        await assertRole(c.name, c.password);
        assert.equal(await canSelect(c.name), true);
        const { rows } = await admin.query<{ until: string }>(`SELECT to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS until FROM pg_roles WHERE rolname = $1`, [c.name]);
        assert.deepEqual(rows, [{ until: '2099-01-02 03:04:05' }]);
      });
    });
  }
});
