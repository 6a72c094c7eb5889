// The flags every Vault plugin accepts (api/plugin_helpers.go FlagSet). They
// configure a client for Vault's HTTP API on the legacy (pre-AutoMTLS) path,
// which this plugin does not use; they are accepted so that an operator's
// registered `-args` never stop the plugin from starting.

/** The values of the conventional plugin flags; all optional. */
export interface PluginFlags {
  caCert?: string;
  caPath?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  tlsSkipVerify?: boolean;
  /** Arguments that are not plugin flags, in order. */
  rest: string[];
}

const STRING_FLAGS = {
  'ca-cert': 'caCert',
  'ca-path': 'caPath',
  'client-cert': 'clientCert',
  'client-key': 'clientKey',
  'tls-server-name': 'tlsServerName',
} as const;

const BOOL_FLAG = 'tls-skip-verify';

/** Parses Go `flag` syntax: `-f v`, `-f=v`, `--f=v`; booleans as `-f` or `-f=true`. */
export function parsePluginFlags(argv: readonly string[]): PluginFlags {
  const flags: PluginFlags = { rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--?([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    if (!match || name === undefined) {
      flags.rest.push(arg);
      continue;
    }
    const inline = match[2];
    if (name === BOOL_FLAG) {
      flags.tlsSkipVerify = inline === undefined ? true : /^(1|t|true)$/i.test(inline);
    } else if (name in STRING_FLAGS) {
      const key = STRING_FLAGS[name as keyof typeof STRING_FLAGS];
      flags[key] = inline ?? argv[++i] ?? '';
    } else {
      // Unknown flags are tolerated: they cannot change how this plugin serves.
      flags.rest.push(arg);
    }
  }
  return flags;
}
