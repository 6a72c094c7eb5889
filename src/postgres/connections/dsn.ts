// Connection strings as operators write them for Vault's database engine:
// a URL (`postgresql://{{username}}:{{password}}@host:5432/db?sslmode=verify-full`)
// or libpq key/value pairs (`host=db port=5432 user={{username}} dbname=app`),
// with the root credentials templated in. Nothing here ever puts a password
// into an error message.

import * as fs from 'node:fs';
import { parse as parseUrl } from 'pg-connection-string';
import type { ClientConfig } from 'pg';
import { tlsMaterialProblem, transportFor, unusedTlsSettings, type TlsSource } from './sslmode';
import type { ConnectConfig } from './transport';

/** The parts of a connection config that say how to reach the database. */
export interface ConnectionTarget {
  connectionUrl: string;
  username: string;
  password: string;
  /** Insert credentials verbatim instead of URL-escaping them. */
  disableEscaping: boolean;
  /** PEM CA bundle to verify the server with (libpq's sslrootcert, by value); empty: none. */
  tlsCa: string;
  /** PEM client certificate and key for certificate authentication. */
  tlsCertificate: string;
  privateKey: string;
}

/** Thrown for an unusable connection string; the message never quotes it. */
export class ConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

const URL_SCHEME = /^postgres(?:ql)?:\/\//i;
const TEMPLATE = /\{\{\s*(username|password)\s*\}\}/g;
const REDACTED = '*****';

/** True for URL-form connection strings (`postgres://…`, `postgresql://…`). */
export function isUrl(connectionUrl: string): boolean {
  return URL_SCHEME.test(connectionUrl);
}

/** Options of {@link clientConfig}. */
export interface ClientConfigOptions {
  /**
   * Also parse the CA, client certificate and key, and refuse them when they
   * cannot be used (config writes). Absent: they reach TLS unchecked, and a
   * bad one fails the connection.
   */
  checkTlsMaterial?: boolean;
}

/**
 * Builds pg's client configuration for `target`: `ssl` as its sslmode says
 * (sslmode.ts), and for allow and prefer the transport to retry with.
 */
export function clientConfig(target: ConnectionTarget, options: ClientConfigOptions = {}): ConnectConfig {
  const { config, tls } = parseTarget(target);
  const materialProblem = options.checkTlsMaterial ? tlsMaterialProblem(tls) : undefined;
  if (materialProblem !== undefined) throw new ConnectionStringError(materialProblem);
  const outcome = transportFor(tls);
  if ('problem' in outcome) throw new ConnectionStringError(outcome.problem);
  const { ssl, fallbackSsl } = outcome.transport;
  return fallbackSsl === undefined ? { ...config, ssl } : { ...config, ssl, fallbackSsl };
}

/** TLS settings of `target` that its sslmode does not use, as warnings for the operator. */
export function unusedTlsWarnings(target: ConnectionTarget): string[] {
  return unusedTlsSettings(parseTarget(target).tls);
}

/** The connection settings of `target` and where its TLS settings come from. */
interface ParsedTarget {
  config: ClientConfig;
  tls: TlsSource;
}

function parseTarget(target: ConnectionTarget): ParsedTarget {
  return isUrl(target.connectionUrl) ? fromUrl(target) : fromKeyValue(target);
}

/**
 * URL query parameters about TLS: libpq's, and node-postgres' `ssl` and
 * `uselibpqcompat`. They are taken out before pg-connection-string sees the
 * URL, which would apply its own (non-libpq) sslmode rules.
 */
const URL_TLS_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat']);

