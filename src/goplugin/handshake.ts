// The go-plugin handshake: the magic-cookie check that keeps the binary from
// being run by hand, protocol-version negotiation, and the one line on stdout
// that tells the host where to connect (go-plugin server.go Serve).

import { CORE_PROTOCOL_VERSION, ENV_CLIENT_CERT, ENV_MULTIPLEX_GRPC, ENV_PROTOCOL_VERSIONS } from './constants';

/** What a host and its plugins agree on before they speak (go-plugin HandshakeConfig). */
export interface HandshakeConfig {
  /** Environment variable the host sets to the cookie value. */
  magicCookieKey: string;
  magicCookieValue: string;
  /** The application protocol version this plugin speaks. */
  appProtocolVersion: number;
  /**
   * Cookies of other plugin kinds the same host may start this binary as,
   * each with the sentence that tells the operator what happened. A host that
   * does not know a plugin's kind tries each kind in turn, so a launch under
   * a foreign cookie is expected and must be refused quickly and clearly.
   * Absent: every wrong cookie gets go-plugin's generic message.
   */
  foreignCookies?: Readonly<Record<string, string>>;
}

/** Why the process must not serve, said to a human on stderr. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/**
 * The cookie is a UX feature, not security: it explains a run by hand, or a
 * start as another kind of plugin (`config.foreignCookies`).
 * @throws HandshakeError when `env` lacks the cookie.
 */
export function checkMagicCookie(config: HandshakeConfig, env: NodeJS.ProcessEnv): void {
  if (env[config.magicCookieKey] === config.magicCookieValue) return;
  for (const [key, explanation] of Object.entries(config.foreignCookies ?? {})) {
    if ((env[key] ?? '') !== '') throw new HandshakeError(explanation);
  }
  throw new HandshakeError(
    'This binary is a plugin. These are not meant to be executed directly.\n' +
      'Please execute the program that consumes these plugins, which will\n' +
      'load any plugins automatically',
  );
}

/**
 * The host lists the versions it accepts; answering any other one makes it
 * kill the process, so refuse early with a reason instead.
 */
export function negotiateVersion(config: HandshakeConfig, env: NodeJS.ProcessEnv): number {
  const offered = (env[ENV_PROTOCOL_VERSIONS] ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (offered.includes(String(config.appProtocolVersion))) return config.appProtocolVersion;
  throw new HandshakeError(
    `This plugin speaks protocol version ${config.appProtocolVersion}; the host offered ` +
      `${offered.length > 0 ? offered.join(',') : 'none'} (${ENV_PROTOCOL_VERSIONS}). ` +
      'Vault 1.12 or later is required.',
  );
}

/** Where the plugin listens, as the handshake announces it. */
export interface ListenAddress {
  network: 'unix' | 'tcp';
  address: string;
}

/**
 * `CORE|APP|NETWORK|ADDRESS|grpc|CERT[|MUX]`. The certificate is DER in
 * unpadded standard base64, sent only under AutoMTLS (a host without TLS would
 * crash on it). The 7th field exists only when the host asked for it: older
 * hosts split into at most six fields and would corrupt the certificate.
 */
export function handshakeLine(
  version: number,
  listen: ListenAddress,
  serverCertDer: Buffer | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const autoMtls = (env[ENV_CLIENT_CERT] ?? '') !== '';
  const cert = autoMtls && serverCertDer ? serverCertDer.toString('base64').replace(/=+$/, '') : '';
  const fields = [String(CORE_PROTOCOL_VERSION), String(version), listen.network, listen.address, 'grpc', cert];
  // Brokered connections multiplexed over one socket (yamux) are not
  // implemented; saying so lets the host fail cleanly.
  if ((env[ENV_MULTIPLEX_GRPC] ?? '') !== '') fields.push('false');
  return fields.join('|') + '\n';
}
