package main

// The backend a mount holds: the factory that tries protocol 5 and falls
// back to 3/4 (OpenBao's builtin/plugin/backend.go Factory), and the
// protocol-5 wrapper that brings a dead plugin back and retries once
// (builtin/plugin/v5/backend.go).

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-multierror"
	"github.com/hashicorp/go-uuid"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/logical"
	sdkplugin "github.com/openbao/openbao/sdk/v2/plugin"
)

// pluginFactory builds the backend of a mount from its BackendConfig
// (Config carries plugin_name, plugin_type and plugin_version) and runs
// Setup on it.
func pluginFactory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if _, ok := conf.Config["plugin_name"]; !ok {
		return nil, errors.New("plugin_name not provided")
	}
	merr := &multierror.Error{}
	v5, err := newReloadingBackend(ctx, conf)
	if err == nil {
		// A failed Setup leaves the connection in the process table, as in
		// the real server; the process lives until the host stops.
		if err := v5.Setup(ctx, conf); err != nil {
			return nil, err
		}
		return v5, nil
	}
	merr = multierror.Append(merr, err)

	legacy, err := newLegacyBackend(ctx, conf)
	if err != nil {
		merr = multierror.Append(merr, err)
		return nil, fmt.Errorf("invalid backend version: %s", merr)
	}
	if err := legacy.Setup(ctx, conf); err != nil {
		merr = multierror.Append(merr, err)
		return nil, merr.ErrorOrNil()
	}
	return legacy, nil
}

// pluginIdentity reads what the mount put into the backend configuration.
func pluginIdentity(conf *logical.BackendConfig) (name string, pluginType consts.PluginType, version string, err error) {
	pluginType, err = consts.ParsePluginType(conf.Config["plugin_type"])
	return conf.Config["plugin_name"], pluginType, conf.Config["plugin_version"], err
}

// reloadingBackend is the protocol-5 backend of a mount. When a request
// finds the plugin process gone (the SDK client answers ErrPluginShutdown
// once go-plugin has seen the process exit), it reloads the backend (new
// connection, Setup, Initialize) and retries the request once.
type reloadingBackend struct {
	logical.Backend

	// mu is held for reading by requests and for writing by a reload.
	mu     sync.RWMutex
	config *logical.BackendConfig
	// canary changes with every reload, so that of several requests that
	// saw the same dead process only the first reloads.
	canary string
}

func newReloadingBackend(ctx context.Context, conf *logical.BackendConfig) (*reloadingBackend, error) {
	name, pluginType, version, err := pluginIdentity(conf)
	if err != nil {
		return nil, err
	}
	raw, err := sdkplugin.NewBackendV5(ctx, name, pluginType, version, conf.System, conf)
	if err != nil {
		return nil, err
	}
	return &reloadingBackend{Backend: raw, config: conf}, nil
}

// reloadBackend replaces the backend: Cleanup with the reload marker (which
// makes the catalog kill the process, shared or not), a new connection,
// Setup and Initialize. b.mu must be held for writing.
func (b *reloadingBackend) reloadBackend(ctx context.Context, storage logical.Storage) error {
	name, pluginType, version, err := pluginIdentity(b.config)
	if err != nil {
		return err
	}
	b.Logger().Debug("plugin: reloading plugin backend", "plugin", name)
	b.Cleanup(context.WithValue(ctx, sdkplugin.ContextKeyPluginReload, "reload"))

	fresh, err := sdkplugin.NewBackendV5(ctx, name, pluginType, version, b.config.System, b.config)
	if err != nil {
		return err
	}
	if err := fresh.Setup(ctx, b.config); err != nil {
		return err
	}
	b.Backend = fresh
	return b.Initialize(ctx, &logical.InitializationRequest{Storage: storage})
}

// afterShutdown reloads once per dead process: only the first of the
// requests that observed the same canary reloads.
func (b *reloadingBackend) afterShutdown(ctx context.Context, seenCanary string, storage logical.Storage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.canary != seenCanary {
		return nil
	}
	if err := b.reloadBackend(ctx, storage); err != nil {
		return err
	}
	canary, err := uuid.GenerateUUID()
	if err != nil {
		return err
	}
	b.canary = canary
	return nil
}

func (b *reloadingBackend) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	b.mu.RLock()
	canary := b.canary
	resp, err := b.Backend.HandleRequest(ctx, req)
	b.mu.RUnlock()
	if err != sdkplugin.ErrPluginShutdown {
		return resp, err
	}
	if err := b.afterShutdown(ctx, canary, req.Storage); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.HandleRequest(ctx, req)
}

func (b *reloadingBackend) HandleExistenceCheck(ctx context.Context, req *logical.Request) (bool, bool, error) {
	b.mu.RLock()
	canary := b.canary
	found, exists, err := b.Backend.HandleExistenceCheck(ctx, req)
	b.mu.RUnlock()
	if err != sdkplugin.ErrPluginShutdown {
		return found, exists, err
	}
	if err := b.afterShutdown(ctx, canary, req.Storage); err != nil {
		return false, false, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.Backend.HandleExistenceCheck(ctx, req)
}

func (b *reloadingBackend) InvalidateKey(ctx context.Context, key string) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	b.Backend.InvalidateKey(ctx, key)
}
