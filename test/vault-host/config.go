package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// defaultVaultVersion is what plugins are told the server's version is
// (VAULT_VERSION/BAO_VERSION and SystemView.PluginEnv) unless -vault-version
// says otherwise. It is a HashiCorp Vault version on purpose: plugins are
// written against Vault first, and OpenBao 2.x reports 2.x.
const defaultVaultVersion = "1.17.0"

// Server defaults that match Vault's.
const (
	defaultLeaseTTL     = 768 * time.Hour
	defaultRollback     = time.Minute
	defaultRevokeRetry  = 10 * time.Second
	defaultRevokeTries  = 6
	defaultListenAddr   = "127.0.0.1:8200"
	defaultLogLevel     = "info"
	maxRequestDuration  = 90 * time.Second // Vault's default max_request_duration
	rollbackTimeout     = 90 * time.Second // per rollback request (vault/rollback.go)
	expiryRevokeTimeout = 90 * time.Second // per expiry revocation attempt (vault/expiration.go)
)

// hostConfig holds the command-line settings of `vault-host server`.
type hostConfig struct {
	listen          string
	pluginDir       string
	devPluginDir    string
	logLevel        string
	readyFile       string
	vaultVersion    string
	rollbackPeriod  time.Duration
	defaultLeaseTTL time.Duration
	maxLeaseTTL     time.Duration
	revokeRetryBase time.Duration
	maxRevokeTries  int
	mlock           bool
	rootToken       string
	legacyEnv       bool
	// performanceStandby serves every mount from two nodes: a simulated
	// performance standby first, the active node when it must forward
	// (standby.go).
	performanceStandby bool
}

// pluginDirectory is the directory catalog commands resolve in:
// -dev-plugin-dir replaces -plugin-dir, as `bao server -dev -dev-plugin-dir`
// replaces the configured plugin_directory.
func (c hostConfig) pluginDirectory() string {
	if c.devPluginDir != "" {
		return c.devPluginDir
	}
	return c.pluginDir
}

func parseFlags(args []string, usageOut io.Writer) (hostConfig, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.Usage = func() {
		fmt.Fprintf(usageOut, "usage: vault-host server -listen 127.0.0.1:PORT -plugin-dir DIR [options]\n\nOptions:\n")
		fs.PrintDefaults()
	}
	cfg := hostConfig{}
	fs.StringVar(&cfg.listen, "listen", defaultListenAddr, "HTTP listen address (loopback recommended)")
	fs.StringVar(&cfg.pluginDir, "plugin-dir", "", "plugin directory: catalog commands must name files directly inside it")
	fs.StringVar(&cfg.devPluginDir, "dev-plugin-dir", "", "like `bao server -dev -dev-plugin-dir`: use DIR as the plugin directory and register every file in it (untyped) at start-up")
	fs.StringVar(&cfg.logLevel, "log-level", defaultLogLevel, "trace, debug, info, warn, error")
	fs.StringVar(&cfg.readyFile, "ready-file", "", "write the listen address to this file once ready")
	fs.StringVar(&cfg.vaultVersion, "vault-version", defaultVaultVersion, "server version told to plugins (VAULT_VERSION, BAO_VERSION, PluginEnv)")
	fs.DurationVar(&cfg.rollbackPeriod, "rollback-period", defaultRollback, "period of rollback requests to each mount (0 disables)")
	fs.DurationVar(&cfg.defaultLeaseTTL, "default-lease-ttl", defaultLeaseTTL, "system default lease TTL")
	fs.DurationVar(&cfg.maxLeaseTTL, "max-lease-ttl", defaultLeaseTTL, "system max lease TTL")
	fs.DurationVar(&cfg.revokeRetryBase, "revoke-retry-base", defaultRevokeRetry, "base of the exponential revoke retry backoff")
	fs.IntVar(&cfg.maxRevokeTries, "max-revoke-attempts", defaultRevokeTries, "revoke attempts before a lease is marked irrevocable")
	fs.BoolVar(&cfg.mlock, "mlock", false, "report mlock as enabled to plugins (VAULT_PLUGIN_MLOCK_ENABLED, SystemView.MlockEnabled)")
	fs.StringVar(&cfg.rootToken, "root-token", "", "if set, only this X-Vault-Token is accepted (default: any non-empty token)")
	fs.BoolVar(&cfg.legacyEnv, "legacy-env-layering", false, "server environment overrides catalog env (OpenBao, Vault < 1.16; also VAULT_PLUGIN_USE_LEGACY_ENV_LAYERING=true)")
	fs.BoolVar(&cfg.performanceStandby, "performance-standby", false, "serve each mount also from a simulated Vault Enterprise performance standby: requests go to it first and are forwarded to the active node when it answers with a read-only storage error")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return cfg, nil
}
