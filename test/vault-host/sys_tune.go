package main

// sys/mounts/<path>/tune: after OpenBao's vault/logical_system.go
// (handleMountTuneRead, handleTuneReadCommon, handleMountTuneWrite,
// handleTuneWriteCommon) and its path in vault/logical_system_paths.go.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// untunableMountPrefixes are the server's builtin mounts whose settings
// cannot be tuned (only their audit keys can).
var untunableMountPrefixes = []string{"cubbyhole/", "sys/", "audit/", "identity/"}

// unreproducedTuneFields are tunables whose effect (audit, request and
// response header passing) the host lacks: they are refused rather than
// stored without effect.
var unreproducedTuneFields = []string{
	"audit_non_hmac_request_keys", "audit_non_hmac_response_keys",
	"passthrough_request_headers", "allowed_response_headers",
}

func (h *Host) tunePath() *framework.Path {
	fields := map[string]*framework.FieldSchema{
		"path":                {Type: framework.TypeString, Description: "The mount path (longest-prefix match)."},
		"default_lease_ttl":   {Type: framework.TypeString, Description: `Default lease TTL; "system" for the system's.`},
		"max_lease_ttl":       {Type: framework.TypeString, Description: `Max lease TTL; "system" for the system's.`},
		"description":         {Type: framework.TypeString, Description: "User-friendly description for this mount."},
		"options":             {Type: framework.TypeKVPairs, Description: "Options merged into the mount's; an empty value removes one."},
		"listing_visibility":  {Type: framework.TypeString, Description: `"", "hidden" or "unauth".`},
		"plugin_version":      {Type: framework.TypeString, Description: "The catalog version the backend runs from its next start (reload) on."},
		"token_type":          {Type: framework.TypeString, Description: "Auth mounts only."},
		"user_lockout_config": {Type: framework.TypeMap, Description: "Auth mounts of userpass, ldap and approle only."},
	}
	for _, name := range unreproducedTuneFields {
		fields[name] = &framework.FieldSchema{Type: framework.TypeCommaStringSlice, Description: "Not reproduced by vault-host."}
	}
	return &framework.Path{
		Pattern: "mounts/(?P<path>.+?)/tune$",
		Fields:  fields,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: h.handleTuneRead},
			logical.UpdateOperation: &framework.PathOperation{Callback: h.handleTuneWrite},
		},
		HelpSynopsis: "Tune the configuration of a secrets engine.",
	}
}

// handleTuneRead answers the effective TTLs (the system's where the mount
// has none), and the other settings only when set.
func (h *Host) handleTuneRead(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	path := sanitizePath(d.Get("path").(string))
	r, _ := h.mounts.match(path)
	if r == nil {
		h.logger.Error("cannot fetch sysview", "path", path)
		return handleError(fmt.Errorf("cannot fetch sysview for path %q", path))
	}
	tuned := r.mount.config()
	def, max := r.sysView.leaseTTLs()
	data := map[string]interface{}{
		"description":       tuned.Description,
		"default_lease_ttl": int(def.Seconds()),
		"max_lease_ttl":     int(max.Seconds()),
		"force_no_cache":    false,
	}
	if r.mount.ExternalEntropy {
		data["external_entropy_access"] = true
	}
	if tuned.ListingVisibility != "" {
		data["listing_visibility"] = tuned.ListingVisibility
	}
	if len(tuned.Options) > 0 {
		data["options"] = tuned.Options
	}
	if tuned.Version != "" {
		data["plugin_version"] = tuned.Version
	}
	return &logical.Response{Data: data}, nil
}

