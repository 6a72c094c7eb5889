package main

// The core's request path (OpenBao's vault/request_handling.go
// handleCancelableRequest, CheckToken, handleRequest): every API request
// except help and health comes through here, system paths go to the system
// backend (sys_*.go), everything else to the router, and secrets in
// responses become leases.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/errutil"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// rootDisplayName is the display name of the root token, the only token.
const rootDisplayName = "root"

// errInternalError is what the core answers instead of details it keeps to
// its log.
var errInternalError = errors.New("internal error")

// openAPIPath is the one logical path served without a token.
const openAPIPath = "sys/internal/specs/openapi"

// clientOperations are the operations a client's request may carry (the
// server's external operations; renew, revoke, rollback are its own).
var clientOperations = []logical.Operation{
	logical.CreateOperation, logical.ReadOperation, logical.UpdateOperation, logical.PatchOperation,
	logical.DeleteOperation, logical.ListOperation, logical.ScanOperation, logical.HelpOperation,
	logical.HeaderOperation,
}

// handleRequest runs one API request. Writes to a path ending in '/' and
// operations that are not for clients (OPTIONS has none) are refused
// before the token is checked.
func (h *Host) handleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	if strings.HasSuffix(req.Path, "/") &&
		(req.Operation == logical.UpdateOperation || req.Operation == logical.CreateOperation || req.Operation == logical.PatchOperation) {
		return logical.ErrorResponse("cannot write to a path ending in '/'"), nil
	}
	if !slices.Contains(clientOperations, req.Operation) {
		return logical.ErrorResponse("cannot handle internal-only request operation"), nil
	}
	if r, _ := h.mounts.match(req.Path); r != nil {
		req.MountPoint = r.mount.Path
	}
	if !h.tokenAccepted(req.ClientToken, req.Path == openAPIPath) {
		// The core answers a failed token check with an error response
		// besides the wrapped error: the status comes from the error, the
		// text from the response, so the body is the bare message.
		return logical.ErrorResponse(logical.ErrPermissionDenied.Error()), multierror.Append(nil, logical.ErrPermissionDenied)
	}
	// The token check passed: the accessor is known from here on.
	req.ClientTokenAccessor = h.rootTokenAccessor
	if strings.HasPrefix(req.Path, "sys/") {
		req.DisplayName = rootDisplayName
		resp, err := h.handleSystem(ctx, req)
		return resp, wrapRouteError(err)
	}
	if req.Operation == logical.CreateOperation || req.Operation == logical.UpdateOperation {
		if resp, err := h.decideCreateOrUpdate(ctx, req); err != nil {
			return resp, err
		}
	}
	req.DisplayName = rootDisplayName

	resp, routeErr := h.route(ctx, req)
	if resp != nil && resp.Secret != nil {
		if err := h.registerLease(ctx, req, resp); err != nil {
			return nil, err
		}
	}
	if resp != nil && resp.Auth != nil && routeErr == nil {
		h.logger.Error("unexpected auth response for non-token backend", "request_path", req.Path)
		return nil, multierror.Append(nil, errInternalError)
	}
	return resp, wrapRouteError(routeErr)
}

// tokenAccepted checks the client token: any non-empty token, or exactly
// -root-token when set. An unauthenticated path takes no token, but a
// given one must still be valid.
func (h *Host) tokenAccepted(token string, unauthenticated bool) bool {
	if token == "" {
		return unauthenticated
	}
	return h.cfg.rootToken == "" || token == h.cfg.rootToken
}

// decideCreateOrUpdate runs the existence check that turns a write into a
// create or an update. It runs before the token's display name is attached
// and on a request that has not been routed yet.
func (h *Host) decideCreateOrUpdate(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	checkFound, exists, err := h.routeExistenceCheck(ctx, req)
	switch {
	case err == logical.ErrUnsupportedPath:
		// Fail later via the bad path.
		checkFound = false
	case errors.Is(err, logical.ErrRelativePath):
		return logical.ErrorResponse(err.Error()), multierror.Append(nil, logical.ErrInvalidRequest)
	case err != nil:
		h.logger.Error("failed to run existence check", "error", err)
		var userErr errutil.UserError
		if errors.As(err, &userErr) {
			return logical.ErrorResponse(err.Error()), multierror.Append(nil, logical.ErrInvalidRequest)
		}
		return nil, multierror.Append(nil, errInternalError)
	}
	switch {
	case !checkFound, exists:
		req.Operation = logical.UpdateOperation
	default:
		req.Operation = logical.CreateOperation
	}
	return nil, nil
}

// registerLease clamps the secret's TTL with the mount's system view and
// registers the lease, setting the lease id in the response.
func (h *Host) registerLease(ctx context.Context, req *logical.Request, resp *logical.Response) error {
	r, _ := h.mounts.match(req.Path)
	if r == nil {
		h.logger.Error("unable to look up sys view for login path", "request_path", req.Path)
		return errInternalError
	}
	ttl, warnings, err := framework.CalculateTTL(r.sysView, 0, resp.Secret.TTL, 0, resp.Secret.MaxTTL, 0, time.Time{})
	if err != nil {
		return err
	}
	for _, warning := range warnings {
		resp.AddWarning(warning)
	}
	resp.Secret.TTL = ttl
	leaseID, err := h.expiration.register(ctx, req, resp)
	if err != nil {
		h.logger.Error("failed to register lease", "request_path", req.Path, "error", err)
		return multierror.Append(nil, errInternalError)
	}
	resp.Secret.LeaseID = leaseID
	return nil
}

// wrapRouteError is how the core hands a backend's error to the HTTP layer:
// inside a multierror, which is what makes messages read
// "1 error occurred:\n\t* ...".
func wrapRouteError(err error) error {
	if err == nil {
		return nil
	}
	return multierror.Append(nil, err)
}
