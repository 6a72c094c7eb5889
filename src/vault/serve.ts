// Serves a logical backend to Vault over go-plugin protocol version 5.

import { pb } from '../gen/backend';
import { serve, type PluginServer } from '../goplugin';
import type { Logger } from '../log';
import { BackendServer } from './backend-server';
import type { BackendFactory } from './logical';
import { multiplexingDefinition, multiplexingService, versionDefinition, versionService } from './plugin-services';

/** Vault's handshake for backend plugins (sdk/plugin/serve.go). */
export const VAULT_HANDSHAKE = {
  magicCookieKey: 'VAULT_BACKEND_PLUGIN',
  magicCookieValue: '6669da05-b1c8-4f49-97d9-c8e5bed98e20',
  // Version 5 is the AutoMTLS protocol of Vault 1.12+; 3/4 need the legacy
  // token-unwrap TLS bootstrap, which is not implemented.
  appProtocolVersion: 5,
} as const;

/** What serveBackend needs. */
export interface ServeBackendOptions {
  factory: BackendFactory;
  /** Semantic version reported to Vault (a `v` is prefixed when missing). */
  version: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

/** Serves until Vault shuts the process down. */
export async function serveBackend(options: ServeBackendOptions): Promise<PluginServer> {
  let backends: BackendServer | undefined;
  return serve({
    handshake: VAULT_HANDSHAKE,
    log: options.log,
    env: options.env,
    register: (server, broker) => {
      backends = new BackendServer(options.factory, broker, options.log.child({ '@module': 'vault.backend' }));
      server.addService(pb.UnimplementedBackendService.definition, backends.service());
      server.addService(versionDefinition, versionService(options.version));
      server.addService(multiplexingDefinition, multiplexingService());
    },
    beforeExit: async () => {
      await backends?.cleanupAll();
    },
  });
}
