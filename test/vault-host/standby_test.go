package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/go-multierror"
	"github.com/openbao/openbao/sdk/v2/helper/consts"
	"github.com/openbao/openbao/sdk/v2/logical"
)

func TestMustForward(t *testing.T) {
	cases := []struct {
		name    string
		resp    *logical.Response
		err     error
		forward bool
		msg     string
	}{
		{"nothing", nil, nil, false, ""},
		{"ErrReadOnly", nil, logical.ErrReadOnly, true, "cannot write to readonly storage"},
		{"the text over gRPC, in the core's multierror", nil, multierror.Append(nil, errors.New("cannot write to readonly storage")), true, "cannot write to readonly storage"},
		{"wrapped", nil, fmt.Errorf("not on a standby: %w", logical.ErrReadOnly), true, "not on a standby: cannot write to readonly storage"},
		{"please forward", nil, logical.ErrPerfStandbyPleaseForward, true, logical.ErrPerfStandbyPleaseForward.Error()},
		{"error response", logical.ErrorResponse("cannot write to readonly storage"), nil, true, "cannot write to readonly storage"},
		{"other error response", logical.ErrorResponse("bad thing"), logical.ErrInvalidRequest, false, ""},
		{"setup read-only is not forwarded", nil, logical.ErrSetupReadOnly, false, ""},
		{"other error", nil, errors.New("boom"), false, ""},
		{"a successful response", &logical.Response{Data: map[string]interface{}{"x": 1}}, nil, false, ""},
	}
	for _, c := range cases {
		msg, forward := mustForward(c.resp, c.err)
		if forward != c.forward || (forward && msg != c.msg) {
			t.Errorf("%s: forward %v (%q), want %v (%q)", c.name, forward, msg, c.forward, c.msg)
		}
	}
}

func TestStandbyMarker(t *testing.T) {
	ctx := context.Background()
	if runsOnPerformanceStandby(ctx) {
		t.Fatal("a plain context is on the active node")
	}
	if !runsOnPerformanceStandby(onPerformanceStandby(ctx)) {
		t.Fatal("marked context not on the standby")
	}
	for _, op := range []logical.Operation{logical.RenewOperation, logical.RevokeOperation, logical.RollbackOperation} {
		if !activeNodeOnly(op) {
			t.Errorf("%s must run on the active node only", op)
		}
	}
	for _, op := range []logical.Operation{logical.ReadOperation, logical.UpdateOperation, logical.ListOperation, logical.HelpOperation} {
		if activeNodeOnly(op) {
			t.Errorf("%s may run on the standby", op)
		}
	}
}

func TestStandbySystemView(t *testing.T) {
	active := mountSystemView{}
	standby := mountSystemView{performanceStandby: true}
	if got := active.ReplicationState(); got != 0 {
		t.Errorf("active node: %v", got)
	}
	if got := standby.ReplicationState(); got != consts.ReplicationPerformanceStandby || uint32(got) != 16384 {
		t.Errorf("standby: %v", got)
	}
}
