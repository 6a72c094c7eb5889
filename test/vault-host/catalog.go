package main

// The plugin catalog: versioned entries per type and name, registration
// (with the probes that start the plugin), lookup and listing. Behaviour
// follows OpenBao's vault/plugin_catalog.go (Set, setInternal, get, Delete,
// listInternal, TypesFromName); the process table lives in processes.go and
// the registration probes in catalog_probe.go.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	semver "github.com/hashicorp/go-version"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"github.com/openbao/openbao/sdk/v2/logical"
)

var (
	errPluginNotFound = errors.New("plugin not found in the catalog")
	errPluginBadType  = errors.New("unable to determine plugin type")
)

// catalogPluginTypes are the types the catalog stores (consts.PluginTypes
// without kms), in the order the untyped list reports them.
var catalogPluginTypes = []consts.PluginType{
	consts.PluginTypeUnknown,
	consts.PluginTypeCredential,
	consts.PluginTypeDatabase,
	consts.PluginTypeSecrets,
}

// catalogKey is where an entry is stored: "<type>/<name>[/<version>]" in the
// real catalog's storage.
type catalogKey struct {
	pluginType consts.PluginType
	name       string
	version    string
}

// pluginCatalog holds the registered plugins and their running processes.
type pluginCatalog struct {
	// directory is the absolute plugin directory; "" means none is
	// configured and nothing can be registered.
	directory string
	logger    hclog.Logger
	env       *serverEnvironment
	// probeSystemView is what registration probes launch with (the real
	// catalog's "wrapper"): it only reports the server version.
	probeSystemView logical.SystemView

	// mu guards entries and processes. Like the real catalog's lock it is
	// held across plugin launches, so registrations and new connections are
	// serialised.
	mu        sync.Mutex
	entries   map[catalogKey]*pluginutil.PluginRunner
	processes map[processKey]*processGroup
}

func newPluginCatalog(directory string, env *serverEnvironment, serverVersion string, logger hclog.Logger) (*pluginCatalog, error) {
	if directory != "" {
		abs, err := filepath.Abs(directory)
		if err != nil {
			return nil, fmt.Errorf("could not verify plugin directory: %w", err)
		}
		directory = abs
	}
	return &pluginCatalog{
		directory:       directory,
		logger:          logger,
		env:             env,
		probeSystemView: logical.StaticSystemView{VersionString: serverVersion},
		entries:         map[catalogKey]*pluginutil.PluginRunner{},
		processes:       map[processKey]*processGroup{},
	}, nil
}

// registration is one catalog write, after the HTTP layer has split the
// command and canonicalised the version.
type registration struct {
	name       string
	pluginType consts.PluginType
	version    string
	command    string
	args       []string
	env        []string
	sha256     []byte
}

// set registers or replaces an entry. The plugin is started to learn its
// type (untyped registrations) and its self-reported version; a version
// given here that the plugin contradicts is refused, and a version only the
// plugin reports becomes the entry's version.
func (c *pluginCatalog) set(ctx context.Context, reg registration) (*pluginutil.PluginRunner, error) {
	if c.directory == "" {
		return nil, errDirectoryNotConfigured
	}
	if err := checkNoParentReferences(reg.name, reg.command); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	if err := checkCommandInDirectory(c.directory, reg.command); err != nil {
		return nil, err
	}
	// The probes run the command by its full path.
	probed := &pluginutil.PluginRunner{
		Name:    reg.name,
		Command: filepath.Join(c.directory, reg.command),
		Args:    reg.args,
		Env:     reg.env,
		Sha256:  reg.sha256,
	}
	pluginType := reg.pluginType
	if pluginType == consts.PluginTypeUnknown {
		var err error
		if pluginType, err = c.pluginTypeFromUnknown(ctx, probed); err != nil {
			return nil, err
		}
		if pluginType == consts.PluginTypeUnknown {
			return nil, errPluginBadType
		}
	}
	version, err := c.settleVersion(ctx, reg, pluginType, probed)
	if err != nil {
		return nil, err
	}
	entry := &pluginutil.PluginRunner{
		Name:    reg.name,
		Type:    pluginType,
		Version: version,
		Command: reg.command,
		Args:    reg.args,
		Env:     reg.env,
		Sha256:  reg.sha256,
	}
	c.entries[catalogKey{pluginType, reg.name, version}] = entry
	return entry, nil
}

