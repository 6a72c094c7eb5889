// Assembles the engine's paths and secrets into a framework backend. Each
// concept lives in its own file; this one only puts them together.

import { FrameworkBackend } from '../framework';
import type { Logger } from '../log';
import type { BackendFactory } from '../vault';
import { Engine, type EngineOptions } from './engine';
import { configPaths } from './path-config';

const BACKEND_HELP = `
The PostgreSQL secrets engine issues dynamic PostgreSQL credentials.

Configure a connection with config/<name>, define roles with roles/<name>,
then read creds/<role> to get a username and password under a Vault lease.
When the lease is revoked or expires the user is dropped.
`.trim();

/** Builds one backend per mount. */
export function postgresBackendFactory(log: Logger, options: Omit<EngineOptions, 'log'> = {}): BackendFactory {
  return async (conf) => {
    const engine = new Engine({ ...options, log: log.child({ '@module': 'postgres', mount: conf.backendUuid }) });
    return new FrameworkBackend({
      help: BACKEND_HELP,
      paths: [...configPaths(engine)],
      invalidate: (key) => engine.invalidate(key),
      clean: () => engine.close(),
    });
  };
}
