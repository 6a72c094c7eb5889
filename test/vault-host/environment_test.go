package main

import (
	"reflect"
	"testing"
)

// effective is what exec hands the process for name: the last value.
func effective(env []string, name string) string {
	value, _ := lookupIn(env, name)
	return value
}

func TestRunnerEnvLayering(t *testing.T) {
	server := []string{"HOME=/root", "TESTPLUGIN_LAYERING=server"}
	catalog := []string{"TESTPLUGIN_LAYERING=catalog"}
	sdk := []string{"VAULT_VERSION=1.17.0"}

	vault := &serverEnvironment{snapshot: server}
	if got := vault.runnerEnv(catalog); !reflect.DeepEqual(got, append(append([]string{}, server...), catalog...)) {
		t.Fatalf("Vault order: runner env %q", got)
	}
	// RunConfig appends the SDK's variables, go-plugin the (now cleared)
	// process environment.
	launched := append(vault.runnerEnv(catalog), sdk...)
	if got := effective(launched, "TESTPLUGIN_LAYERING"); got != "catalog" {
		t.Errorf("Vault order: plugin sees %q, want the catalog's value", got)
	}

	legacy := &serverEnvironment{snapshot: server, legacyLayering: true}
	if got := legacy.runnerEnv(catalog); !reflect.DeepEqual(got, catalog) {
		t.Fatalf("legacy order: runner env %q, want only the catalog env", got)
	}
	// go-plugin appends the untouched process environment after it.
	launched = append(append(legacy.runnerEnv(catalog), sdk...), server...)
	if got := effective(launched, "TESTPLUGIN_LAYERING"); got != "server" {
		t.Errorf("legacy order: plugin sees %q, want the server's value", got)
	}
}

func TestLookupBao(t *testing.T) {
	e := &serverEnvironment{snapshot: []string{"VAULT_GRPC_LOGGING=1", "X=a=b"}}
	if got := e.lookupBao("BAO_GRPC_LOGGING"); got != "1" {
		t.Errorf("VAULT_ twin not used: %q", got)
	}
	e.snapshot = append(e.snapshot, "BAO_GRPC_LOGGING=")
	if got := e.lookupBao("BAO_GRPC_LOGGING"); got != "" {
		t.Errorf("a present BAO_ variable must win even when empty: %q", got)
	}
	if got := e.lookup("X"); got != "a=b" {
		t.Errorf("value with '=': %q", got)
	}
}
