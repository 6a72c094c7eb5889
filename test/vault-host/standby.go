package main

// The simulated performance standby (-performance-standby). OpenBao has
// none; this follows HashiCorp Vault Enterprise, where a performance standby
// node runs every mount's backend itself, serves what it can from its
// read-only copy of the storage and forwards the rest to the active node:
//
//   - The standby's backend of a mount is a second backend of the same mount,
//     with its own connection (multiplex id), Setup and Initialize. Its system
//     view reports consts.ReplicationPerformanceStandby (Vault's
//     dynamicSystemView adds it on a performance standby); its storage is the
//     mount's storage, read-only: writes fail with logical.ErrReadOnly
//     ("cannot write to readonly storage"), during Setup with
//     logical.ErrSetupReadOnly as on every node (vault/mount.go).
//   - Requests arriving over HTTP for a mount go to the standby's backend
//     first. When its answer is an error, or an error response, whose text
//     contains ErrReadOnly (or logical.ErrPerfStandbyPleaseForward), the whole
//     HTTP request is forwarded to the active node and the active node's
//     answer is the client's (Vault's http/logical.go: request() reports
//     needsForward, then forwardRequest).
//   - Rollbacks, renewals and revocations run on the active node only: the
//     expiration and rollback managers run there.
//   - What the active node writes under a mount reaches the standby's backend
//     as InvalidateKey calls, asynchronously and in order, as a performance
//     standby's WAL stream delivers them.

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"
	"github.com/openbao/openbao/sdk/v2/logical"
)

// standbyNodeKey marks a context whose requests run on the performance
// standby.
type standbyNodeKey struct{}

// onPerformanceStandby marks ctx: requests routed with it go to the
// standby's backend of their mount.
func onPerformanceStandby(ctx context.Context) context.Context {
	return context.WithValue(ctx, standbyNodeKey{}, true)
}

func runsOnPerformanceStandby(ctx context.Context) bool {
	on, _ := ctx.Value(standbyNodeKey{}).(bool)
	return on
}

// activeNodeOnly are the operations only the active node's managers send
// (expiration manager: renew, revoke; rollback manager: rollback).
func activeNodeOnly(op logical.Operation) bool {
	return op == logical.RenewOperation || op == logical.RevokeOperation || op == logical.RollbackOperation
}

// standbyNode is a mount as the performance standby holds it. The route's
// mu guards backend.
type standbyNode struct {
	view    *mountView
	sysView mountSystemView
	// backend is nil when it could not be started: requests on the standby
	// then get the router's nil-backend answer, as on a Vault node that
	// skipped a plugin mount it could not instantiate.
	backend logical.Backend
}

// startStandbyBackend sets the mount up on the performance standby: Setup
// (on ctx) while storage refuses writes with ErrSetupReadOnly, then
// read-only for good (ErrReadOnly) and Initialize on initCtx. A failure is
// logged, as a Vault node logs a mount it cannot set up or initialise; the
// mount stays served by the active node.
func (h *Host) startStandbyBackend(ctx, initCtx context.Context, entry *mountEntry) *standbyNode {
	logger := h.logger.With("path", entry.Path)
	node := &standbyNode{sysView: mountSystemView{host: h, mount: entry, performanceStandby: true}}
	view, err := newMountView(h.barrier, "logical/"+entry.UUID+"/")
	if err != nil {
		logger.Error("performance standby: failed to create mount entry", "error", err)
		return node
	}
	node.view = view
	view.setReadOnly(logical.ErrSetupReadOnly)
	backend, _, err := h.newLogicalBackend(ctx, entry, node.sysView, view)
	view.setReadOnly(logical.ErrReadOnly)
	if err != nil {
		logger.Error("performance standby: failed to create mount entry", "error", err)
		return node
	}
	if backend.Type() != logical.TypeLogical {
		logger.Error("performance standby: unknown backend type", "type", entry.Type)
		backend.Cleanup(ctx)
		return node
	}
	backend.SpecialPaths()
	if err := backend.Initialize(initCtx, &logical.InitializationRequest{Storage: view}); err != nil {
		logger.Error("performance standby: failed to initialize mount backend", "error", err)
	}
	node.backend = backend
	return node
}

// mustForward tells whether the standby's answer makes Vault forward the
// request to the active node, and the message that does.
func mustForward(resp *logical.Response, err error) (string, bool) {
	if err != nil {
		if msg, ok := forwardMessage(err); ok {
			return msg, true
		}
	}
	if resp != nil && resp.IsError() {
		return forwardMessage(resp.Error())
	}
	return "", false
}

func forwardMessage(err error) (string, bool) {
	var merr *multierror.Error
	if errors.As(err, &merr) && len(merr.Errors) == 1 {
		err = merr.Errors[0]
	}
	msg := err.Error()
	return msg, strings.Contains(msg, logical.ErrReadOnly.Error()) ||
		strings.Contains(msg, logical.ErrPerfStandbyPleaseForward.Error())
}

// invalidationQueue carries the keys the active node wrote under a mount
// to the standby's backend, in order, without ever making the writer wait.
type invalidationQueue struct {
	mu      sync.Mutex
	keys    []string
	wake    chan struct{}
	stop    chan struct{}
	stopped sync.Once
}

func newInvalidationQueue() *invalidationQueue {
	return &invalidationQueue{wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (q *invalidationQueue) push(key string) {
	q.mu.Lock()
	q.keys = append(q.keys, key)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *invalidationQueue) close() { q.stopped.Do(func() { close(q.stop) }) }

// deliverInvalidations calls InvalidateKey on the standby's backend of r
// for each key the queue receives, until the queue is closed or the server
// stops.
func (h *Host) deliverInvalidations(r *route, q *invalidationQueue) {
	for {
		select {
		case <-q.stop:
			return
		case <-h.activeCtx.Done():
			return
		case <-q.wake:
		}
		q.mu.Lock()
		keys := q.keys
		q.keys = nil
		q.mu.Unlock()
		for _, key := range keys {
			r.mu.RLock()
			if r.standby != nil && r.standby.backend != nil {
				r.standby.backend.InvalidateKey(h.activeCtx, key)
			}
			r.mu.RUnlock()
		}
	}
}