// settleVersion runs the version probe and applies the catalog's rules.
// Determining the version is best effort: a failing probe is only logged.
func (c *pluginCatalog) settleVersion(ctx context.Context, reg registration, pluginType consts.PluginType, probed *pluginutil.PluginRunner) (string, error) {
	var running logical.PluginVersion
	var probeErr error
	switch pluginType {
	case consts.PluginTypeSecrets, consts.PluginTypeCredential:
		running, probeErr = c.backendRunningVersion(ctx, probed)
	case consts.PluginTypeDatabase:
		running, probeErr = c.databaseRunningVersion(ctx, probed)
	case consts.PluginTypeKMS:
		return "", errors.New("KMS plugins cannot be registered via the plugin catalog")
	default:
		return "", fmt.Errorf("unknown plugin type: %v", pluginType)
	}
	switch {
	case probeErr != nil:
		c.logger.Warn("Error determining plugin version", "error", probeErr)
	case reg.version != "" && running.Version != "" && reg.version != running.Version:
		c.logger.Warn("Plugin self-reported version did not match requested version",
			"plugin", reg.name, "requestedVersion", reg.version, "reportedVersion", running.Version)
		return "", fmt.Errorf("plugin version mismatch: %s reported version (%s) did not match requested version (%s)",
			reg.name, running.Version, reg.version)
	case reg.version == "" && running.Version != "":
		if _, err := semver.NewVersion(running.Version); err != nil {
			return "", fmt.Errorf("plugin self-reported version %q is not a valid semantic version: %w", running.Version, err)
		}
		return running.Version, nil
	}
	return reg.version, nil
}

// get returns a copy of the entry with its command made absolute, or nil.
// An entry registered as type unknown would match any type; the catalog
// only ever stores typed entries, so that case does not arise here.
func (c *pluginCatalog) get(name string, pluginType consts.PluginType, version string) *pluginutil.PluginRunner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getLocked(name, pluginType, version)
}

func (c *pluginCatalog) getLocked(name string, pluginType consts.PluginType, version string) *pluginutil.PluginRunner {
	if c.directory == "" {
		return nil
	}
	entry := c.entries[catalogKey{pluginType, name, version}]
	if entry == nil {
		return nil
	}
	found := *entry
	found.Command = filepath.Join(c.directory, entry.Command)
	return &found
}

// delete removes one entry; a missing entry is not an error.
func (c *pluginCatalog) delete(name string, pluginType consts.PluginType, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, catalogKey{pluginType, name, version})
}

// listVersioned lists the entries of one type, like ListVersionedPlugins.
// Unversioned entries sort as 0.0.0.
func (c *pluginCatalog) listVersioned(pluginType consts.PluginType) ([]pluginutil.VersionedPlugin, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []pluginutil.VersionedPlugin
	for key, entry := range c.entries {
		if key.pluginType != pluginType {
			continue
		}
		semantic := entry.Version
		if semantic == "" {
			semantic = "0.0.0"
		}
		parsed, err := semver.NewVersion(semantic)
		if err != nil {
			return nil, fmt.Errorf("unexpected error parsing version from plugin catalog entry %q: %w", entry.Name, err)
		}
		out = append(out, pluginutil.VersionedPlugin{
			Name:            entry.Name,
			Type:            entry.Type.String(),
			Version:         entry.Version,
			SHA256:          hex.EncodeToString(entry.Sha256),
			SemanticVersion: parsed,
		})
	}
	sortVersionedPlugins(out)
	return out, nil
}

// typesFromName lists the types under which name is registered.
func (c *pluginCatalog) typesFromName(name string) []consts.PluginType {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[consts.PluginType]bool{}
	var out []consts.PluginType
	for key := range c.entries {
		if key.name == name && !seen[key.pluginType] {
			seen[key.pluginType] = true
			out = append(out, key.pluginType)
		}
	}
	return out
}

// launchRunner is the entry as it is launched: its env with the server's
// environment layered in (environment.go).
func (c *pluginCatalog) launchRunner(entry *pluginutil.PluginRunner) *pluginutil.PluginRunner {
	launched := *entry
	launched.Env = c.env.runnerEnv(entry.Env)
	return &launched
}

// sortVersionedPlugins orders by type, name, then ascending version.
func sortVersionedPlugins(plugins []pluginutil.VersionedPlugin) {
	sort.SliceStable(plugins, func(i, j int) bool {
		left, right := plugins[i], plugins[j]
		if left.Type != right.Type {
			return left.Type < right.Type
		}
		if left.Name != right.Name {
			return left.Name < right.Name
		}
		return right.SemanticVersion.GreaterThan(left.SemanticVersion)
	})
}

// uniquePluginNames is the sorted, de-duplicated name list of a LIST.
func uniquePluginNames(plugins []pluginutil.VersionedPlugin) []string {
	seen := map[string]bool{}
	names := []string{}
	for _, p := range plugins {
		if !seen[p.Name] {
			seen[p.Name] = true
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

// errPluginNotInCatalog is the lookup failure of a name (and version).
func errPluginNotInCatalog(name, version string) error {
	described := name
	if version != "" {
		described += ", version=" + version
	}
	return fmt.Errorf("%w: %s", errPluginNotFound, described)
}
