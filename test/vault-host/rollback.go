package main

// The rollback manager: every -rollback-period each mount gets a rollback
// request (operation rollback, the mount's path, no data), as OpenBao's
// vault/rollback.go sends it, each under the request deadline. At most one
// rollback per mount is in flight: a tick, or the final rollback of an
// unmount, that finds one running joins it and gets its result
// (startOrLookupRollback), so a plugin never sees two at once.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/openbao/openbao/sdk/v2/logical"
)

// inflightRollbacks are the rollbacks running now, by mount path.
type inflightRollbacks struct {
	mu      sync.Mutex
	running map[string]*inflightRollback
}

// inflightRollback is one rollback request; done closes when err is set.
type inflightRollback struct {
	done chan struct{}
	err  error
}

// rollbackMount runs a rollback of the mount at mountPath, or waits for the
// one already in flight, and returns its error. "unsupported operation" and
// read-only storage errors do not count.
func (h *Host) rollbackMount(ctx context.Context, mountPath string) error {
	h.rollbacks.mu.Lock()
	if h.rollbacks.running == nil {
		h.rollbacks.running = map[string]*inflightRollback{}
	}
	run, joined := h.rollbacks.running[mountPath]
	if !joined {
		run = &inflightRollback{done: make(chan struct{})}
		h.rollbacks.running[mountPath] = run
	}
	h.rollbacks.mu.Unlock()
	if !joined {
		run.err = h.sendRollback(ctx, mountPath)
		h.rollbacks.mu.Lock()
		delete(h.rollbacks.running, mountPath)
		h.rollbacks.mu.Unlock()
		close(run.done)
	}
	<-run.done
	return run.err
}

// sendRollback sends one rollback request to the mount at mountPath.
func (h *Host) sendRollback(ctx context.Context, mountPath string) error {
	ctx, cancel := context.WithTimeout(ctx, rollbackTimeout)
	defer cancel()
	resp, err := h.route(ctx, &logical.Request{Operation: logical.RollbackOperation, Path: mountPath})
	if errors.Is(err, logical.ErrUnsupportedOperation) {
		err = nil
	}
	readOnly := logical.ErrReadOnly.Error()
	if (err != nil && strings.Contains(err.Error(), readOnly)) ||
		(resp.IsError() && strings.Contains(resp.Error().Error(), readOnly)) {
		err = nil
	}
	return err
}

// runRollbacks ticks until stop is closed; every tick rolls back each mount
// concurrently.
func (h *Host) runRollbacks(stop <-chan struct{}) {
	if h.cfg.rollbackPeriod <= 0 {
		return
	}
	ticker := time.NewTicker(h.cfg.rollbackPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		for _, r := range h.mounts.all() {
			go func(mountPath string) {
				if err := h.rollbackMount(h.activeCtx, mountPath); err != nil {
					h.logger.Error("error rolling back", "path", mountPath, "error", err)
				}
			}(r.mount.Path)
		}
	}
}
