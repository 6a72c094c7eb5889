// Serves a logical backend to Vault over go-plugin protocol version 5.

import { pb } from '../gen/backend';
import { serve, type HandshakeConfig, type PluginServer } from '../goplugin';
import type { Logger } from '../log';
import { BackendServer } from './backend-server';
import type { BackendFactory } from './logical';
import { multiplexingDefinition, multiplexingService, versionDefinition, versionService } from './plugin-services';

/** Vault's handshake for backend plugins (sdk/plugin/serve.go). */
export const VAULT_HANDSHAKE: HandshakeConfig = {
  magicCookieKey: 'VAULT_BACKEND_PLUGIN',
  magicCookieValue: '6669da05-b1c8-4f49-97d9-c8e5bed98e20',
  // Version 5 is the AutoMTLS protocol of Vault 1.12+; 3/4 need the legacy
  // token-unwrap TLS bootstrap, which is not implemented.
  appProtocolVersion: 5,
  // Registering without a type (`vault plugin register` with no type,
  // `vault server -dev -dev-plugin-dir`) makes the catalog start the binary
  // as a database plugin first (builtin/plugin catalog getPluginTypeFromUnknown;
  // cookie from sdk/database/dbplugin/v5 grpc_database_plugin.go). Refusing
  // at once lets it go on to the backend probe.
  foreignCookies: {
    VAULT_DATABASE_PLUGIN:
      'This is a Vault secrets-engine (backend) plugin, not a database plugin: it was started with the ' +
      'VAULT_DATABASE_PLUGIN cookie and refuses it. Register it with type "secret" ' +
      '(vault plugin register -sha256=... secret <name>); an untyped registration goes on to the backend probe and succeeds.',
  },
};

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
