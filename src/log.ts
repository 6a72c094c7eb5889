// The one pino root of the process, shaped as hclog JSON so that go-plugin in
// Vault re-logs each line at its own level (go-plugin log_entry.go):
//   - written synchronously to fd 2: stdout carries only the handshake line,
//     and a buffered write could be lost when Vault kills the process;
//   - `@level` is a string hclog knows (`fatal` does not exist there);
//   - `@timestamp` has exactly six fractional digits, or Vault demotes the line
//     to DEBUG plain text; `@message` is a string.
// A non-string under these keys would crash Vault's stderr reader.

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Key paths whose values never reach the log. */
const REDACT_PATHS = [
  'password',
  '*.password',
  'connection_url',
  '*.connection_url',
  'private_key',
  '*.private_key',
  'connectionString',
  '*.connectionString',
];

/** Options of the root logger; every key may be left out. */
export interface LoggerOptions {
  /** Minimum level; Vault filters again with its own level. Default `trace`. */
  level?: pino.LevelWithSilent;
  /** `@module` of every line; default `vault-plugin-secrets-postgres`. */
  module?: string;
  /** Where lines go; default fd 2, synchronously. */
  destination?: DestinationStream;
}

const DEFAULT_LEVEL: pino.LevelWithSilent = 'trace';
const DEFAULT_MODULE = 'vault-plugin-secrets-postgres';

/** `2024-05-01T12:34:56.123000Z`: JavaScript has milliseconds, hclog wants micro. */
export function hclogTimestamp(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

/** hclog has no `fatal`: anything pino calls fatal is an error to Vault. */
function hclogLevel(label: string): string {
  return label === 'fatal' ? 'error' : label;
}

/** Creates the process's root logger. Modules take children of it. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: options.level ?? DEFAULT_LEVEL,
      messageKey: '@message',
      base: { '@module': options.module ?? DEFAULT_MODULE },
      timestamp: () => `,"@timestamp":"${hclogTimestamp(new Date())}"`,
      formatters: {
        level: (label) => ({ '@level': hclogLevel(label) }),
      },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * Routes crashes through the logger as one error line; Node's multi-line
 * stack traces would otherwise reach Vault as DEBUG noise.
 */
export function logFatalErrors(logger: Logger): void {
  const fail = (kind: string) => (err: unknown) => {
    logger.error({ err }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', fail('uncaught exception'));
  process.on('unhandledRejection', fail('unhandled promise rejection'));
}
