package main

// sys/leases: after OpenBao's vault/logical_system.go (handleRenew,
// handleRevoke, handleRevokePrefixCommon, handleLeaseLookup,
// handleLeaseLookupList, handleLeaseList, handleLeaseCount). A backend's
// failure comes back as 400 with the expiration manager's message. Renewals
// run under the request's deadline; revocations run on the server's own
// context, which has none.

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
)

func (h *Host) leasePaths() []*framework.Path {
	leaseIDFields := func(extra map[string]*framework.FieldSchema) map[string]*framework.FieldSchema {
		fields := map[string]*framework.FieldSchema{
			"url_lease_id": {Type: framework.TypeString, Description: "The lease id (in the URL)."},
			"lease_id":     {Type: framework.TypeString, Description: "The lease id."},
		}
		for k, v := range extra {
			fields[k] = v
		}
		return fields
	}
	syncField := &framework.FieldSchema{Type: framework.TypeBool, Default: true, Description: "Revoke before answering (else answer 202 and revoke in the background)."}
	irrevocableFields := map[string]*framework.FieldSchema{
		"type":                     {Type: framework.TypeString, Description: "Only \"irrevocable\" is answered."},
		"include_child_namespaces": {Type: framework.TypeBool, Default: false, Description: "No namespaces here."},
		"limit":                    {Type: framework.TypeString, Description: "Ignored."},
	}
	return []*framework.Path{
		{
			Pattern: "leases/lookup/(?P<prefix>.+?)?",
			Fields:  map[string]*framework.FieldSchema{"prefix": {Type: framework.TypeString, Description: "The lease id prefix to list."}},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: h.handleLeaseLookupList},
			},
			HelpSynopsis: "List lease ids under a prefix.",
		},
		{
			Pattern: "leases/lookup",
			Fields:  map[string]*framework.FieldSchema{"lease_id": {Type: framework.TypeString, Description: "The lease id."}},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleLeaseLookup},
			},
			HelpSynopsis: "Look up a lease.",
		},
		{
			Pattern: "leases/renew" + framework.OptionalParamRegex("url_lease_id"),
			Fields: leaseIDFields(map[string]*framework.FieldSchema{
				"increment": {Type: framework.TypeDurationSecond, Description: "The requested extension of the lease, in seconds."},
			}),
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleRenew},
			},
			HelpSynopsis: "Renew a lease.",
		},
		{
			Pattern: "leases/revoke" + framework.OptionalParamRegex("url_lease_id"),
			Fields:  leaseIDFields(map[string]*framework.FieldSchema{"sync": syncField}),
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleRevoke},
			},
			HelpSynopsis: "Revoke a lease.",
		},
		{
			Pattern: "leases/revoke-force/(?P<prefix>.+)",
			Fields:  map[string]*framework.FieldSchema{"prefix": {Type: framework.TypeString, Description: "The lease id prefix."}},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleRevokeForce},
			},
			HelpSynopsis: "Revoke every lease under a prefix, ignoring plugin errors.",
		},
		{
			Pattern: "leases/revoke-prefix/(?P<prefix>.+)",
			Fields: map[string]*framework.FieldSchema{
				"prefix": {Type: framework.TypeString, Description: "The lease id prefix."},
				"sync":   syncField,
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handleRevokePrefix},
			},
			HelpSynopsis: "Revoke every lease under a prefix.",
		},
		{
			Pattern: "leases/count$",
			Fields:  irrevocableFields,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{Callback: h.handleLeaseCount},
			},
			HelpSynopsis: "Count the irrevocable leases per mount.",
		},
		{
			Pattern: "leases$",
			Fields:  irrevocableFields,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{Callback: h.handleLeaseList},
			},
			HelpSynopsis: "List the irrevocable leases.",
		},
	}
}

// leaseIDOf reads lease_id, else the id in the URL.
func leaseIDOf(d *framework.FieldData) string {
	if id := d.Get("lease_id").(string); id != "" {
		return id
	}
	return d.Get("url_lease_id").(string)
}

func missingLeaseID() (*logical.Response, error) {
	return logical.ErrorResponse("lease_id must be specified"), logical.ErrInvalidRequest
}

