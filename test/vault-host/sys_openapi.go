package main

// sys/internal/specs/openapi: the merged OpenAPI document of every mount,
// after OpenBao's vault/logical_system.go (pathInternalOpenAPI,
// pathInternalUIMountsRead), with the SDK's framework OAS types and decoder.
// Each visible mount's backend is asked for help at its root directly, not
// through the router; one failing or malformed answer fails the whole
// endpoint.

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
)

func (h *Host) internalPaths() []*framework.Path {
	return []*framework.Path{{
		Pattern: "internal/specs/openapi",
		Fields: map[string]*framework.FieldSchema{
			"context":             {Type: framework.TypeString, Description: "Context string appended to every operationId (unused by the server)."},
			"generic_mount_paths": {Type: framework.TypeBool, Query: true, Default: false, Description: "Use generic mount paths."},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: h.handleOpenAPI},
			logical.UpdateOperation: &framework.PathOperation{Callback: h.handleOpenAPI},
		},
		HelpSynopsis: "Generate an OpenAPI 3 document of all mounted paths.",
	}}
}

// visibleMounts are the mounts a caller may see: every mount with a token,
// only listing_visibility "unauth" mounts without one.
func (h *Host) visibleMounts(authenticated bool) []*route {
	var out []*route
	for _, r := range h.mounts.all() {
		if authenticated || r.mount.config().ListingVisibility == "unauth" {
			out = append(out, r)
		}
	}
	return out
}

// abortLikeNilDereference reproduces what the server does when it reads a
// nil *logical.Response here: the handler panics, net/http recovers and
// closes the connection without an answer.
func (h *Host) abortLikeNilDereference(where string) {
	h.logger.Error("http: panic serving request: runtime error: invalid memory address or nil pointer dereference (vault-host reproduces the server's nil-response crash)", "where", where)
	panic(http.ErrAbortHandler)
}

func (h *Host) handleOpenAPI(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	doc := framework.NewOASDocument(h.version.version)
	genericMountPaths, _ := d.Get("generic_mount_paths").(bool)

	for _, r := range h.visibleMounts(req.ClientToken != "") {
		r.mu.RLock()
		backend := r.backend
		r.mu.RUnlock()
		if backend == nil {
			continue
		}
		mount := r.mount.Path
		resp, err := backend.HandleRequest(ctx, &logical.Request{
			Operation: logical.HelpOperation,
			Storage:   req.Storage,
			Data:      map[string]interface{}{"requestResponsePrefix": r.mount.Type},
		})
		if err != nil {
			return nil, err
		}
		if resp == nil {
			h.abortLikeNilDereference("openapi: help of mount " + mount)
		}
		raw, ok := resp.Data["openapi"].(map[string]interface{})
		if !ok {
			continue
		}
		backendDoc, err := framework.NewOASDocumentFromMap(raw)
		if err != nil {
			return nil, err
		}

		paramName := ""
		if genericMountPaths {
			paramName = strings.TrimRight(strings.ReplaceAll(mount, "-", "_"), "/") + "_mount_path"
		}
		for path, item := range backendDoc.Paths {
			path = strings.TrimPrefix(path, "/")
			mountForOpenAPI := mount
			if paramName != "" {
				if item == nil {
					h.abortLikeNilDereference("openapi: nil path item " + path)
				}
				mountForOpenAPI = "{" + paramName + "}/"
				item.Parameters = append(item.Parameters, framework.OASParameter{
					Name:        paramName,
					Description: "Path that the backend was mounted at",
					In:          "path",
					Schema:      &framework.OASSchema{Type: "string", Default: strings.TrimRight(mount, "/")},
					Required:    true,
				})
			}
			doc.Paths["/"+mountForOpenAPI+path] = item
		}
		maps.Copy(doc.Components.Schemas, backendDoc.Components.Schemas)
	}

	buf, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		logical.HTTPStatusCode:  http.StatusOK,
		logical.HTTPRawBody:     buf,
		logical.HTTPContentType: "application/json",
	}}, nil
}
