// Assembles the engine's paths and secrets into a framework backend. Each
// concept lives in its own file; this one only puts them together.

import { FrameworkBackend, parseGoDurationSeconds, type Path, type SecretType } from '../framework';
import type { Logger } from '../log';
import { errorMessage, type BackendFactory } from '../vault';
import { Engine, type EngineOptions } from './engine';
import { configPaths } from './connections/path-config';
import { credsPaths } from './users/path-creds';
import { rolePaths } from './roles/path-roles';
import { rootPaths } from './rotation/path-rotate-root';
import { credsSecret } from './users/secret-creds';
import { reconcilePaths } from './users/path-reconcile';
import { userPaths } from './users/path-users';
import { UserSweep } from './users/sweep';
import { walRollback } from './rotation/wal-rollback';

/**
 * Mount option (`vault secrets enable -options=…`) overriding how old an
 * unfinished issuance (WAL entry or `issuing` user record) must be before
 * rollback drops its user.
 */
export const WAL_MIN_AGE_OPTION = 'wal_rollback_min_age';
/** Mount option overriding how long past its recorded lease end the sweep leaves an issued user. */
export const USER_SWEEP_GRACE_OPTION = 'user_sweep_grace';

const BACKEND_HELP = `
The PostgreSQL secrets engine issues dynamic PostgreSQL credentials.

Configure a connection with config/<name>, define roles with roles/<name>,
then read creds/<role> to get a username and password under a Vault lease.
When the lease is revoked or expires the user is dropped; renewing the lease
extends the user's VALID UNTIL. rotate-root/<name> gives the connection's
root user a password only Vault knows.

Every user is recorded before it is created: users/ lists who holds which
database user, and a periodic sweep drops users whose lease has ended even
when Vault never learned of the lease. reconcile/<name> finds roles in a
database that look like this connection's users but that no record claims.
`.trim();

/** Every path of the engine, in routing order. */
export function enginePaths(engine: Engine, creds: SecretType = credsSecret(engine)): Path[] {
  return [
    ...configPaths(engine),
    ...rolePaths(engine),
    ...credsPaths(engine, creds),
    ...rootPaths(engine),
    ...userPaths(engine),
    ...reconcilePaths(engine),
  ];
}

/** Builds one backend per mount. */
export function postgresBackendFactory(log: Logger, options: Omit<EngineOptions, 'log'> = {}): BackendFactory {
  return async (conf) => {
    const engine = new Engine({
      ...options,
      walRollbackMinAge: durationOption(conf.config, WAL_MIN_AGE_OPTION) ?? options.walRollbackMinAge,
      userSweepGrace: durationOption(conf.config, USER_SWEEP_GRACE_OPTION) ?? options.userSweepGrace,
      log: log.child({ '@module': 'postgres', mount: conf.backendUuid }),
    });
    const creds = credsSecret(engine);
    const sweep = new UserSweep(engine);
    return new FrameworkBackend({
      help: BACKEND_HELP,
      paths: enginePaths(engine, creds),
      secrets: [creds],
      // Every creds read needs the user index; loading it now, in the
      // background, spares the first one after a start the wait.
      initialize: async (storage) => {
        engine.users.index(storage).catch((err: unknown) => engine.log.warn({ error: errorMessage(err) }, 'loading the user index failed; the next request tries again'));
      },
      periodic: (req) => sweep.run(req),
      walRollback: walRollback(engine),
      walRollbackMinAge: engine.walRollbackMinAge,
      now: engine.now,
      invalidate: (key) => engine.invalidate(key),
      clean: () => engine.close(),
    });
  };
}

/**
 * A mount option holding a Go duration, in seconds; undefined when it is not
 * set. Throws a sentence naming the option when it is not a duration or is
 * negative: the mount is refused rather than run with a surprise.
 */
function durationOption(config: Record<string, string>, name: string): number | undefined {
  const text = config[name];
  if (text === undefined) return undefined;
  const seconds = parseGoDurationSeconds(text);
  if (seconds === undefined) throw new Error(`mount option ${name}: ${JSON.stringify(text)} is not a duration`);
  if (seconds < 0) throw new Error(`mount option ${name}: ${JSON.stringify(text)} is negative`);
  return seconds;
}