func (h *Host) handleRenew(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	id := leaseIDOf(d)
	if id == "" {
		return missingLeaseID()
	}
	increment := time.Duration(d.Get("increment").(int)) * time.Second
	resp, err := h.expiration.renew(ctx, id, increment)
	if err != nil {
		h.logger.Error("lease renewal failed", "lease_id", id, "error", err)
		return handleError(err)
	}
	return resp, nil
}

func (h *Host) handleRevoke(_ context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	id := leaseIDOf(d)
	if id == "" {
		return missingLeaseID()
	}
	ctx := h.activeCtx
	if d.Get("sync").(bool) {
		if err := h.expiration.revoke(ctx, id, false); err != nil {
			h.logger.Error("lease revocation failed", "lease_id", id, "error", err)
			return handleError(err)
		}
		return nil, nil
	}
	if err := h.expiration.lazyRevoke(ctx, id); err != nil {
		h.logger.Error("lease revocation failed", "lease_id", id, "error", err)
		return handleError(err)
	}
	return logical.RespondWithStatusCode(nil, req, http.StatusAccepted)
}

func (h *Host) handleRevokePrefix(_ context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return h.revokePrefixCommon(req, d.Get("prefix").(string), false, d.Get("sync").(bool))
}

func (h *Host) handleRevokeForce(_ context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return h.revokePrefixCommon(req, d.Get("prefix").(string), true, true)
}

func (h *Host) revokePrefixCommon(req *logical.Request, prefix string, force, sync bool) (*logical.Response, error) {
	if err := h.expiration.revokePrefix(h.activeCtx, prefix, force, sync); err != nil {
		h.logger.Error("revoke prefix failed", "prefix", prefix, "error", err)
		return handleError(err)
	}
	if sync {
		return nil, nil
	}
	return logical.RespondWithStatusCode(nil, req, http.StatusAccepted)
}

func (h *Host) handleLeaseLookup(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	id := d.Get("lease_id").(string)
	if id == "" {
		return missingLeaseID()
	}
	le, err := h.expiration.load(ctx, id)
	if err != nil {
		h.logger.Error("error retrieving lease", "lease_id", id, "error", err)
		return handleError(err)
	}
	if le == nil {
		return logical.ErrorResponse("invalid lease"), logical.ErrInvalidRequest
	}
	renewable, _ := le.renewable()
	data := map[string]interface{}{
		"id":           id,
		"issue_time":   le.IssueTime,
		"expire_time":  nil,
		"last_renewal": nil,
		"ttl":          int64(0),
		"path":         le.Path,
		"renewable":    renewable,
	}
	if le.RevokeErr != "" {
		data["revoke_error"] = le.RevokeErr
	}
	if !le.LastRenewalTime.IsZero() {
		data["last_renewal"] = le.LastRenewalTime
	}
	if !le.ExpireTime.IsZero() {
		data["expire_time"] = le.ExpireTime
		data["ttl"] = le.ttl()
	}
	return &logical.Response{Data: data}, nil
}

func (h *Host) handleLeaseLookupList(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	prefix := d.Get("prefix").(string)
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	keys, err := h.expiration.view.List(ctx, prefix)
	if err != nil {
		h.logger.Error("error listing leases", "prefix", prefix, "error", err)
		return handleError(err)
	}
	return logical.ListResponse(keys), nil
}

func wantsIrrevocable(d *framework.FieldData) bool {
	kind, ok := d.GetOk("type")
	return ok && strings.ToLower(kind.(string)) == "irrevocable"
}

func (h *Host) handleLeaseList(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	if !wantsIrrevocable(d) {
		return nil, nil
	}
	leases := h.expiration.irrevocableLeases()
	return &logical.Response{Data: map[string]interface{}{"lease_count": len(leases), "leases": leases}}, nil
}

func (h *Host) handleLeaseCount(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	if !wantsIrrevocable(d) {
		return nil, nil
	}
	leases := h.expiration.irrevocableLeases()
	counts := map[string]int{}
	for _, l := range leases {
		counts[l.MountID]++
	}
	return &logical.Response{Data: map[string]interface{}{"lease_count": len(leases), "counts": counts}}, nil
}
