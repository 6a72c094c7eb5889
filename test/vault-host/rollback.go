package main

// The rollback manager: every -rollback-period each mount gets a rollback
// request (operation rollback, the mount's path, no data), as OpenBao's
// vault/rollback.go sends it, each under the request deadline.

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/openbao/openbao/sdk/v2/logical"
)

// rollbackMount sends one rollback request to the mount at mountPath.
// "unsupported operation" and read-only storage errors do not count.
func (h *Host) rollbackMount(ctx context.Context, mountPath string) error {
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
