package main

// The system view of a mount: what the SDK's system-view server answers to
// the plugin over the broker, and what the SDK's NewBackendV5 uses to reach
// the catalog. It follows OpenBao's vault/dynamic_system_view.go.

import (
	"context"
	"errors"
	"time"

	semver "github.com/hashicorp/go-version"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"github.com/openbao/openbao/sdk/v2/helper/wrapping"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// errResponseWrapping is the answer to every request for a response-wrapping
// token: the host has no token store. The legacy (protocol 3/4) launch path
// needs one to hand the plugin its TLS certificate, so it fails here too.
var errResponseWrapping = errors.New("vault-host does not reproduce response wrapping (no token store); the legacy protocol 3/4 TLS bootstrap needs it")

// serverVersion is -vault-version split the way the server reports it: the
// plain version, and prerelease and metadata parts (PluginEnv only).
type serverVersion struct {
	version    string
	prerelease string
	metadata   string
}

func parseServerVersion(raw string) serverVersion {
	parsed, err := semver.NewVersion(raw)
	if err != nil {
		return serverVersion{version: raw}
	}
	return serverVersion{
		version:    parsed.Core().String(),
		prerelease: parsed.Prerelease(),
		metadata:   parsed.Metadata(),
	}
}

// mountSystemView is the dynamic system view of one mount, on the active
// node or (performanceStandby) on the simulated performance standby.
type mountSystemView struct {
	host               *Host
	mount              *mountEntry
	performanceStandby bool
}

var _ logical.SystemView = mountSystemView{}

// leaseTTLs are the system TTLs, overridden by the mount's non-zero ones.
func (v mountSystemView) leaseTTLs() (def, max time.Duration) {
	def, max = v.host.cfg.defaultLeaseTTL, v.host.cfg.maxLeaseTTL
	config := v.mount.config()
	if config.DefaultLeaseTTL != 0 {
		def = config.DefaultLeaseTTL
	}
	if config.MaxLeaseTTL != 0 {
		max = config.MaxLeaseTTL
	}
	return def, max
}

func (v mountSystemView) DefaultLeaseTTL() time.Duration {
	def, _ := v.leaseTTLs()
	return def
}

func (v mountSystemView) MaxLeaseTTL() time.Duration {
	_, max := v.leaseTTLs()
	return max
}

func (v mountSystemView) Tainted() bool { return v.mount.isTainted() }

func (v mountSystemView) CachingDisabled() bool { return false }

func (v mountSystemView) LocalMount() bool { return v.mount.Local }

// ReplicationState is the server's state (no replication: none of the
// flags), plus ReplicationPerformanceStandby on a performance standby, as
// Vault's dynamicSystemView adds it when the core is one.
func (v mountSystemView) ReplicationState() consts.ReplicationState {
	state := consts.ReplicationUnknown
	if v.performanceStandby {
		state |= consts.ReplicationPerformanceStandby
	}
	return state
}

func (v mountSystemView) ResponseWrapData(context.Context, map[string]interface{}, time.Duration, bool) (*wrapping.ResponseWrapInfo, error) {
	return nil, errResponseWrapping
}

func (v mountSystemView) LookupPlugin(ctx context.Context, name string, pluginType consts.PluginType) (*pluginutil.PluginRunner, error) {
	return v.LookupPluginVersion(ctx, name, pluginType, "")
}

// LookupPluginVersion returns the catalog entry as it would be launched
// (server environment layered into its env): the SDK's legacy launch path
// runs exactly the runner returned here.
func (v mountSystemView) LookupPluginVersion(_ context.Context, name string, pluginType consts.PluginType, version string) (*pluginutil.PluginRunner, error) {
	entry := v.host.catalog.get(name, pluginType, version)
	if entry == nil {
		return nil, errPluginNotInCatalog(name, version)
	}
	return v.host.catalog.launchRunner(entry), nil
}

func (v mountSystemView) ListVersionedPlugins(_ context.Context, pluginType consts.PluginType) ([]pluginutil.VersionedPlugin, error) {
	return v.host.catalog.listVersioned(pluginType)
}

func (v mountSystemView) NewPluginClient(ctx context.Context, config pluginutil.PluginClientConfig) (pluginutil.PluginClient, error) {
	return v.host.catalog.NewPluginClient(ctx, config)
}

// MlockEnabled reports -mlock, as HashiCorp Vault reports its mlock setting
// (OpenBao always says false).
func (v mountSystemView) MlockEnabled() bool { return v.host.cfg.mlock }

// EntityInfo knows no entities: the host only has the root token, which has
// none.
func (v mountSystemView) EntityInfo(string) (*logical.Entity, error) { return nil, nil }

func (v mountSystemView) GroupsForEntity(string) ([]*logical.Group, error) { return nil, nil }

func (v mountSystemView) PluginEnv(context.Context) (*logical.PluginEnvironment, error) {
	return &logical.PluginEnvironment{
		VaultVersion:           v.host.version.version,
		VaultVersionPrerelease: v.host.version.prerelease,
		VaultVersionMetadata:   v.host.version.metadata,
	}, nil
}

func (v mountSystemView) VaultVersion(context.Context) (string, error) {
	return v.host.version.version, nil
}

func (v mountSystemView) GeneratePasswordFromPolicy(ctx context.Context, policyName string) (string, error) {
	return v.host.passwordPolicies.generateForPlugin(ctx, policyName)
}

func (v mountSystemView) ClusterID(context.Context) (string, error) {
	return v.host.clusterID, nil
}
