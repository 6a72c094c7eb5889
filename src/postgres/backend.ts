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
import { staticRolePaths } from './rotation/path-static-roles';
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
root user a password only Vault knows, and with rotation_period or
rotation_schedule on the config the plugin does so on a schedule.

static-roles/<name> hands an existing database user's password to Vault:
static-creds/<name> returns it, the plugin rotates it on the role's
rotation_period or rotation_schedule, and rotate-role/<name> rotates it now.
With rotation_strategy=dual two users take turns, so a password handed out
keeps working for a full rotation after the next one.

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
    ...staticRolePaths(engine),
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
    engine.rotations.attach(conf.storage, conf.systemView);
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
        // Rebuilds the rotation schedule and finishes interrupted rotations.
        void engine.rotations.start();
      },
      // The rotation tick here too: if Vault skipped initialize (a crash
      // restart), the first rollback starts the queue.
      periodic: async (req) => {
        await engine.rotations.tick();
        await sweep.run(req);
      },
      walRollback: walRollback(engine),
      walRollbackMinAge: engine.walRollbackMinAge,
      now: engine.now,
      invalidate: (key) => engine.invalidate(key),
      clean: async () => {
        await sweep.atUnmountCleanup(conf.storage, conf.systemView);
        await engine.close();
      },
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
