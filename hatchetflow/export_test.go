package hatchetflow

import (
	"context"
	"encoding/json"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// What this package's tests reach of the machinery that is not public API.

// Store returns the client's Redis store.
func (c *Client) Store() *redisstore.Store { return c.store }

// Dispatcher returns the client's dispatcher.
func (c *Client) Dispatcher() engine.Dispatcher { return c.dispatcher }

// Steps returns the step functions of a registered task.
func (c *Client) Steps(name string) (engine.Steps, bool) { return c.steps(name) }

// WithDispatcher is engine.WithDispatcher as an Option.
func WithDispatcher(d engine.Dispatcher) Option { return engine.WithDispatcher(d) }

// Metadata keys of the runs hatchetflow dispatches.
const (
	MetaSignature = engine.MetaSignature
	MetaParent    = engine.MetaParent
)

// NewRunError is newRunError.
func NewRunError(runID, task, message string, cancelled bool) *RunError {
	return newRunError(runID, task, message, cancelled)
}

// ReconcileNow runs one pass of the client's reconciler.
func (c *Client) ReconcileNow(ctx context.Context) error { return c.reconcileRuns(ctx) }

// ReconcilePass is one turn of the reconciler loop for token (see reconcilePass).
func (c *Client) ReconcilePass(ctx context.Context, token string, swarms bool) (bool, error) {
	return c.reconcilePass(ctx, token, time.Minute, swarms)
}

// ForHatchet is the adapter every step runs through on a worker (forHatchet), unguarded.
func (c *Client) ForHatchet(fn engine.StepFunc) func(hatchet.Context, map[string]any) (json.RawMessage, error) {
	return c.forHatchet(fn, false)
}

// SetWaitEviction sets the eviction policy of the wait task of the clients made until
// restore is called.
func SetWaitEviction(ttl time.Duration) (restore func()) {
	old := waitEviction
	waitEviction.TTL = ttl
	return func() { waitEviction = old }
}
