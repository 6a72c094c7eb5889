// Public surface of the Vault backend-protocol layer. Knows nothing of Postgres.
export * from './logical';
export * from './errors';
export { serveBackend, VAULT_HANDSHAKE, type ServeBackendOptions } from './serve';
export { parsePluginFlags, type PluginFlags } from './plugin-flags';
export { canonicalVersion } from './plugin-services';
