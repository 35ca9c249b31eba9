package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// Dispatcher triggers a run of a task by name, with an input object and additional
// metadata, and returns the run id. It is the one thing the lifecycle needs from an
// engine; the Hatchet client is the production one, flowtest's runs in memory.
type Dispatcher interface {
	Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (runID string, err error)
}

// Waiter is implemented by dispatchers that can wait for a run: it returns the main
// step's output once that step completed (see inject.WrapOutput), or the run's error
// (a [*RunError], made with [NewRunError]).
type Waiter interface {
	Wait(ctx context.Context, runID, task string) (json.RawMessage, error)
}

// fire dispatches the callbacks of one outcome of rec that have no dispatch marker yet,
// concurrently and each on its own (one failure never blocks the others), then records
// markers for those that were dispatched and shortens the TTL of the other branch. It
// returns the dispatch errors joined.
func (c *Client) fire(ctx context.Context, rec *redisstore.Record, outcome redisstore.Outcome,
	input func(cb redisstore.CallbackRef) map[string]any) error {
	cbs, dead := rec.OnSuccess, rec.OnError
	if outcome == redisstore.OutcomeError {
		cbs, dead = rec.OnError, rec.OnSuccess
	}
	deadIDs := make([]string, len(dead))
	for i, d := range dead {
		deadIDs[i] = d.ID
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		runs = map[string]string{}
		errs []error
	)
	for _, cb := range cbs {
		if _, done := rec.Dispatched[redisstore.DispatchKey(outcome, cb.ID)]; done {
			continue
		}
		wg.Add(1)
		go func(cb redisstore.CallbackRef) {
			defer wg.Done()
			meta := map[string]string{MetaSignature: cb.ID, MetaParent: rec.ID}
			runID, err := c.dispatcher.Dispatch(ctx, cb.Task, input(cb), meta)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.log.Warn("hatchetflow: callback dispatch failed", "signature", rec.ID,
					"callback", cb.ID, "task", cb.Task, "outcome", outcome, "error", err)
				errs = append(errs, err)
				return
			}
			runs[cb.ID] = runID
		}(cb)
	}
	wg.Wait()
	// Remember in memory too, so a retry with this record skips what went out.
	if rec.Dispatched == nil {
		rec.Dispatched = map[string]string{}
	}
	for cb, run := range runs {
		rec.Dispatched[redisstore.DispatchKey(outcome, cb)] = run
	}
	if err := c.store.MarkDispatched(ctx, rec.ID, outcome, runs, deadIDs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// retrying runs fn until it succeeds, fails with an error that retrying cannot fix
// (a refused transition, a missing signature), ctx ends, or the step retry time is
// spent, backing off from 50 ms to 2 s. It keeps a step alive through a short Redis
// outage instead of spending the engine's retries.
func (c *Client) retrying(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(c.cfg.stepRetryTime)
	backoff := 50 * time.Millisecond
	for {
		err := fn()
		if err == nil || errors.Is(err, redisstore.ErrTransition) || errors.Is(err, redisstore.ErrNotFound) {
			return err
		}
		if time.Now().Add(backoff).After(deadline) {
			return err
		}
		c.log.Warn("hatchetflow: retrying", "step", what, "in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
