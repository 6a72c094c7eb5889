package main

// The protocol 3/4 path of the mount factory, after OpenBao's
// builtin/plugin/backend.go (Backend, PluginBackend): at mount time the
// plugin is started in metadata mode (no TLS, PLUGIN_PROTOCOL_VERSIONS 3,4,
// a no-op storage) only to read its special paths, type and version, then
// stopped; the real process is started on the first request. That start
// needs a response-wrapped TLS certificate the plugin unwraps through the
// server's API, which this host does not have, so it fails with
// errResponseWrapping from the mount's system view.

import (
	"context"
	"errors"
	"sync"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
	sdkplugin "github.com/openbao/openbao/sdk/v2/plugin"
)

// legacyBackend stands in for a protocol 3/4 plugin: a framework.Backend
// with what the metadata-mode start reported.
type legacyBackend struct {
	*framework.Backend
	config *logical.BackendConfig
	// startMu serialises the start attempts of concurrent requests.
	startMu sync.Mutex
}

func newLegacyBackend(ctx context.Context, conf *logical.BackendConfig) (*legacyBackend, error) {
	name, pluginType, version, err := pluginIdentity(conf)
	if err != nil {
		return nil, err
	}
	probe, err := sdkplugin.NewBackendWithVersion(ctx, name, pluginType, conf.System, conf, true, version)
	if err != nil {
		return nil, err
	}
	if err := probe.Setup(ctx, conf); err != nil {
		probe.Cleanup(ctx)
		return nil, err
	}
	placeholder := &framework.Backend{
		PathsSpecial:   probe.SpecialPaths(),
		BackendType:    probe.Type(),
		RunningVersion: reportedVersion(probe).Version,
	}
	probe.Cleanup(ctx)
	return &legacyBackend{Backend: placeholder, config: conf}, nil
}

// start is the lazy real start of the plugin. It can only fail here (see the
// file comment); the error is what the real server would return if its
// response wrapping failed.
func (b *legacyBackend) start(ctx context.Context) error {
	b.startMu.Lock()
	defer b.startMu.Unlock()
	name, pluginType, version, err := pluginIdentity(b.config)
	if err != nil {
		return err
	}
	started, err := sdkplugin.NewBackendWithVersion(ctx, name, pluginType, b.config.System, b.config, false, version)
	if err != nil {
		return err
	}
	started.Cleanup(ctx)
	return errors.New("vault-host: a protocol 3/4 plugin started without response wrapping")
}

func (b *legacyBackend) HandleRequest(ctx context.Context, _ *logical.Request) (*logical.Response, error) {
	return nil, b.start(ctx)
}

func (b *legacyBackend) HandleExistenceCheck(ctx context.Context, _ *logical.Request) (bool, bool, error) {
	return false, false, b.start(ctx)
}

// Initialize does nothing: a protocol 3/4 backend is initialised when it is
// started for real.
func (b *legacyBackend) Initialize(context.Context, *logical.InitializationRequest) error {
	return nil
}