function fromUrl(target: ConnectionTarget): ParsedTarget {
  const escape = target.disableEscaping ? (s: string) => s : encodeURIComponent;
  // TLS parameters are taken from the URL before templates are filled, so no
  // credential can add or change one.
  const { url, params } = takeUrlTlsParams(target.connectionUrl);
  const text = url.replace(TEMPLATE, (_m, name: string) =>
    escape(name === 'username' ? target.username : target.password),
  );
  let parsed: ReturnType<typeof parseUrl>;
  try {
    parsed = parseUrl(text);
  } catch {
    throw new ConnectionStringError('connection_url is not a valid PostgreSQL URL');
  }
  const config: ClientConfig = {
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    database: parsed.database ?? undefined,
    user: parsed.user ?? (target.username || undefined),
    password: parsed.password ?? (target.password || undefined),
    application_name: parsed.application_name ?? undefined,
    options: parsed.options ?? undefined,
  };
  if (config.port !== undefined && !Number.isInteger(config.port)) {
    throw new ConnectionStringError('connection_url has an invalid port');
  }
  const tls = tlsSource(target, config.host, {
    sslmode: params.get('sslmode') ?? nodePostgresSsl(params.get('ssl')),
    sslrootcert: params.get('sslrootcert'),
    sslcert: params.get('sslcert'),
    sslkey: params.get('sslkey'),
  });
  return { config, tls };
}

/**
 * node-postgres' `ssl=true` (verify the server fully) and `ssl=false`, as the
 * sslmode they have always meant here; absent or other: no sslmode.
 */
function nodePostgresSsl(value: string | undefined): string | undefined {
  if (value === 'true' || value === '1') return 'verify-full';
  if (value === 'false' || value === '0') return 'disable';
  return undefined;
}

/** `url` without its TLS query parameters, and those parameters (decoded). */
function takeUrlTlsParams(url: string): { url: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return { url, params };
  const hash = url.indexOf('#', queryStart);
  const queryEnd = hash < 0 ? url.length : hash;
  const kept: string[] = [];
  for (const piece of url.slice(queryStart + 1, queryEnd).split('&')) {
    const [entry] = new URLSearchParams(piece);
    if (entry !== undefined && URL_TLS_PARAMS.has(entry[0])) params.set(entry[0], entry[1]);
    else if (piece !== '') kept.push(piece);
  }
  return { url: `${url.slice(0, queryStart)}${kept.length > 0 ? `?${kept.join('&')}` : ''}${url.slice(queryEnd)}`, params };
}

/** libpq's TLS parameters of a connection string (empty values count as absent). */
interface TlsParams {
  sslmode?: string | undefined;
  sslrootcert?: string | undefined;
  sslcert?: string | undefined;
  sslkey?: string | undefined;
}

/**
 * Where the TLS settings come from: the config fields (tls_ca,
 * tls_certificate, private_key) or the files sslrootcert, sslcert and sslkey
 * name on this (the Vault server's) machine, as pgx reads them. Giving one
 * thing both ways is refused rather than guessed.
 */
function tlsSource(target: ConnectionTarget, host: string | undefined, params: TlsParams): TlsSource {
  const rootCertFile = params.sslrootcert || undefined;
  const certFile = params.sslcert || undefined;
  const keyFile = params.sslkey || undefined;
  if (target.tlsCa !== '' && rootCertFile !== undefined) {
    throw new ConnectionStringError('give the CA either as tls_ca or as sslrootcert in connection_url, not both');
  }
  if ((target.tlsCertificate !== '' || target.privateKey !== '') && (certFile !== undefined || keyFile !== undefined)) {
    throw new ConnectionStringError('give the client certificate either as tls_certificate and private_key or as sslcert and sslkey in connection_url, not both');
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConnectionStringError('connection_url: sslcert and sslkey must be given together');
  }
  const systemRoots = rootCertFile === SYSTEM_ROOT_CERT;
  return {
    sslmode: params.sslmode || undefined,
    rootCert: rootCertFile === undefined || systemRoots ? target.tlsCa : readTlsFile('sslrootcert', rootCertFile),
    systemRoots,
    clientCert: certFile === undefined ? target.tlsCertificate : readTlsFile('sslcert', certFile),
    clientKey: keyFile === undefined ? target.privateKey : readTlsFile('sslkey', keyFile),
    unixSocket: host?.startsWith('/') ?? false,
  };
}

