// Entry point of the plugin executable: `version` subcommand, plugin flags,
// logger, and the wiring of the four layers. Nothing else lives here.

import { version as packageVersion } from '../package.json';
import { HandshakeError } from './goplugin';
import { createLogger, logFatalErrors } from './log';
import { canonicalVersion, parsePluginFlags, serveBackend } from './vault';
import { postgresBackendFactory } from './postgres';

const VERSION_ARGS = new Set(['version', '--version', '-version', '-v']);

/**
 * Crash-safety testing only (set through the catalog's `env`): the process
 * kills itself at the named engine checkpoint.
 */
const ENV_CRASH_AT = 'VAULT_PLUGIN_PG_CRASH_AT';

/**
 * Lowest level the plugin writes (trace, debug, info, warn, error); default
 * info. Vault filters again with its own level, but every line written costs
 * a write to the pipe, so per-credential debug lines are opt-in.
 */
const ENV_LOG_LEVEL = 'VAULT_PLUGIN_PG_LOG_LEVEL';
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

async function main(argv: string[]): Promise<void> {
  if (argv.length === 1 && VERSION_ARGS.has(argv[0] ?? '')) {
    process.stdout.write(`vault-plugin-secrets-postgres ${canonicalVersion(packageVersion)}\n`);
    return;
  }
  // Ctrl-C on a foreground Vault reaches the whole process group; the plugin
  // must live on until Vault shuts it down (go-plugin ignores SIGINT too).
  process.on('SIGINT', () => undefined);
  parsePluginFlags(argv);

  const log = createLogger({ level: LOG_LEVELS.find((l) => l === process.env[ENV_LOG_LEVEL]) ?? 'info' });
  logFatalErrors(log);
  try {
    const factory = postgresBackendFactory(log, { crashAt: process.env[ENV_CRASH_AT] || undefined });
    await serveBackend({ factory, version: packageVersion, log });
  } catch (err) {
    if (err instanceof HandshakeError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

void main(process.argv.slice(2));
