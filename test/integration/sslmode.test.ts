/**
 * sslmode against real PostgreSQL servers, in both connection-string forms:
 * a TLS server with a self-signed CA whose pg_hba.conf has a hostssl-only
 * user, a hostnossl-only user and a `cert` user; a TLS server whose
 * certificate names another host; and a server with ssl = off. Each case
 * writes config/ through the engine (verify_connection, as an operator
 * would, so errors are the text Vault returns) and then queries over the
 * engine's pool factory: who is logged in, and whether pg_stat_ssl says the
 * connection is encrypted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { clientConfig } from '../../src/postgres/connections/dsn';
import { pgPoolFactory } from '../../src/postgres/connections/pools';
import { engineBackend, type EngineBackend } from '../helpers/engine-backend';
import { startPostgres, type PostgresServer, type ServerTls } from '../helpers/postgres';

const SSL_ONLY = { user: 'ssl_only', password: 'pw-ssl-only-1' };
const PLAIN_ONLY = { user: 'plain_only', password: 'pw-plain-only-1' };
const CERT_USER = 'cert_user';
/** The readiness check needs postgres over TCP without TLS; everyone else gets one kind of line. */
const HBA = [
  `hostssl   all ${CERT_USER} 127.0.0.1/32 cert`,
  `hostssl   all ${SSL_ONLY.user} 127.0.0.1/32 scram-sha-256`,
  `hostnossl all ${PLAIN_ONLY.user} 127.0.0.1/32 scram-sha-256`,
  'host      all postgres 127.0.0.1/32 scram-sha-256',
];

type Form = 'URL' | 'key/value';
const FORMS: Form[] = ['URL', 'key/value'];

/** What a case is given: the server, who logs in, connection-string parameters and config fields. */
interface Case {
  server: () => PostgresServer;
  user?: { user: string; password: string };
  params: Record<string, string>;
  fields?: Record<string, string>;
  host?: string;
}

function connectionUrl(form: Form, c: Case): string {
  const server = c.server();
  const host = c.host ?? '127.0.0.1';
  if (form === 'URL') {
    const query = new URLSearchParams(c.params).toString();
    return `postgresql://{{username}}:{{password}}@${host}:${server.port}/postgres${query ? `?${query}` : ''}`;
  }
  const pairs = Object.entries(c.params).map(([k, v]) => `${k}='${v}'`);
  return [`host=${host}`, `port=${server.port}`, 'dbname=postgres', 'user={{username}}', 'password={{password}}', ...pairs].join(' ');
}

