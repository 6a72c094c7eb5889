// Assembles the engine's paths and secrets into a framework backend. Each
// concept lives in its own file; this one only puts them together.

import { FrameworkBackend, parseGoDurationSeconds, type Path, type SecretType } from '../framework';
import type { Logger } from '../log';
import type { BackendFactory } from '../vault';
import { Engine, type EngineOptions } from './engine';
import { configPaths } from './path-config';
import { credsPaths } from './path-creds';
import { rolePaths } from './path-roles';
import { rootPaths } from './path-rotate-root';
import { credsSecret } from './secret-creds';
import { walRollback } from './wal-rollback';

/** Mount option (`vault secrets enable -options=…`) overriding the minimum WAL age. */
export const WAL_MIN_AGE_OPTION = 'wal_rollback_min_age';

const BACKEND_HELP = `
The PostgreSQL secrets engine issues dynamic PostgreSQL credentials.

Configure a connection with config/<name>, define roles with roles/<name>,
then read creds/<role> to get a username and password under a Vault lease.
When the lease is revoked or expires the user is dropped; renewing the lease
extends the user's VALID UNTIL. rotate-root/<name> gives the connection's
root user a password only Vault knows.
`.trim();

/** Every path of the engine, in routing order. */
export function enginePaths(engine: Engine, creds: SecretType = credsSecret(engine)): Path[] {
  return [...configPaths(engine), ...rolePaths(engine), ...credsPaths(engine, creds), ...rootPaths(engine)];
}

/** Builds one backend per mount. */
export function postgresBackendFactory(log: Logger, options: Omit<EngineOptions, 'log'> = {}): BackendFactory {
  return async (conf) => {
    const minAgeOption = conf.config[WAL_MIN_AGE_OPTION];
    const walRollbackMinAge = minAgeOption === undefined ? options.walRollbackMinAge : parseGoDurationSeconds(minAgeOption);
    if (minAgeOption !== undefined && walRollbackMinAge === undefined) {
      throw new Error(`mount option ${WAL_MIN_AGE_OPTION}: ${JSON.stringify(minAgeOption)} is not a duration`);
    }
    const engine = new Engine({
      ...options,
      walRollbackMinAge,
      log: log.child({ '@module': 'postgres', mount: conf.backendUuid }),
    });
    const creds = credsSecret(engine);
    return new FrameworkBackend({
      help: BACKEND_HELP,
      paths: enginePaths(engine, creds),
      secrets: [creds],
      walRollback: walRollback(engine),
      walRollbackMinAge: engine.walRollbackMinAge,
      invalidate: (key) => engine.invalidate(key),
      clean: () => engine.close(),
    });
  };
}
