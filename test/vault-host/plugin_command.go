package main

// Catalog input rules: where a plugin command may point, how a command with
// spaces is split, and how versions are canonicalised. They follow OpenBao's
// vault/logical_system.go (handlePluginCatalogUpdate, getVersion) and
// vault/plugin_catalog.go (Set, setInternal).

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	semver "github.com/hashicorp/go-version"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
)

// builtinVersionMetadata marks the versions of plugins compiled into the
// server; an external registration may not use it.
const builtinVersionMetadata = "builtin"

var (
	errDirectoryNotConfigured = errors.New("could not set plugin, plugin directory is not configured")
	errOutsidePluginDirectory = errors.New("cannot execute files outside of configured plugin directory")
	errArgsTwice              = errors.New("must not specify args in command and args field")
)

// splitCommand turns a registered command into the file and its arguments.
// For backwards compatibility a command may carry its arguments after single
// spaces, but not while args are also given.
func splitCommand(command string, args []string) (string, []string, error) {
	parts := strings.Split(command, " ")
	switch {
	case len(parts) > 1 && len(args) > 0:
		return "", nil, errArgsTwice
	case len(parts) > 1:
		return parts[0], parts[1:], nil
	}
	return command, args, nil
}

// checkNoParentReferences refuses ".." anywhere in a plugin name or command.
func checkNoParentReferences(name, command string) error {
	if strings.Contains(name, "..") || strings.Contains(command, "..") {
		return consts.ErrPathContainsParentReferences
	}
	return nil
}

// checkCommandInDirectory applies the catalog's check that the command,
// after following symlinks, is a file directly inside the plugin directory.
// directory is the configured directory made absolute but deliberately not
// symlink-resolved, so a plugin directory that is itself a symlink never
// matches.
func checkCommandInDirectory(directory, command string) error {
	full := filepath.Join(directory, command)
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		return fmt.Errorf("error while validating the command path: %w", err)
	}
	resolvedDir, err := filepath.Abs(filepath.Dir(resolved))
	if err != nil {
		return fmt.Errorf("error while validating the command path: %w", err)
	}
	if resolvedDir != directory {
		return errOutsidePluginDirectory
	}
	return nil
}

// canonicalVersion is the catalog form of a version given by an operator:
// "" stays "", anything else must be semver and becomes "v<semver>". The
// second result reports the reserved "+builtin" metadata.
func canonicalVersion(version string) (string, bool, error) {
	if version == "" {
		return "", false, nil
	}
	parsed, err := semver.NewSemver(version)
	if err != nil {
		return "", false, fmt.Errorf("version %q is not a valid semantic version: %w", version, err)
	}
	canonical := "v" + parsed.String()
	return canonical, isBuiltinVersion(canonical), nil
}

func isBuiltinVersion(version string) bool {
	parsed, err := semver.NewSemver(version)
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(parsed.Metadata(), "."), builtinVersionMetadata)
}
