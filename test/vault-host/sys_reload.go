package main

// sys/plugins/reload/backend: after OpenBao's vault/logical_system.go
// (handlePluginReloadUpdate) and vault/plugin_reload.go
// (reloadMatchingPlugin, reloadMatchingPluginMounts, reloadBackendCommon).

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/logical"
	sdkplugin "github.com/openbao/openbao/sdk/v2/plugin"
)

func (h *Host) reloadPaths() []*framework.Path {
	return []*framework.Path{{
		Pattern: "plugins/reload/backend$",
		Fields: map[string]*framework.FieldSchema{
			"plugin": {Type: framework.TypeString, Description: "Reload every mount of this catalog name."},
			"mounts": {Type: framework.TypeCommaStringSlice, Description: "Reload these mounts."},
			"scope":  {Type: framework.TypeString, Description: "Accepted and ignored (single node)."},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation: &framework.PathOperation{Callback: h.handlePluginReload},
		},
		HelpSynopsis: "Reload the backends of a plugin or of some mounts.",
	}}
}

func (h *Host) handlePluginReload(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	pluginName := d.Get("plugin").(string)
	mounts := d.Get("mounts").([]string)
	if pluginName != "" && len(mounts) > 0 {
		return logical.ErrorResponse("plugin and mounts cannot be set at the same time"), nil
	}
	if pluginName == "" && len(mounts) == 0 {
		return logical.ErrorResponse("plugin or mounts must be provided"), nil
	}
	var err error
	if pluginName != "" {
		err = h.reloadMatchingPlugin(ctx, pluginName)
	} else {
		err = h.reloadMatchingMounts(ctx, mounts)
	}
	if err != nil {
		return handleError(err)
	}
	return &logical.Response{Data: map[string]interface{}{"reload_id": req.ID}}, nil
}

// reloadMatchingPlugin reloads every mount of a catalog name, stopping at
// the first failure.
func (h *Host) reloadMatchingPlugin(ctx context.Context, pluginName string) error {
	h.mounts.changes.RLock()
	defer h.mounts.changes.RUnlock()
	types := h.catalog.typesFromName(pluginName)
	if len(types) == 0 {
		return fmt.Errorf("%w: %q", errPluginNotFound, pluginName)
	}
	if !slices.Contains(types, consts.PluginTypeCredential) && !slices.Contains(types, consts.PluginTypeSecrets) {
		return fmt.Errorf("plugin %q cannot be reloaded, only plugins of type auth and secret can be reloaded", pluginName)
	}
	for _, r := range h.mounts.all() {
		if r.mount.Type != pluginName {
			continue
		}
		if err := h.reloadBackend(ctx, r); err != nil {
			return err
		}
		h.logger.Info("successfully reloaded plugin", "plugin", pluginName, "path", r.mount.Path, "version", r.mount.config().Version)
	}
	return nil
}

// reloadMatchingMounts reloads the mounts matching each path (longest
// prefix), collecting the failures.
func (h *Host) reloadMatchingMounts(ctx context.Context, paths []string) error {
	h.mounts.changes.RLock()
	defer h.mounts.changes.RUnlock()
	var errs error
	for _, path := range paths {
		// sys/auth/x names the auth mount auth/x; auth mounts do not exist
		// here, so such paths end up as "cannot fetch".
		if strings.HasPrefix(path, "sys/auth/") {
			path = strings.TrimPrefix(path, "sys/")
		}
		if !strings.HasSuffix(path, "/") {
			path += "/"
		}
		r, _ := h.mounts.match(path)
		if r == nil {
			errs = multierror.Append(errs, fmt.Errorf("cannot fetch mount entry on %q", path))
			continue
		}
		if err := h.reloadBackend(ctx, r); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("cannot reload plugin on %q: %w", path, err))
			continue
		}
		h.logger.Info("successfully reloaded plugin", "plugin", r.mount.Accessor, "path", r.mount.Path, "version", r.mount.config().Version)
	}
	return errs
}

// reloadBackend replaces a mount's backend once its requests have drained:
// Cleanup with the reload marker (the catalog kills the process, a shared
// multiplexed one included), a new backend with Setup, then Initialize and
// SpecialPaths. A failed start leaves the cleaned-up backend in place; its
// next request goes through the dead-plugin path. With a performance
// standby, its backend is reloaded too (as `scope=global` reloads every
// node), after the active node's.
func (h *Host) reloadBackend(ctx context.Context, r *route) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	reloadCtx := context.WithValue(ctx, sdkplugin.ContextKeyPluginReload, "reload")
	if r.backend != nil {
		r.backend.Cleanup(reloadCtx)
	}
	if r.standby != nil && r.standby.backend != nil {
		r.standby.backend.Cleanup(reloadCtx)
	}
	backend, sha, err := h.newLogicalBackend(ctx, r.mount, r.sysView, r.view)
	if err != nil {
		return err
	}
	r.mount.RunningSha256 = sha
	r.mount.RunningVersion = r.mount.config().Version
	r.backend = backend
	if err := backend.Initialize(ctx, &logical.InitializationRequest{Storage: r.view}); err != nil {
		return err
	}
	backend.SpecialPaths()
	if r.standby != nil {
		r.standby = h.startStandbyBackend(ctx, ctx, r.mount)
	}
	return nil
}
