package main

// sys/policies/password and the system view's GeneratePasswordFromPolicy:
// after OpenBao's vault/logical_system.go (handlePoliciesPassword*) and
// vault/dynamic_system_view.go (GeneratePasswordFromPolicy). Policies are
// stored as {"policy": "<HCL>"} under sys/password_policy/<name>.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand"
	"net/http"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/jsonutil"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// The bounds on a policy's length.
const (
	minPasswordLength = 4
	maxPasswordLength = 100
)

type passwordPolicyEntry struct {
	HCLPolicy string `json:"policy"`
}

// passwordPolicies is the store of password policies.
type passwordPolicies struct {
	view logical.StorageView
}

func newPasswordPolicies(barrier logical.Storage) *passwordPolicies {
	return &passwordPolicies{view: logical.NewStorageView(barrier, "sys/password_policy/")}
}

func (p *passwordPolicies) get(ctx context.Context, name string) (*passwordPolicyEntry, error) {
	raw, err := p.view.Get(ctx, name)
	if err != nil || raw == nil {
		return nil, err
	}
	entry := &passwordPolicyEntry{}
	if err := jsonutil.DecodeJSON(raw.Value, entry); err != nil {
		return nil, fmt.Errorf("failed to unmarshal stored data: %w", err)
	}
	return entry, nil
}

// generateForPlugin serves SystemView.GeneratePasswordFromPolicy. The SDK's
// system-view server hides the cause from the plugin (Internal "failed to
// generate password").
func (p *passwordPolicies) generateForPlugin(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", errors.New("missing password policy name")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, generateTimeout)
		defer cancel()
	}
	entry, err := p.get(ctx, name)
	if err != nil {
		return "", fmt.Errorf("failed to retrieve password policy: %w", err)
	}
	if entry == nil {
		return "", errors.New("no password policy found")
	}
	policy, err := parsePasswordPolicy(entry.HCLPolicy)
	if err != nil {
		return "", fmt.Errorf("stored password policy is invalid: %w", err)
	}
	return policy.generate(ctx)
}

func (h *Host) passwordPolicyPaths() []*framework.Path {
	nameField := map[string]*framework.FieldSchema{"name": {Type: framework.TypeString, Description: "The name of the password policy."}}
	return []*framework.Path{
		{
			Pattern: "policies/password/?$",
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: h.handlePasswordPolicyList},
			},
			HelpSynopsis: "List the password policies.",
		},
		{
			Pattern: "policies/password/(?P<name>.+)/generate$",
			Fields:  nameField,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{Callback: h.handlePasswordPolicyGenerate},
			},
			HelpSynopsis: "Generate a password from a policy.",
		},
		{
			Pattern: "policies/password/(?P<name>.+)$",
			Fields: map[string]*framework.FieldSchema{
				"name":   nameField["name"],
				"policy": {Type: framework.TypeString, Description: "The policy in HCL (or base64 of it)."},
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.UpdateOperation: &framework.PathOperation{Callback: h.handlePasswordPolicySet},
				logical.ReadOperation:   &framework.PathOperation{Callback: h.handlePasswordPolicyRead},
				logical.DeleteOperation: &framework.PathOperation{Callback: h.handlePasswordPolicyDelete},
			},
			HelpSynopsis: "Write, read or delete a password policy.",
		},
	}
}

func (h *Host) handlePasswordPolicyList(ctx context.Context, _ *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	keys, err := logical.CollectKeys(ctx, h.passwordPolicies.view)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (h *Host) handlePasswordPolicySet(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if name == "" {
		return nil, logical.CodedError(http.StatusBadRequest, "missing policy name")
	}
	raw := d.Get("policy").(string)
	if raw == "" {
		return nil, logical.CodedError(http.StatusBadRequest, "missing policy")
	}
	if decoded, err := base64.StdEncoding.DecodeString(raw); err == nil {
		raw = string(decoded)
	}
	policy, err := parsePasswordPolicy(raw)
	if err != nil {
		return nil, logical.CodedError(http.StatusBadRequest, "invalid password policy: %s", err)
	}
	if policy.Length > maxPasswordLength || policy.Length < minPasswordLength {
		return nil, logical.CodedError(http.StatusBadRequest, "passwords must be between %d and %d characters", minPasswordLength, maxPasswordLength)
	}
	if !policy.feasible() {
		return nil, logical.CodedError(http.StatusBadRequest, "unable to construct test password from provided policy: are the rules impossible?")
	}
	buf, err := json.Marshal(passwordPolicyEntry{HCLPolicy: raw})
	if err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "unable to save password policy: %s", err)
	}
	if err := h.passwordPolicies.view.Put(ctx, &logical.StorageEntry{Key: name, Value: buf}); err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "failed to save policy to storage backend: %s", err)
	}
	return nil, nil
}

// feasible is the write-time check that the rules can be met: one password
// is built by hand (each rule's minimum, then round-robin over the rules up
// to the length), shuffled, and must pass every rule. Like the server it
// uses math/rand; a rule with an empty charset makes the server panic here
// (rand.Intn(0)), which this host reports as infeasible instead.
func (p *passwordPolicy) feasible() bool {
	if len(p.rules) == 0 {
		return false
	}
	var password []rune
	pick := func(r charsetRule) bool {
		if len(r.Charset) == 0 {
			return false
		}
		password = append(password, r.Charset[mathrand.Intn(len(r.Charset))])
		return true
	}
	for _, r := range p.rules {
		for range r.MinChars {
			if !pick(r) {
				return false
			}
		}
	}
	for len(password) < p.Length {
		for _, r := range p.rules {
			if len(password) >= p.Length {
				break
			}
			if !pick(r) {
				return false
			}
		}
	}
	mathrand.Shuffle(p.Length, func(i, j int) { password[i], password[j] = password[j], password[i] })
	for _, r := range p.rules {
		if !r.pass(password) {
			return false
		}
	}
	return true
}

func (h *Host) handlePasswordPolicyRead(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	entry, err := h.storedPolicy(ctx, d.Get("name").(string))
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{"policy": entry.HCLPolicy}}, nil
}

// storedPolicy loads a policy for the read and generate endpoints, with
// their coded errors.
func (h *Host) storedPolicy(ctx context.Context, name string) (*passwordPolicyEntry, error) {
	entry, err := h.passwordPolicies.get(ctx, name)
	if err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "failed to retrieve password policy")
	}
	if entry == nil {
		return nil, logical.CodedError(http.StatusNotFound, "policy does not exist")
	}
	return entry, nil
}

func (h *Host) handlePasswordPolicyDelete(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	if err := h.passwordPolicies.view.Delete(ctx, d.Get("name").(string)); err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "failed to delete password policy: %s", err)
	}
	return nil, nil
}

// handlePasswordPolicyGenerate runs under the request's deadline, so the
// generator's own one-second default does not apply here.
func (h *Host) handlePasswordPolicyGenerate(ctx context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	entry, err := h.storedPolicy(ctx, d.Get("name").(string))
	if err != nil {
		return nil, err
	}
	policy, err := parsePasswordPolicy(entry.HCLPolicy)
	if err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "stored password policy configuration failed to parse")
	}
	password, err := policy.generate(ctx)
	if err != nil {
		return nil, logical.CodedError(http.StatusInternalServerError, "failed to generate password from policy: %s", err)
	}
	return &logical.Response{Data: map[string]interface{}{"password": password}}, nil
}
