// Connection strings as operators write them for Vault's database engine:
// a URL (`postgresql://{{username}}:{{password}}@host:5432/db?sslmode=verify-full`)
// or libpq key/value pairs (`host=db port=5432 user={{username}} dbname=app`),
// with the root credentials templated in. Nothing here ever puts a password
// into an error message.

import { parse as parseUrl } from 'pg-connection-string';
import type { ClientConfig } from 'pg';

/** The parts of a connection config that say how to reach the database. */
export interface ConnectionTarget {
  connectionUrl: string;
  username: string;
  password: string;
  /** Insert credentials verbatim instead of URL-escaping them. */
  disableEscaping: boolean;
  /** PEM CA bundle to verify the server with; empty means libpq's rules. */
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

/** Builds pg's client configuration for `target`. */
export function clientConfig(target: ConnectionTarget): ClientConfig {
  const base = isUrl(target.connectionUrl) ? fromUrl(target) : fromKeyValue(target);
  return withTls(base, target);
}

function fromUrl(target: ConnectionTarget): ClientConfig {
  const escape = target.disableEscaping ? (s: string) => s : encodeURIComponent;
  const text = target.connectionUrl.replace(TEMPLATE, (_m, name: string) =>
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
  if (parsed.ssl !== undefined && parsed.ssl !== null) config.ssl = parsed.ssl as ClientConfig['ssl'];
  return config;
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

const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

function fromKeyValue(target: ConnectionTarget): ClientConfig {
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
  const sslmode = pairs.get('sslmode');
  if (sslmode !== undefined) {
    if (!SSL_MODES.has(sslmode)) throw new ConnectionStringError(`connection_url: unknown sslmode ${JSON.stringify(sslmode)}`);
    config.ssl = sslFor(sslmode);
  }
  return config;
}

/** libpq sslmode as node-postgres `ssl` (as pg-connection-string maps it). */
function sslFor(mode: string): ClientConfig['ssl'] {
  switch (mode) {
    case 'disable':
      return false;
    case 'verify-full':
      return {};
    case 'verify-ca':
      return { checkServerIdentity: () => undefined };
    default:
      // prefer/require/allow: encrypted but not verified, as libpq does.
      return { rejectUnauthorized: false };
  }
}

function withTls(config: ClientConfig, target: ConnectionTarget): ClientConfig {
  if (!target.tlsCa && !target.tlsCertificate && !target.privateKey) return config;
  const base = typeof config.ssl === 'object' ? config.ssl : {};
  return {
    ...config,
    ssl: {
      ...base,
      ...(target.tlsCa ? { ca: target.tlsCa, rejectUnauthorized: true } : {}),
      ...(target.tlsCertificate ? { cert: target.tlsCertificate } : {}),
      ...(target.privateKey ? { key: target.privateKey } : {}),
    },
  };
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