/** sslrootcert=system (libpq 16): the trusted CAs of the platform, here Node's. */
const SYSTEM_ROOT_CERT = 'system';

/** The content of a file a TLS parameter names; the error names the parameter and path, never content. */
function readTlsFile(param: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'unreadable';
    throw new ConnectionStringError(`connection_url: cannot read the ${param} file ${JSON.stringify(file)} (${code})`);
  }
}

/** libpq `key=value` pairs; values may be single-quoted with `\'` and `\\`. */
export function parseKeyValue(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s']*))/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = re.exec(text)) !== null) {
    const key = match[1] ?? '';
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '');
    pairs.set(key.toLowerCase(), value);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== '') {
    throw new ConnectionStringError('connection_url is neither a postgresql:// URL nor libpq key=value pairs');
  }
  return pairs;
}

function fromKeyValue(target: ConnectionTarget): ParsedTarget {
  const pairs = parseKeyValue(target.connectionUrl);
  // Templates are filled after parsing, so no value can change the structure.
  const fill = (value: string | undefined) =>
    value?.replace(TEMPLATE, (_m, name: string) => (name === 'username' ? target.username : target.password));
  const port = pairs.get('port');
  const config: ClientConfig = {
    host: pairs.get('host') ?? pairs.get('hostaddr'),
    port: port === undefined ? undefined : Number(port),
    database: pairs.get('dbname'),
    user: fill(pairs.get('user')) || target.username || undefined,
    password: fill(pairs.get('password')) || target.password || undefined,
    application_name: pairs.get('application_name'),
    options: pairs.get('options'),
  };
  if (config.port !== undefined && !Number.isInteger(config.port)) {
    throw new ConnectionStringError('connection_url has an invalid port');
  }
  const connectTimeout = pairs.get('connect_timeout');
  if (connectTimeout !== undefined) config.connectionTimeoutMillis = Number(connectTimeout) * 1000;
  const tls = tlsSource(target, config.host, {
    sslmode: pairs.get('sslmode'),
    sslrootcert: pairs.get('sslrootcert'),
    sslcert: pairs.get('sslcert'),
    sslkey: pairs.get('sslkey'),
  });
  return { config, tls };
}

/** A whole value that is the `{{password}}` template. */
const PASSWORD_TEMPLATE = /^\{\{\s*password\s*\}\}$/;

/**
 * True when a URL connection string carries a password of its own in its
 * userinfo (`user:secret@`, an empty one included) instead of `{{password}}`:
 * such a URL is not changed by rotate-root and keeps a secret in the config.
 */
export function hasLiteralUrlPassword(connectionUrl: string): boolean {
  if (!isUrl(connectionUrl)) return false;
  const userinfo = /^[a-z]+:\/\/([^@/?#]*)@/i.exec(connectionUrl)?.[1];
  if (userinfo === undefined || !userinfo.includes(':')) return false;
  return !PASSWORD_TEMPLATE.test(userinfo.slice(userinfo.indexOf(':') + 1));
}

/** The connection string with any literal password replaced, for reads. */
export function redactConnectionUrl(connectionUrl: string): string {
  if (isUrl(connectionUrl)) {
    // scheme://user:password@ — keep template variables, hide literal values.
    return connectionUrl.replace(/^([a-z]+:\/\/[^:@/?#]*:)([^@/?#]*)@/i, (whole, head: string, pw: string) =>
      PASSWORD_TEMPLATE.test(pw) ? whole : `${head}${REDACTED}@`,
    ).replace(/([?&]password=)([^&#]*)/gi, (whole, head: string, pw: string) =>
      /^(\{\{\s*password\s*\}\}|%7B%7Bpassword%7D%7D)$/i.test(pw) ? whole : `${head}${REDACTED}`,
    );
  }
  return connectionUrl.replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']*)/gi, (whole, head: string, pw: string) =>
    /\{\{\s*password\s*\}\}/.test(pw) ? whole : `${head}${REDACTED}`,
  );
}
