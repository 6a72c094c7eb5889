package main

// The router: hands a logical.Request to the backend of the mount its path
// falls in, adjusting it the way OpenBao's vault/routing/router.go
// (routeCommon) does, and restoring it afterwards.

import (
	"context"
	"strings"

	"github.com/openbao/openbao/sdk/v2/logical"
)

// routedRequest is the outcome of routing: the response of a request, or the
// answer of an existence check.
type routedRequest struct {
	resp       *logical.Response
	checkFound bool
	exists     bool
}

func (h *Host) route(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	out, err := h.routeCommon(ctx, req, false)
	return out.resp, err
}

func (h *Host) routeExistenceCheck(ctx context.Context, req *logical.Request) (bool, bool, error) {
	out, err := h.routeCommon(ctx, req, true)
	return out.checkFound, out.exists, err
}

// routeCommon sends req to its mount's backend. While the backend works on
// it the request has: a path relative to the mount ("" for the mount
// itself), the mount point and type, the client token salted with the
// mount's UUID, no remaining-uses count and no headers (no passthrough
// headers are configured). Afterwards every field is put back, and
// mount_accessor is set; a request object that is routed again (the
// create/update after its existence check) therefore carries the accessor,
// while a fresh one does not. A tainted mount only takes revoke and
// rollback. A request whose context is on the performance standby goes to
// the standby's backend and storage, unless it is one of the active node's
// own (renew, revoke, rollback).
func (h *Host) routeCommon(ctx context.Context, req *logical.Request, existenceCheck bool) (routedRequest, error) {
	r, adjustedPath := h.mounts.match(req.Path)
	if r == nil {
		return routedRequest{resp: logical.ErrorResponse("no handler for route %q. route entry not found.", req.Path)}, logical.ErrUnsupportedPath
	}
	req.Path = adjustedPath

	r.mu.RLock()
	defer r.mu.RUnlock()
	backend, view := r.backend, logical.Storage(r.view)
	if r.standby != nil && runsOnPerformanceStandby(ctx) && !activeNodeOnly(req.Operation) {
		backend, view = r.standby.backend, r.standby.view
	}
	if backend == nil {
		return routedRequest{resp: logical.ErrorResponse("no handler for route %q. route entry found, but backend is nil.", req.Path)}, logical.ErrUnsupportedPath
	}
	if r.mount.isTainted() && req.Operation != logical.RevokeOperation && req.Operation != logical.RollbackOperation {
		return routedRequest{resp: logical.ErrorResponse("no handler for route %q on namespace %q. route entry or namespace is tainted.", req.Path, "")}, logical.ErrUnsupportedPath
	}

	originalPath := req.Path
	originalToken := req.ClientToken
	originalConnection := req.Connection
	originalID := req.ID
	originalRemainingUses := req.ClientTokenRemainingUses
	originalHeaders := req.Headers

	req.Path = strings.TrimPrefix(req.Path, r.mount.Path)
	if req.Path == "/" {
		req.Path = ""
	}
	req.MountPoint = r.mount.Path
	req.MountType = r.mount.Type
	req.Storage = view
	req.ClientToken = saltedToken(r.mount, originalToken)
	req.ClientTokenRemainingUses = 0
	req.Headers = nil

	defer func() {
		req.Path = originalPath
		req.MountPoint = r.mount.Path
		req.MountType = r.mount.Type
		req.Connection = originalConnection
		req.ID = originalID
		req.Storage = nil
		req.ClientToken = originalToken
		req.ClientTokenRemainingUses = originalRemainingUses
		req.Headers = originalHeaders
		req.MountAccessor = r.mount.Accessor
	}()

	if existenceCheck {
		found, exists, err := backend.HandleExistenceCheck(ctx, req)
		return routedRequest{checkFound: found, exists: exists}, err
	}
	resp, err := backend.HandleRequest(ctx, req)
	if resp != nil {
		// Response headers only pass with allowed_response_headers, which
		// no mount here has.
		resp.Headers = nil
	}
	return routedRequest{resp: resp}, err
}
