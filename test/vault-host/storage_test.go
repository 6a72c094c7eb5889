package main

import (
	"context"
	"errors"
	"strings"
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

func TestMountViewReportsWrites(t *testing.T) {
	ctx := context.Background()
	barrier, err := newBarrier()
	if err != nil {
		t.Fatal(err)
	}
	active, err := newMountView(barrier, "logical/uuid/")
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	active.notifyWrites(func(key string) { written = append(written, key) })
	if err := active.Put(ctx, &logical.StorageEntry{Key: "a", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := active.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	txn, err := active.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Put(ctx, &logical.StorageEntry{Key: "b", Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Put(ctx, &logical.StorageEntry{Key: "c", Value: []byte("3")}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(written, ","); got != "a,a" {
		t.Fatalf("before the commit: %q, want a,a", got)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(written, ","); got != "a,a,b,c" {
		t.Fatalf("after the commit: %q, want a,a,b,c", got)
	}

	// The standby's view of the same storage: reads see the active node's
	// writes, writes are refused with ErrReadOnly.
	standby, err := newMountView(barrier, "logical/uuid/")
	if err != nil {
		t.Fatal(err)
	}
	standby.setReadOnly(logical.ErrReadOnly)
	if entry, err := standby.Get(ctx, "c"); err != nil || entry == nil || string(entry.Value) != "3" {
		t.Fatalf("standby read: %v %v", entry, err)
	}
	if err := standby.Put(ctx, &logical.StorageEntry{Key: "d"}); !errors.Is(err, logical.ErrReadOnly) {
		t.Fatalf("standby Put: %v", err)
	}
	if err := standby.Delete(ctx, "c"); !errors.Is(err, logical.ErrReadOnly) {
		t.Fatalf("standby Delete: %v", err)
	}
}
