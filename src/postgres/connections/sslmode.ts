// libpq's sslmode, applied to node-postgres. Each mode becomes the `ssl`
// option of pg (false: plaintext; otherwise tls.connect options), and allow
// and prefer get a second one to retry with (see transport.ts):
//
//   disable      plaintext
//   allow        plaintext; TLS (unverified) if the server turns plaintext away
//   prefer       TLS (unverified); plaintext if the server turns TLS away
//   require      TLS, certificate not checked; with a root CA given, the chain
//                is checked against it (libpq's rule for a root CA file, and
//                pgx's for sslrootcert), as verify-ca
//   verify-ca    TLS, chain checked against the root CA; host name not checked
//   verify-full  TLS, chain and host name checked (root CA, else Node's CAs)
//
// The root CA is tls_ca or the file sslrootcert names; the client
// certificate is tls_certificate/private_key or sslcert/sslkey. It is sent
// whenever TLS is used. Without sslmode the mode is libpq's default, prefer,
// except that a root CA alone means verify-full: naming a CA asks for the
// server to be checked against it (this plugin did so before sslmode was
// honoured, and libpq does the same for sslrootcert=system). Unix-domain
// sockets never use TLS, as in libpq and pgx.

import { X509Certificate } from 'node:crypto';
import { createSecureContext, type ConnectionOptions } from 'node:tls';

/** libpq's sslmode values, weakest first. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/** One of libpq's sslmode values. */
export type SslMode = (typeof SSL_MODES)[number];

/** node-postgres' `ssl`: false for plaintext, else the tls.connect options. */
export type SslSetting = false | ConnectionOptions;

/** libpq's (and pgx's) mode when the connection string names none. */
export const DEFAULT_SSL_MODE: SslMode = 'prefer';

/** The mode when the connection string names none but a root CA is given. */
export const DEFAULT_SSL_MODE_WITH_ROOT_CA: SslMode = 'verify-full';

/**
 * node-postgres' own sslmode for "encrypt, never check": kept so that
 * connection strings written for this plugin before require worked as libpq's
 * keep working. Unlike require it ignores a root CA.
 */
export const NO_VERIFY = 'no-verify';

/** Where the TLS settings of a connection come from. */
export interface TlsSource {
  /** sslmode of the connection string; undefined when it names none. */
  sslmode: string | undefined;
  /** PEM root CA certificate(s) (tls_ca, or the file sslrootcert names); '' for none. */
  rootCert: string;
  /** sslrootcert=system: Node's built-in CA certificates, and verify-full only (libpq 16). */
  systemRoots: boolean;
  /** PEM client certificate (tls_certificate or sslcert's file); '' for none. */
  clientCert: string;
  /** PEM private key of clientCert; '' for none. */
  clientKey: string;
  /** The host is a Unix-domain socket directory: no TLS there. */
  unixSocket: boolean;
}

/** How to connect: the `ssl` of the first attempt and, for allow and prefer, the one to retry with. */
export interface Transport {
  mode: SslMode;
  ssl: SslSetting;
  /** allow and prefer: the other transport, tried when the server turns the first away. */
  fallbackSsl?: SslSetting;
}

/** A transport, or the sentence that says why the settings cannot work. */
export type TransportOutcome = { transport: Transport } | { problem: string };

/** How much of the server certificate is checked. */
type Verification = 'none' | 'chain' | 'full';

/** The transport `source` asks for, or what is wrong with it. Never quotes certificates or keys. */
export function transportFor(source: TlsSource): TransportOutcome {
  const noVerify = source.sslmode === NO_VERIFY;
  const given = noVerify ? 'require' : source.sslmode;
  const mode = given === undefined ? defaultMode(source) : SSL_MODES.find((m) => m === given);
  if (mode === undefined) {
    return { problem: `connection_url: unknown sslmode ${JSON.stringify(given)}; use one of ${SSL_MODES.join(', ')}` };
  }
  if (source.systemRoots && mode !== 'verify-full') {
    return { problem: `connection_url: sslrootcert=system needs sslmode=verify-full (got ${mode}), as in libpq` };
  }
  if ((source.clientCert === '') !== (source.clientKey === '')) {
    return { problem: 'the client certificate and its private key must be given together (tls_certificate with private_key, or sslcert with sslkey)' };
  }
  if (mode === 'verify-ca' && source.rootCert === '') {
    return {
      problem:
        'sslmode=verify-ca needs the CA to check the server certificate against: set tls_ca (or sslrootcert in connection_url); ' +
        'for a server with a publicly trusted certificate use verify-full, which also checks the host name',
    };
  }
  if (source.unixSocket || mode === 'disable') return { transport: { mode, ssl: false } };
  const tls = (verification: Verification) => tlsOptions(source, verification);
  switch (mode) {
    case 'allow':
      return { transport: { mode, ssl: false, fallbackSsl: tls('none') } };
    case 'prefer':
      return { transport: { mode, ssl: tls('none'), fallbackSsl: false } };
    case 'require':
      return { transport: { mode, ssl: tls(source.rootCert !== '' && !noVerify ? 'chain' : 'none') } };
    case 'verify-ca':
      return { transport: { mode, ssl: tls('chain') } };
    case 'verify-full':
      return { transport: { mode, ssl: tls('full') } };
  }
}