// handleTuneWrite validates the given settings in the server's order on a
// copy of the mount's configuration and stores it only when all pass. A
// new plugin_version is only recorded; the backend runs it from its next
// reload. Raising the "version" option reloads the backend at once (the
// server's KV upgrade path, taken for any plugin).
func (h *Host) handleTuneWrite(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	path := sanitizePath(d.Get("path").(string))
	for _, prefix := range untunableMountPrefixes {
		if !strings.HasPrefix(path, prefix) {
			continue
		}
		for _, field := range slices.Sorted(maps.Keys(d.Raw)) {
			if _, known := d.Schema[field]; known && field != "path" && !strings.HasPrefix(field, "audit_non_hmac_") {
				h.logger.Error("cannot tune this mount", "path", path, "field", field)
				return handleError(fmt.Errorf("cannot tune parameter %v of %v", field, path))
			}
		}
	}
	h.mounts.changes.Lock()
	defer h.mounts.changes.Unlock()
	r, _ := h.mounts.match(path)
	if r == nil {
		h.logger.Error("tune failed", "error", "no mount entry found", "path", path)
		return handleError(fmt.Errorf("tune of path %q failed: no mount entry found", path))
	}
	tuned := *r.mount.config()

	def, err := parseMountTTL(d.Get("default_lease_ttl").(string), tuned.DefaultLeaseTTL)
	if err != nil {
		return handleError(err)
	}
	max, err := parseMountTTL(d.Get("max_lease_ttl").(string), tuned.MaxLeaseTTL)
	if err != nil {
		return handleError(err)
	}
	// Checked only when something changes; a zero TTL is the system's and
	// never conflicts.
	changed := def != tuned.DefaultLeaseTTL || max != tuned.MaxLeaseTTL
	if changed && def != 0 && max != 0 && max < def {
		return handleError(fmt.Errorf("backend max lease TTL of %d would be less than backend default lease TTL of %d", int(max.Seconds()), int(def.Seconds())))
	}
	tuned.DefaultLeaseTTL, tuned.MaxLeaseTTL = def, max

	if lockout := d.Get("user_lockout_config").(map[string]interface{}); len(lockout) != 0 {
		return logical.ErrorResponse("tuning of user lockout configuration for auth type %q not allowed", r.mount.Type), logical.ErrInvalidRequest
	}
	if raw, ok := d.GetOk("description"); ok {
		tuned.Description = raw.(string)
	}
	if raw, ok := d.GetOk("plugin_version"); ok {
		version, err := pinnedVersion(raw.(string))
		if err != nil {
			return logical.ErrorResponse(err.Error()), nil
		}
		if h.catalog.get(r.mount.Type, consts.PluginTypeSecrets, version) == nil {
			return handleError(errPluginNotInCatalog(r.mount.Type, version))
		}
		tuned.Version = version
	}
	for _, field := range unreproducedTuneFields {
		if _, ok := d.GetOk(field); ok {
			return logical.ErrorResponse("vault-host does not reproduce %s", field), logical.ErrInvalidRequest
		}
	}
	if raw, ok := d.GetOk("listing_visibility"); ok {
		if !validListingVisibility(raw.(string)) {
			return logical.ErrorResponse("invalid listing_visibility %s", raw), nil
		}
		tuned.ListingVisibility = raw.(string)
	}
	if _, ok := d.GetOk("token_type"); ok {
		return logical.ErrorResponse("'token_type' can only be modified on auth mounts"), logical.ErrInvalidRequest
	}
	upgradeFrom := int64(-1)
	if raw, ok := d.GetOk("options"); ok && len(raw.(map[string]string)) > 0 {
		options := raw.(map[string]string)
		h.logger.Info("mount tuning of options", "path", path, "options", options)
		if requestedRaw, ok := options["version"]; ok {
			current, err := parseutil.ParseInt(tuned.Options["version"])
			if err != nil {
				return handleError(fmt.Errorf("unable to parse mount entry: %w", err))
			}
			requested, err := parseutil.ParseInt(requestedRaw)
			if err != nil {
				return handleError(fmt.Errorf("unable to parse options: %w", err))
			}
			switch {
			case requested != 1 && requested != 2:
				return logical.ErrorResponse("invalid version provided: %d", requested), logical.ErrInvalidRequest
			case current > requested:
				return logical.ErrorResponse("cannot downgrade mount from version %d", current), logical.ErrInvalidRequest
			case current < requested:
				upgradeFrom = current
			}
		}
		merged := map[string]string{}
		maps.Copy(merged, tuned.Options)
		for k, v := range options {
			// An empty value removes an option, but never the version.
			if v == "" && k != "version" {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
		tuned.Options = merged
	}
	r.mount.tunable.Store(&tuned)

	if upgradeFrom < 0 {
		return nil, nil
	}
	if err := h.reloadBackend(ctx, r); err != nil {
		h.logger.Error("mount tuning of options: could not reload backend", "error", err, "path", path, "options", tuned.Options)
		return handleError(err)
	}
	resp := &logical.Response{}
	// "to version 0" as the server says it: its variable for the requested
	// version is shadowed there and stays 0.
	resp.AddWarning(fmt.Sprintf("Upgrading mount from version %d to version 0. This mount will be unavailable for a brief period and will resume service shortly.", upgradeFrom))
	return resp, nil
}

// parseMountTTL parses a mount TTL setting: "" keeps unset, "system" is the
// system's (0), anything else a duration or seconds.
func parseMountTTL(raw string, unset time.Duration) (time.Duration, error) {
	switch raw {
	case "":
		return unset, nil
	case "system":
		return 0, nil
	}
	return parseutil.ParseDurationSecond(raw)
}
