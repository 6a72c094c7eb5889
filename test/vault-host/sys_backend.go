package main

// The system backend: the subset of the real server's sys/ mount that this
// host serves, written as a framework.Backend like OpenBao's
// vault/logical_system.go and vault/logical_system_paths.go, so that path
// matching, field parsing and validation, help and "unsupported path" /
// "unsupported operation" answers come from the SDK's framework.

import (
	"context"
	"strings"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
)

const systemMountPath = "sys/"

const systemBackendHelp = `
The vault-host system backend: the plugin catalog, mounts and their tuning,
leases, plugin reload, password policies and the merged OpenAPI document. Paths follow the
server's sys/ API; everything else of sys/ is not reproduced.
`

func (h *Host) newSystemBackend() *framework.Backend {
	return &framework.Backend{
		Help:        strings.TrimSpace(systemBackendHelp),
		BackendType: logical.TypeLogical,
		PathsSpecial: &logical.Paths{
			Unauthenticated: []string{"internal/specs/openapi"},
		},
		Paths: framework.PathAppend(
			h.catalogPaths(),
			h.mountPaths(),
			h.leasePaths(),
			h.reloadPaths(),
			h.passwordPolicyPaths(),
			h.internalPaths(),
		),
	}
}

// handleSystem hands a sys/ request to the system backend with its path
// made relative, as the router does for the sys/ mount.
func (h *Host) handleSystem(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	original := req.Path
	req.Path = strings.TrimPrefix(req.Path, systemMountPath)
	req.MountPoint = systemMountPath
	req.MountType = "system"
	defer func() { req.Path = original }()
	return h.system.HandleRequest(ctx, req)
}

// handleError is how system handlers report a failure: coded errors keep
// their status, anything else becomes 400 with the error's text. The check
// is on the error itself, not on what it wraps: a wrapped coded error also
// becomes 400. (The server's version also passes on errors a standby must
// forward, which cannot occur here.)
func handleError(err error) (*logical.Response, error) {
	if _, coded := err.(logical.HTTPCodedError); coded {
		return logical.ErrorResponse(err.Error()), err
	}
	return logical.ErrorResponse(err.Error()), logical.ErrInvalidRequest
}

// sanitizePath gives a mount path its trailing slash and drops a leading
// one.
func sanitizePath(path string) string {
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return strings.TrimPrefix(path, "/")
}
