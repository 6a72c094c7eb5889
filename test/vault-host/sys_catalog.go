package main

// sys/plugins/catalog: after OpenBao's vault/logical_system.go
// (handlePluginCatalogUpdate, ...Read, ...Delete, ...TypedList,
// ...UntypedList) and the paths in vault/logical_system_paths.go.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// catalogPaths lists the list paths first: the framework takes the first
// matching pattern, and the name pattern would also match "secret/".
func (h *Host) catalogPaths() []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "plugins/catalog/(?P<type>auth|database|secret)/?$",
			Fields: map[string]*framework.FieldSchema{
				"type": {Type: framework.TypeString, Description: "The type of the plugins to list."},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: h.handleCatalogTypedList},
			},
			HelpSynopsis: "List the names of the plugins of one type.",
		},
		{
			Pattern: "plugins/catalog/?$",
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{Callback: h.handleCatalogUntypedList},
			},
			HelpSynopsis: "List the plugins of every type, with their versions.",
		},
		{
			Pattern: "plugins/catalog(/(?P<type>auth|database|secret))?/(?P<name>.+)",
			Fields: map[string]*framework.FieldSchema{
				"name":    {Type: framework.TypeString, Description: "The name of the plugin."},
				"type":    {Type: framework.TypeString, Description: "The type of the plugin: auth, database or secret. Without it the plugin is started to find out."},
				"sha256":  {Type: framework.TypeString, Description: "The SHA256 sum of the executable (hex)."},
				"sha_256": {Type: framework.TypeString, Description: "Deprecated spelling of sha256."},
				"command": {Type: framework.TypeString, Description: "The file name of the executable in the plugin directory; words after a space are taken as args."},
				"args":    {Type: framework.TypeStringSlice, Description: "Arguments for the executable."},
				"env":     {Type: framework.TypeStringSlice, Description: "Environment variables (KEY=VALUE) for the process."},
				"version": {Type: framework.TypeString, Description: "The semantic version of the plugin; canonicalised to v<semver>."},
				"oci":     {Type: framework.TypeBool, Description: "Whether the plugin comes from an OCI image (not reproduced)."},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleCatalogUpdate},
				logical.DeleteOperation: &framework.PathOperation{Callback: h.handleCatalogDelete},
				logical.ReadOperation:   &framework.PathOperation{Callback: h.handleCatalogRead},
			},
			HelpSynopsis: "Register, read or remove a plugin in the catalog.",
		},
	}
}

// catalogVersion reads the version field: canonical form and whether it
// carries the reserved builtin metadata.
func catalogVersion(d *framework.FieldData) (string, bool, error) {
	return canonicalVersion(d.Get("version").(string))
}

func (h *Host) handleCatalogUpdate(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if name == "" {
		return logical.ErrorResponse("missing plugin name"), nil
	}
	typeName := d.Get("type").(string)
	if typeName == "" {
		typeName = consts.PluginTypeUnknown.String()
	}
	pluginType, err := consts.ParsePluginType(typeName)
	if err != nil {
		return nil, err
	}
	version, builtin, err := catalogVersion(d)
	if err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if builtin {
		return logical.ErrorResponse("version %q is not allowed because 'builtin' is a reserved metadata identifier", version), nil
	}
	sum := d.Get("sha256").(string)
	if sum == "" {
		if sum = d.Get("sha_256").(string); sum == "" {
			return logical.ErrorResponse("missing SHA-256 value"), nil
		}
	}
	command := d.Get("command").(string)
	if command == "" {
		return logical.ErrorResponse("missing command value"), nil
	}
	if d.Get("oci").(bool) {
		return logical.ErrorResponse("vault-host does not reproduce OCI plugins"), nil
	}
	file, args, err := splitCommand(command, d.Get("args").([]string))
	if err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	sha, err := hex.DecodeString(sum)
	if err != nil {
		return logical.ErrorResponse("Could not decode SHA-256 value from Hex"), err
	}
	_, err = h.catalog.set(ctx, registration{
		name:       name,
		pluginType: pluginType,
		version:    version,
		command:    file,
		args:       args,
		env:        d.Get("env").([]string),
		sha256:     sha,
	})
	if err != nil {
		if errors.Is(err, errPluginNotFound) || strings.HasPrefix(err.Error(), "plugin version mismatch") {
			return logical.ErrorResponse(err.Error()), nil
		}
		return nil, err
	}
	return nil, nil
}

func (h *Host) handleCatalogRead(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if name == "" {
		return logical.ErrorResponse("missing plugin name"), nil
	}
	typeName := d.Get("type").(string)
	if typeName == "" {
		resp := &logical.Response{}
		resp.AddWarning(fmt.Sprintf("Deprecated API endpoint, cannot read plugin information from catalog for %q", name))
		return resp, nil
	}
	pluginType, err := consts.ParsePluginType(typeName)
	if err != nil {
		return nil, err
	}
	version, _, err := catalogVersion(d)
	if err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	plugin := h.catalog.get(name, pluginType, version)
	if plugin == nil {
		return nil, nil
	}
	command, err := filepath.Rel(h.catalog.directory, plugin.Command)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		"name":        plugin.Name,
		"args":        plugin.Args,
		"command":     command,
		"sha256":      hex.EncodeToString(plugin.Sha256),
		"builtin":     false,
		"version":     plugin.Version,
		"oci":         false,
		"declarative": false,
	}}, nil
}

func (h *Host) handleCatalogDelete(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if name == "" {
		return logical.ErrorResponse("missing plugin name"), nil
	}
	version, builtin, err := catalogVersion(d)
	if err != nil {
		return logical.ErrorResponse(err.Error()), nil
	}
	if builtin {
		return logical.ErrorResponse("version %q cannot be deleted", version), nil
	}
	var resp *logical.Response
	typeName := d.Get("type").(string)
	if typeName == "" {
		// The untyped endpoint only reaches entries registered before
		// plugin types existed, of which this host has none.
		resp = &logical.Response{}
		resp.AddWarning(fmt.Sprintf("Deprecated API endpoint, cannot deregister plugin from catalog for %q", name))
		typeName = consts.PluginTypeUnknown.String()
	}
	pluginType, err := consts.ParsePluginType(typeName)
	if err != nil {
		return nil, err
	}
	h.catalog.delete(name, pluginType, version)
	return resp, nil
}

func (h *Host) handleCatalogTypedList(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	pluginType, err := consts.ParsePluginType(d.Get("type").(string))
	if err != nil {
		return nil, err
	}
	plugins, err := h.catalog.listVersioned(pluginType)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(uniquePluginNames(plugins)), nil
}

func (h *Host) handleCatalogUntypedList(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
	data := map[string]interface{}{}
	var detailed []map[string]interface{}
	for _, pluginType := range catalogPluginTypes {
		plugins, err := h.catalog.listVersioned(pluginType)
		if err != nil {
			return nil, err
		}
		if len(plugins) > 0 {
			data[pluginType.String()] = uniquePluginNames(plugins)
		}
		for _, p := range plugins {
			entry := map[string]interface{}{"type": p.Type, "name": p.Name, "version": p.Version, "builtin": p.Builtin}
			if p.SHA256 != "" {
				entry["sha256"] = p.SHA256
			}
			detailed = append(detailed, entry)
		}
	}
	if len(detailed) > 0 {
		data["detailed"] = detailed
	}
	return &logical.Response{Data: data}, nil
}
