package main

// How a plugin process gets its environment.
//
// Every launch goes through the SDK's pluginutil.PluginRunner.RunConfig,
// which puts the runner's Env first, then the SDK's own variables
// (VAULT_VERSION, ..._METADATA_MODE, ..._AUTOMTLS_ENABLED), and go-plugin
// then appends os.Environ() and its own variables (cookie, protocol
// versions, PLUGIN_CLIENT_CERT). Go's exec keeps the last value of a
// duplicated key.
//
//   - legacy order (OpenBao, Vault before 1.16, or Vault with
//     VAULT_PLUGIN_USE_LEGACY_ENV_LAYERING=true): catalog env, SDK variables,
//     server environment, go-plugin variables. The server's environment wins
//     over the catalog env. This is exactly what RunConfig does when the
//     process environment is left alone.
//   - Vault >= 1.16 order (the default here): server environment, catalog
//     env, SDK variables, go-plugin variables. Vault gets it with go-plugin's
//     SkipHostEnv, which RunConfig cannot set. The host therefore snapshots
//     its environment at start-up, clears the process environment, and puts
//     the snapshot in front of the catalog env in the runner it launches.

import (
	"os"
	"strconv"
	"strings"
)

// envUseLegacyLayering is Vault's switch back to the pre-1.16 order.
const envUseLegacyLayering = "VAULT_PLUGIN_USE_LEGACY_ENV_LAYERING"

// variablesReadAfterStartup are the variables the host process itself reads
// while running, so they stay in its environment even when it is cleared:
// TMPDIR places go-plugin's host-side broker sockets (os.TempDir), and the
// multiplexing opt-out lists are read by pluginutil.MultiplexingSupported.
// go-plugin re-appends them to every plugin's environment, so in the Vault
// order a catalog env cannot override these few.
var variablesReadAfterStartup = []string{
	"TMPDIR",
	"BAO_PLUGIN_MULTIPLEXING_OPT_OUT",
	"VAULT_PLUGIN_MULTIPLEXING_OPT_OUT",
}

// serverEnvironment is the host's environment as it was at start-up.
type serverEnvironment struct {
	// snapshot is os.Environ() before anything was cleared.
	snapshot []string
	// legacyLayering selects the order in which the server environment
	// wins over the catalog env.
	legacyLayering bool
}

// captureServerEnvironment records the environment and, for the Vault
// order, clears the process environment down to variablesReadAfterStartup.
// It must run before anything else reads or changes the environment.
func captureServerEnvironment(legacyFlag bool) *serverEnvironment {
	e := &serverEnvironment{snapshot: os.Environ()}
	legacyFromEnv, _ := strconv.ParseBool(e.lookup(envUseLegacyLayering))
	e.legacyLayering = legacyFlag || legacyFromEnv
	if !e.legacyLayering {
		os.Clearenv()
		for _, name := range variablesReadAfterStartup {
			if value, ok := lookupIn(e.snapshot, name); ok {
				os.Setenv(name, value)
			}
		}
	}
	return e
}

// lookup reads a variable of the start-up environment.
func (e *serverEnvironment) lookup(name string) string {
	value, _ := lookupIn(e.snapshot, name)
	return value
}

// lookupBao reads a variable the way OpenBao's api.ReadBaoVariable does:
// the BAO_ name if it is set at all, else its VAULT_ twin.
func (e *serverEnvironment) lookupBao(baoName string) string {
	if value, ok := lookupIn(e.snapshot, baoName); ok {
		return value
	}
	return e.lookup("VAULT_" + strings.TrimPrefix(baoName, "BAO_"))
}

// runnerEnv is the Env to put in the PluginRunner that is launched for a
// catalog entry whose own env is catalogEnv.
func (e *serverEnvironment) runnerEnv(catalogEnv []string) []string {
	if e.legacyLayering {
		return catalogEnv
	}
	env := make([]string, 0, len(e.snapshot)+len(catalogEnv))
	env = append(env, e.snapshot...)
	return append(env, catalogEnv...)
}

// layeringName names the order in effect, for the start-up log line.
func (e *serverEnvironment) layeringName() string {
	if e.legacyLayering {
		return "legacy (server environment overrides catalog env)"
	}
	return "vault-1.16 (catalog env overrides server environment)"
}

// lookupIn finds the last value of name in a KEY=VALUE list, the value exec
// would pass on.
func lookupIn(env []string, name string) (string, bool) {
	value, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			value, found = v, true
		}
	}
	return value, found
}
