/**
 * TLS for the throw-away PostgreSQL servers of scripts/lib/postgres.ts
 * (`startPostgres({ tls: … })`): a fresh self-signed CA per server (made with
 * the `openssl` command), a server certificate it signed, a client
 * certificate for `cert` authentication, `ssl = on` in postgresql.conf and
 * the pg_hba.conf lines the test asks for.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How a server started with `tls` is set up; every key may be left out. */
export interface TlsOptions {
  /**
   * Names in the server certificate's subjectAltName: host names, or IP
   * addresses. Default: `localhost` and `127.0.0.1`, the names the tests
   * connect by. Give another (e.g. `db.wrong.example`) for a certificate
   * that fails a host-name check.
   */
  serverNames?: string[];
  /**
   * The lines of pg_hba.conf after `local all all trust`, e.g.
   * `hostssl all app 127.0.0.1/32 scram-sha-256`. The readiness check logs in
   * as `postgres` with its password over TCP without TLS, so the lines must
   * allow that. Default: `host all all 127.0.0.1/32 scram-sha-256` (with or
   * without TLS).
   */
  hba?: string[];
  /** Common name of the client certificate, i.e. the role `cert` authentication logs in as. Default `cert_user`. */
  clientUser?: string;
}

/** The TLS material of a server started with `tls`, for the tests' clients. */
export interface ServerTls {
  /** PEM of the CA that signed the server and the client certificate. */
  ca: string;
  /** The same CA as a file (for sslrootcert). */
  caFile: string;
  /** PEM client certificate (CN = clientUser) and its private key. */
  clientCertificate: string;
  clientKey: string;
  /** The same certificate and key as files (for sslcert and sslkey). */
  clientCertificateFile: string;
  clientKeyFile: string;
  /** Role name the client certificate authenticates as. */
  clientUser: string;
}

const DEFAULT_SERVER_NAMES = ['localhost', '127.0.0.1'];
const DEFAULT_HBA = ['host all all 127.0.0.1/32 scram-sha-256'];
const DEFAULT_CLIENT_USER = 'cert_user';
/** The servers live for one test run. */
const VALIDITY_DAYS = '2';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes the CA and certificates under `dir` (created; removed with the
 * server's temp directory), puts the server's into the data directory with
 * `writeOwned` (0600, owned by the server's OS user), and turns TLS on.
 */
export function configureTls(
  options: TlsOptions,
  dirs: { dir: string; data: string },
  writeOwned: (file: string, content: string) => void,
): ServerTls {
  fs.mkdirSync(dirs.dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dirs.dir, name);
  openssl(dirs.dir, ['req', '-x509', '-new', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', VALIDITY_DAYS,
    '-subj', '/CN=vault-plugin-secrets-postgres test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const serverNames = options.serverNames ?? DEFAULT_SERVER_NAMES;
  const altNames = serverNames.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  signLeaf(dirs.dir, 'server', serverNames[0] ?? 'localhost', [`subjectAltName=${altNames}`, 'extendedKeyUsage=serverAuth']);
  const clientUser = options.clientUser ?? DEFAULT_CLIENT_USER;
  signLeaf(dirs.dir, 'client', clientUser, ['extendedKeyUsage=clientAuth']);

  const read = (name: string) => fs.readFileSync(file(name), 'utf8');
  for (const name of ['ca.crt', 'server.crt', 'server.key']) writeOwned(path.join(dirs.data, name), read(name));
  fs.appendFileSync(
    path.join(dirs.data, 'postgresql.conf'),
    ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "ssl_ca_file = 'ca.crt'", ''].join('\n'),
  );
  writeOwned(path.join(dirs.data, 'pg_hba.conf'), ['local all all trust', ...(options.hba ?? DEFAULT_HBA), ''].join('\n'));
  return {
    ca: read('ca.crt'),
    caFile: file('ca.crt'),
    clientCertificate: read('client.crt'),
    clientKey: read('client.key'),
    clientCertificateFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    clientUser,
  };
}

/** `<name>.key` and `<name>.crt` signed by the CA in `dir`, for CN `commonName`, with `extensions`. */
function signLeaf(dir: string, name: string, commonName: string, extensions: string[]): void {
  openssl(dir, ['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), [...extensions, 'basicConstraints=CA:FALSE', ''].join('\n'));
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-days', VALIDITY_DAYS,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

function openssl(cwd: string, args: string[]): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`openssl ${args[0]} failed (${res.error?.message ?? `exit ${res.status}`}): ${res.stderr}; install it with: apt-get install -y openssl`);
  }
}
