package main

// sys/mounts: after OpenBao's vault/logical_system.go (handleMountTable,
// handleMount, validateVersion, handleReadMount, handleUnmount).

import (
	"context"
	"fmt"

	"github.com/go-viper/mapstructure/v2"
	semver "github.com/hashicorp/go-version"
	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// mountConfigInput is the part of a mount's "config" this host reads. The
// plugin version to pin sits in config, as `bao secrets enable
// -plugin-version` sends it; a top-level plugin_version is ignored, as by
// the real handler.
type mountConfigInput struct {
	DefaultLeaseTTL   string `mapstructure:"default_lease_ttl"`
	MaxLeaseTTL       string `mapstructure:"max_lease_ttl"`
	ListingVisibility string `mapstructure:"listing_visibility"`
	PluginVersion     string `mapstructure:"plugin_version"`
}

func (h *Host) mountPaths() []*framework.Path {
	return []*framework.Path{
		h.tunePath(), // before mounts/<path>, which would match it too
		{
			Pattern: "mounts$",
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{Callback: h.handleMountTable},
			},
			HelpSynopsis: "List the mounted secrets engines.",
		},
		{
			Pattern: "mounts/(?P<path>.+?)",
			Fields: map[string]*framework.FieldSchema{
				"path":                    {Type: framework.TypeString, Description: "The path to mount to."},
				"type":                    {Type: framework.TypeString, Description: "The catalog name of the plugin."},
				"description":             {Type: framework.TypeString, Description: "User-friendly description for this mount."},
				"config":                  {Type: framework.TypeMap, Description: "default_lease_ttl, max_lease_ttl, listing_visibility and plugin_version of the mount."},
				"local":                   {Type: framework.TypeBool, Default: false, Description: "Mark the mount as local (no effect here)."},
				"seal_wrap":               {Type: framework.TypeBool, Default: false, Description: "Seal-wrap the mount's storage (no effect here)."},
				"external_entropy_access": {Type: framework.TypeBool, Default: false, Description: "External entropy access (no effect here)."},
				"plugin_name":             {Type: framework.TypeString, Description: "Deprecated; the plugin is named by type."},
				"options":                 {Type: framework.TypeKVPairs, Description: "Options passed to the plugin in its configuration."},
				"plugin_version":          {Type: framework.TypeString, Description: "Ignored; use config.plugin_version."},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleMount},
				logical.DeleteOperation: &framework.PathOperation{Callback: h.handleUnmount},
				logical.ReadOperation:   &framework.PathOperation{Callback: h.handleReadMount},
			},
			HelpSynopsis: "Enable, read or disable a secrets engine.",
		},
	}
}

func (h *Host) handleMountTable(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	resp := &logical.Response{Data: map[string]interface{}{}}
	for _, r := range h.mounts.all() {
		resp.Data[r.mount.Path] = mountInfo(r.mount)
	}
	return resp, nil
}

func (h *Host) handleReadMount(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	path := sanitizePath(d.Get("path").(string))
	r, _ := h.mounts.match(path)
	if r == nil {
		return logical.ErrorResponse("No secret engine mount at %s", path), nil
	}
	return &logical.Response{Data: mountInfo(r.mount)}, nil
}

func (h *Host) handleMount(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	var config mountConfigInput
	if raw := d.Get("config").(map[string]interface{}); len(raw) != 0 {
		if err := mapstructure.Decode(raw, &config); err != nil {
			return logical.ErrorResponse("unable to convert given mount config information"), logical.ErrInvalidRequest
		}
	}
	entry := &mountEntry{
		Path:            sanitizePath(d.Get("path").(string)),
		Type:            d.Get("type").(string),
		Local:           d.Get("local").(bool),
		SealWrap:        d.Get("seal_wrap").(bool),
		ExternalEntropy: d.Get("external_entropy_access").(bool),
	}
	tuned := &mountConfig{
		Description: d.Get("description").(string),
		Options:     d.Get("options").(map[string]string),
	}
	var err error
	if tuned.DefaultLeaseTTL, err = parseMountTTL(config.DefaultLeaseTTL, 0); err != nil {
		return logical.ErrorResponse("unable to parse default TTL of %s: %s", config.DefaultLeaseTTL, err), logical.ErrInvalidRequest
	}
	if tuned.MaxLeaseTTL, err = parseMountTTL(config.MaxLeaseTTL, 0); err != nil {
		return logical.ErrorResponse("unable to parse max TTL of %s: %s", config.MaxLeaseTTL, err), logical.ErrInvalidRequest
	}
	if tuned.MaxLeaseTTL != 0 && tuned.DefaultLeaseTTL > tuned.MaxLeaseTTL {
		return logical.ErrorResponse("given default lease TTL greater than given max lease TTL"), logical.ErrInvalidRequest
	}
	if tuned.DefaultLeaseTTL > h.cfg.maxLeaseTTL && tuned.MaxLeaseTTL == 0 {
		return logical.ErrorResponse("given default lease TTL greater than system max lease TTL of %d", int(h.cfg.maxLeaseTTL.Seconds())), logical.ErrInvalidRequest
	}
	if entry.Type == "" {
		return logical.ErrorResponse("backend type must be specified as a string"), logical.ErrInvalidRequest
	}
	if tuned.Options != nil && tuned.Options["version"] != "" {
		return logical.ErrorResponse("secrets engine %q does not allow setting a version", entry.Type), logical.ErrInvalidRequest
	}
	if config.PluginVersion == "" {
		if tuned.Version, err = h.selectPluginVersion(entry.Type); err != nil {
			return nil, err
		}
		if tuned.Version != "" {
			h.logger.Debug("pinning plugin version", "plugin type", "secret", "plugin name", entry.Type, "plugin version", tuned.Version)
		}
	} else if tuned.Version, err = pinnedVersion(config.PluginVersion); err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if !validListingVisibility(config.ListingVisibility) {
		return logical.ErrorResponse("invalid listing_visibility %s", config.ListingVisibility), nil
	}
	tuned.ListingVisibility = config.ListingVisibility
	entry.tunable.Store(tuned)
	if err := h.mount(ctx, entry); err != nil {
		h.logger.Error("error occurred during enable mount", "path", entry.Path, "error", err)
		return handleError(err)
	}
	return nil, nil
}

// pinnedVersion canonicalises the plugin_version a mount is enabled or
// tuned with to "v<semver>"; unlike catalog versions it is parsed loosely.
func pinnedVersion(raw string) (string, error) {
	parsed, err := semver.NewVersion(raw)
	if err != nil {
		return "", fmt.Errorf("version %q is not a valid semantic version: %w", raw, err)
	}
	return "v" + parsed.String(), nil
}

func validListingVisibility(visibility string) bool {
	switch visibility {
	case "", "hidden", "unauth":
		return true
	}
	return false
}

func (h *Host) handleUnmount(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	path := sanitizePath(d.Get("path").(string))
	// Unmounting a path that is not a mount succeeds, so as not to tell
	// whether it existed.
	if h.mounts.exact(path) == nil {
		return nil, nil
	}
	if err := h.unmount(path); err != nil {
		h.logger.Error("unmount failed", "path", path, "error", err)
		return handleError(err)
	}
	return nil, nil
}
