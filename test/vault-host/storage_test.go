package main

import (
	"context"
	"errors"
	"testing"

	"github.com/openbao/openbao/sdk/v2/logical"
)

func TestMountViewReadOnlyDuringSetup(t *testing.T) {
	ctx := context.Background()
	barrier, err := newBarrier()
	if err != nil {
		t.Fatal(err)
	}
	view, err := newMountView(barrier, "logical/uuid/")
	if err != nil {
		t.Fatal(err)
	}
	entry := &logical.StorageEntry{Key: "k", Value: []byte("v")}

	view.setReadOnly(logical.ErrSetupReadOnly)
	if err := view.Put(ctx, entry); !errors.Is(err, logical.ErrSetupReadOnly) {
		t.Fatalf("Put during setup: %v", err)
	}
	if err := view.Delete(ctx, "k"); !errors.Is(err, logical.ErrSetupReadOnly) {
		t.Fatalf("Delete during setup: %v", err)
	}
	txn, err := view.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); !errors.Is(err, logical.ErrSetupReadOnly) {
		t.Fatalf("Commit of a write transaction during setup: %v", err)
	}
	if _, err := view.Get(ctx, "k"); err != nil {
		t.Fatalf("reads must work during setup: %v", err)
	}

	view.setReadOnly(nil)
	if err := view.Put(ctx, entry); err != nil {
		t.Fatalf("Put after setup: %v", err)
	}
	stored, err := barrier.Get(ctx, "logical/uuid/k")
	if err != nil || stored == nil || string(stored.Value) != "v" {
		t.Fatalf("the view does not write under its prefix: %v %v", stored, err)
	}
}