/**
 * Settings that do nothing in the mode at hand, in words for the operator
 * (config write warnings). Empty when everything given is used.
 */
export function unusedTlsSettings(source: TlsSource): string[] {
  const outcome = transportFor(source);
  if ('problem' in outcome) return [];
  const { mode } = outcome.transport;
  const hasTlsMaterial = source.rootCert !== '' || source.clientCert !== '';
  if (source.unixSocket && hasTlsMaterial) {
    return ['connection_url names a Unix-domain socket, where TLS is never used: tls_ca, tls_certificate and private_key are not used'];
  }
  if (mode === 'disable' && hasTlsMaterial) {
    return ['sslmode=disable: the connection is not encrypted, so tls_ca, tls_certificate and private_key are not used'];
  }
  if ((mode === 'allow' || mode === 'prefer') && source.rootCert !== '') {
    return [
      `sslmode=${mode} never checks the server certificate, so the CA (tls_ca or sslrootcert) is not used; ` +
        'use sslmode=verify-full (or verify-ca) to check the server against it',
    ];
  }
  return [];
}

function defaultMode(source: TlsSource): SslMode {
  return source.rootCert !== '' || source.systemRoots ? DEFAULT_SSL_MODE_WITH_ROOT_CA : DEFAULT_SSL_MODE;
}

/** tls.connect options for one TLS attempt. */
function tlsOptions(source: TlsSource, verification: Verification): ConnectionOptions {
  const options: ConnectionOptions = { rejectUnauthorized: verification !== 'none' };
  if (verification !== 'none' && source.rootCert !== '') options.ca = source.rootCert;
  // verify-ca: the chain is checked (rejectUnauthorized), the name is not.
  if (verification === 'chain') options.checkServerIdentity = () => undefined;
  if (source.clientCert !== '') {
    options.cert = source.clientCert;
    // Like node-postgres does with it: the key stays out of logs and inspection.
    Object.defineProperty(options, 'key', { value: source.clientKey, enumerable: false, writable: true, configurable: true });
  }
  return options;
}

/**
 * Why the CA or the client certificate and key cannot be used, if they
 * cannot: OpenSSL's reason (e.g. "key values mismatch"), which never
 * contains the material itself. Parsing costs about a millisecond, so this
 * runs when a config is written, not for every connection.
 */
export function tlsMaterialProblem(source: TlsSource): string | undefined {
  if (source.rootCert !== '') {
    const blocks = source.rootCert.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) return 'the CA (tls_ca or sslrootcert) contains no PEM certificate';
    const reason = loadError(() => blocks.forEach((block) => new X509Certificate(block)));
    if (reason !== undefined) return `the CA (tls_ca or sslrootcert) cannot be read: ${reason}`;
  }
  if (source.clientCert !== '') {
    const reason = loadError(() => createSecureContext({ cert: source.clientCert, key: source.clientKey }));
    if (reason !== undefined) return `the client certificate and key (tls_certificate and private_key, or sslcert and sslkey) cannot be used: ${reason}`;
  }
  return undefined;
}

/** One PEM certificate block. */
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** OpenSSL's reason when `load` throws (never the input); undefined when it does not. */
function loadError(load: () => void): string | undefined {
  try {
    load();
    return undefined;
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'reason' in err && typeof err.reason === 'string') return err.reason;
    return err instanceof Error ? err.message : 'unreadable';
  }
}