describe('sslmode against real servers (libpq semantics)', () => {
  let tlsServer: PostgresServer;
  let wrongHost: PostgresServer;
  let plainServer: PostgresServer;
  let tls: ServerTls;
  let otherCa: string;
  let e: EngineBackend;
  let configs = 0;

  before(async () => {
    [tlsServer, wrongHost, plainServer] = await Promise.all([
      startPostgres({ tls: { hba: HBA } }),
      startPostgres({ tls: { serverNames: ['db.wrong.example'] } }),
      startPostgres(),
    ]);
    assert.ok(tlsServer.tls && wrongHost.tls);
    tls = tlsServer.tls;
    otherCa = wrongHost.tls.ca;
    const admin = new Client({ connectionString: tlsServer.url });
    await admin.connect();
    await admin.query(`CREATE ROLE ${SSL_ONLY.user} LOGIN PASSWORD '${SSL_ONLY.password}';
      CREATE ROLE ${PLAIN_ONLY.user} LOGIN PASSWORD '${PLAIN_ONLY.password}';
      CREATE ROLE ${CERT_USER} LOGIN`);
    await admin.end();
    e = await engineBackend();
  });
  after(async () => {
    await Promise.all([tlsServer?.stop(), wrongHost?.stop(), plainServer?.stop()]);
  });

  /**
   * What an operator sees for `c` in `form`: the config write's error, or
   * "TLS"/"plaintext" with the user that is logged in (when not postgres),
   * the same over three concurrent pool connections.
   */
  async function outcome(form: Form, c: Case): Promise<string> {
    const login = c.user ?? { user: c.server().user, password: c.server().password };
    const url = connectionUrl(form, c);
    const body = { connection_url: url, username: login.user, password: login.password, allowed_roles: '*', ...c.fields };
    const written = await e.call('update', `config/c${++configs}`, body);
    const error = written?.data?.['error'];
    if (typeof error === 'string') return error;
    const pool = await pgPoolFactory({
      ...clientConfig({
        connectionUrl: url,
        username: login.user,
        password: login.password,
        disableEscaping: false,
        tlsCa: c.fields?.['tls_ca'] ?? '',
        tlsCertificate: c.fields?.['tls_certificate'] ?? '',
        privateKey: c.fields?.['private_key'] ?? '',
      }),
      max: 3,
    });
    pool.on('error', () => undefined);
    try {
      const rows = await Promise.all(
        [1, 2, 3].map(async () => {
          const res = await pool.query<{ ssl: boolean; who: string }>('SELECT s.ssl, current_user AS who FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()');
          const row = res.rows[0];
          assert.ok(row);
          return `${row.ssl ? 'TLS' : 'plaintext'}${row.who === 'postgres' ? '' : ` as ${row.who}`}`;
        }),
      );
      assert.equal(new Set(rows).size, 1, `all pool connections alike: ${rows.join(', ')}`);
      return rows[0] ?? '';
    } finally {
      await pool.end();
    }
  }

  /** Asserts `expected` for `c` in both forms. */
  async function expectBoth(c: Case, expected: string | RegExp): Promise<void> {
    for (const form of FORMS) {
      const got = await outcome(form, c);
      if (typeof expected === 'string') assert.equal(got, expected, `${form} ${JSON.stringify(c.params)}`);
      else assert.match(got, expected, `${form} ${JSON.stringify(c.params)}`);
    }
  }

  const tlsSrv = () => tlsServer;
  const NOT_TRUSTED = 'error verifying connection: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)';

  it('self-signed server, no CA given: disable and allow stay plaintext; prefer, no sslmode and require encrypt; verify-* refuse', async () => {
    await expectBoth({ server: tlsSrv, params: { sslmode: 'disable' } }, 'plaintext');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'allow' } }, 'plaintext');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'prefer' } }, 'TLS');
    await expectBoth({ server: tlsSrv, params: {} }, 'TLS');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'require' } }, 'TLS');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'require' }, host: 'localhost' }, 'TLS');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'verify-ca' } }, /^sslmode=verify-ca needs the CA to check the server certificate against/);
    await expectBoth({ server: tlsSrv, params: { sslmode: 'verify-full' } }, NOT_TRUSTED);
  });

  it('with tls_ca: verify-ca and verify-full pass for 127.0.0.1 and localhost; require checks the chain; another CA fails', async () => {
    const ca = { tls_ca: tls.ca };
    for (const host of ['127.0.0.1', 'localhost']) {
      for (const sslmode of ['require', 'verify-ca', 'verify-full']) await expectBoth({ server: tlsSrv, params: { sslmode }, fields: ca, host }, 'TLS');
    }
    await expectBoth({ server: tlsSrv, params: {}, fields: ca }, 'TLS');
    for (const sslmode of ['require', 'verify-ca', 'verify-full']) {
      await expectBoth({ server: tlsSrv, params: { sslmode }, fields: { tls_ca: otherCa } }, NOT_TRUSTED);
    }
    // allow and prefer never check, as in libpq (the config write warns).
    await expectBoth({ server: tlsSrv, params: { sslmode: 'prefer' }, fields: { tls_ca: otherCa } }, 'TLS');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'allow' }, fields: { tls_ca: otherCa } }, 'plaintext');
    // sslrootcert names the same CA as a file on this machine.
    await expectBoth({ server: tlsSrv, params: { sslmode: 'verify-full', sslrootcert: tls.caFile } }, 'TLS');
    await expectBoth({ server: tlsSrv, params: { sslmode: 'require', sslrootcert: wrongHost.tls?.caFile ?? '' } }, NOT_TRUSTED);
  });

  it('a certificate for another host name: verify-ca and require (with the CA) pass, verify-full fails naming the mismatch', async () => {
    const ca = { tls_ca: otherCa };
    const srv = () => wrongHost;
    await expectBoth({ server: srv, params: { sslmode: 'verify-ca' }, fields: ca }, 'TLS');
    await expectBoth({ server: srv, params: { sslmode: 'require' }, fields: ca }, 'TLS');
    await expectBoth({ server: srv, params: { sslmode: 'require' } }, 'TLS');
    await expectBoth(
      { server: srv, params: { sslmode: 'verify-full' }, fields: ca },
      "error verifying connection: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list:  (ERR_TLS_CERT_ALTNAME_INVALID)",
    );
    await expectBoth(
      { server: srv, params: { sslmode: 'verify-full' }, fields: ca, host: 'localhost' },
      "error verifying connection: Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:db.wrong.example (ERR_TLS_CERT_ALTNAME_INVALID)",
    );
    // No sslmode with a CA means verify-full here (see README).
    await expectBoth({ server: srv, params: {}, fields: ca }, /^error verifying connection: Hostname\/IP does not match/);
  });

  it('client certificate authentication (hostssl … cert) with tls_certificate/private_key and with sslcert/sslkey', async () => {
    const user = { user: CERT_USER, password: '' };
    const cert = { tls_certificate: tls.clientCertificate, private_key: tls.clientKey };
    await expectBoth({ server: tlsSrv, user, params: { sslmode: 'require' }, fields: cert }, `TLS as ${CERT_USER}`);
    await expectBoth({ server: tlsSrv, user, params: { sslmode: 'verify-full' }, fields: { ...cert, tls_ca: tls.ca } }, `TLS as ${CERT_USER}`);
    await expectBoth({ server: tlsSrv, user, params: { sslmode: 'verify-ca' }, fields: { ...cert, tls_ca: tls.ca } }, `TLS as ${CERT_USER}`);
    await expectBoth({ server: tlsSrv, user, params: { sslmode: 'prefer' }, fields: cert }, `TLS as ${CERT_USER}`);
    await expectBoth({ server: tlsSrv, user, params: {}, fields: cert }, `TLS as ${CERT_USER}`);
    // allow: plaintext first; pg_hba.conf has no line for that, so TLS.
    await expectBoth({ server: tlsSrv, user, params: { sslmode: 'allow' }, fields: cert }, `TLS as ${CERT_USER}`);
    await expectBoth(
      { server: tlsSrv, user, params: { sslmode: 'require', sslcert: tls.clientCertificateFile, sslkey: tls.clientKeyFile } },
      `TLS as ${CERT_USER}`,
    );
    await expectBoth(
      { server: tlsSrv, user, params: { sslmode: 'disable' }, fields: cert },
      `error verifying connection: no pg_hba.conf entry for host "127.0.0.1", user "${CERT_USER}", database "postgres", no encryption (28000)`,
    );
    await expectBoth(
      { server: tlsSrv, user, params: { sslmode: 'require' } },
      `error verifying connection: connection requires a valid client certificate (28000)`,
    );
    await expectBoth(
      { server: tlsSrv, user, params: { sslmode: 'prefer' } },
      'error verifying connection: over TLS: connection requires a valid client certificate (28000); ' +
        `without TLS: no pg_hba.conf entry for host "127.0.0.1", user "${CERT_USER}", database "postgres", no encryption (28000)`,
    );
  });

  it('allow and prefer against hostssl-only and hostnossl-only lines fall back to the transport the server takes', async () => {
    for (const sslmode of ['allow', 'prefer']) {
      await expectBoth({ server: tlsSrv, user: SSL_ONLY, params: { sslmode } }, `TLS as ${SSL_ONLY.user}`);
      await expectBoth({ server: tlsSrv, user: PLAIN_ONLY, params: { sslmode } }, `plaintext as ${PLAIN_ONLY.user}`);
    }
    await expectBoth({ server: tlsSrv, user: PLAIN_ONLY, params: {} }, `plaintext as ${PLAIN_ONLY.user}`);
    await expectBoth(
      { server: tlsSrv, user: SSL_ONLY, params: { sslmode: 'disable' } },
      `error verifying connection: no pg_hba.conf entry for host "127.0.0.1", user "${SSL_ONLY.user}", database "postgres", no encryption (28000)`,
    );
    for (const [sslmode, fields] of [['require', {}], ['verify-full', { tls_ca: tls.ca }]] as const) {
      await expectBoth(
        { server: tlsSrv, user: PLAIN_ONLY, params: { sslmode }, fields },
        `error verifying connection: no pg_hba.conf entry for host "127.0.0.1", user "${PLAIN_ONLY.user}", database "postgres", SSL encryption (28000)`,
      );
    }
    // Both attempts fail: both reasons, in the order tried.
    await expectBoth(
      { server: tlsSrv, user: { ...SSL_ONLY, password: 'wrong' }, params: { sslmode: 'allow' } },
      `error verifying connection: without TLS: no pg_hba.conf entry for host "127.0.0.1", user "${SSL_ONLY.user}", database "postgres", no encryption (28000); ` +
        `over TLS: password authentication failed for user "${SSL_ONLY.user}" (28P01)`,
    );
    // A wrong password is final: no second attempt, the server's own words.
    await expectBoth(
      { server: tlsSrv, user: { ...PLAIN_ONLY, password: 'wrong' }, params: { sslmode: 'allow' } },
      `error verifying connection: password authentication failed for user "${PLAIN_ONLY.user}" (28P01)`,
    );
  });

  it('a server with ssl = off: prefer and allow connect in plaintext, require and verify-* fail saying so', async () => {
    const srv = () => plainServer;
    const plaintext: Record<string, string>[] = [{ sslmode: 'prefer' }, { sslmode: 'allow' }, { sslmode: 'disable' }, {}];
    for (const params of plaintext) await expectBoth({ server: srv, params }, 'plaintext');
    for (const [sslmode, fields] of [['require', {}], ['verify-ca', { tls_ca: tls.ca }], ['verify-full', { tls_ca: tls.ca }]] as const) {
      await expectBoth({ server: srv, params: { sslmode }, fields }, 'error verifying connection: The server does not support SSL connections');
    }
    // The 'N' of a server without TLS is no news to prefer: only the plaintext attempt's failure is reported.
    await expectBoth(
      { server: srv, user: { user: 'postgres', password: 'wrong' }, params: { sslmode: 'prefer' } },
      'error verifying connection: password authentication failed for user "postgres" (28P01)',
    );
  });

  it('warns when the mode leaves tls_ca or the client certificate unused, and never echoes the key', async () => {
    const write = async (params: Record<string, string>, fields: Record<string, string>) => {
      const res = await e.call('update', `config/w${++configs}`, {
        connection_url: connectionUrl('URL', { server: tlsSrv, params }),
        username: tlsServer.user,
        password: tlsServer.password,
        ...fields,
      });
      return { warnings: res?.warnings ?? [], text: JSON.stringify(res ?? {}) };
    };
    const prefer = await write({ sslmode: 'prefer' }, { tls_ca: tls.ca });
    assert.deepEqual(prefer.warnings, [
      'sslmode=prefer never checks the server certificate, so the CA (tls_ca or sslrootcert) is not used; use sslmode=verify-full (or verify-ca) to check the server against it',
    ]);
    const disable = await write({ sslmode: 'disable' }, { tls_certificate: tls.clientCertificate, private_key: tls.clientKey });
    assert.deepEqual(disable.warnings, ['sslmode=disable: the connection is not encrypted, so tls_ca, tls_certificate and private_key are not used']);
    const mismatch = await write({ sslmode: 'require' }, { tls_certificate: tls.clientCertificate, private_key: (wrongHost.tls?.clientKey ?? '') });
    assert.match(mismatch.text, /cannot be used: key values mismatch/);
    assert.equal(mismatch.text.includes('PRIVATE KEY'), false);
  });
});
