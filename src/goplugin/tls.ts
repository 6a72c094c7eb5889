// AutoMTLS as go-plugin sets it up (client.go, server.go, mtls.go): the host
// passes its certificate in PLUGIN_CLIENT_CERT; the plugin answers with its
// own in the handshake. Each side trusts exactly the other's certificate, both
// for the plugin's server and for the plugin's dials to the host's broker.

import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import type { TlsIdentity } from './certificate';
import { ENV_CLIENT_CERT } from './constants';
import { HandshakeError } from './handshake';

/** The TLS material of one plugin process. */
export interface MutualTls {
  /** This process's own certificate and key, fresh per start. */
  identity: TlsIdentity;
  /** The host's certificate (PEM), the only one trusted. */
  hostCertPem: string;
}

/** Reads the host's certificate; AutoMTLS is the only mode this plugin serves. */
export function hostCertificate(env: NodeJS.ProcessEnv): string {
  const pem = env[ENV_CLIENT_CERT] ?? '';
  if (pem === '') {
    throw new HandshakeError(`${ENV_CLIENT_CERT} is not set: this plugin needs go-plugin AutoMTLS (Vault 1.12 or later).`);
  }
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new HandshakeError(`${ENV_CLIENT_CERT} is not a PEM certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  return pem;
}

/** Server side: present our certificate and require the host's. */
export function serverCredentials(tls: MutualTls): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(tls.hostCertPem),
    [{ private_key: Buffer.from(tls.identity.keyPem), cert_chain: Buffer.from(tls.identity.certPem) }],
    true,
  );
}

/** Client side (broker dials): trust only the host, present our certificate. */
export function channelCredentials(tls: MutualTls): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(tls.hostCertPem),
    Buffer.from(tls.identity.keyPem),
    Buffer.from(tls.identity.certPem),
  );
}

/** The host's certificates name `localhost`; verify against that, not the socket path. */
export const LOCALHOST_CHANNEL_OPTIONS = {
  'grpc.ssl_target_name_override': 'localhost',
  'grpc.default_authority': 'localhost',
} as const;
