package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"sync"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// branch is one dispatch of fire: the callbacks of an outcome, the signatures that
// will never run because of it (their TTL is lowered to the done TTL) and those that
// must live on (a chain's later steps: their TTL is raised back to the active TTL).
type branch struct {
	outcome         redisstore.Outcome
	callbacks       []redisstore.CallbackRef
	dead, keepAlive []string
	input           func(cb redisstore.CallbackRef) map[string]any
	// chains are the enclosing chains' records to move along (active, done, failed,
	// cancelled), in the same pipeline as the markers.
	chains []redisstore.ContainerUpdate
}

// fire dispatches the callbacks of br that have no dispatch marker on rec yet,
// concurrently and each on its own (one failure never blocks the others), then records
// markers for those that were dispatched and adjusts the TTLs, in one pipeline. It
// returns the dispatch errors joined.
func (c *Client) fire(ctx context.Context, rec *redisstore.Record, br branch) error {
	outcome, cbs, input := br.outcome, br.callbacks, br.input
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		runs   = map[string]string{}
		inputs = map[string]json.RawMessage{}
		errs   []error
	)
	for _, cb := range cbs {
		if _, done := rec.Dispatched[redisstore.DispatchKey(outcome, cb.ID)]; done {
			continue
		}
		wg.Add(1)
		go func(cb redisstore.CallbackRef) {
			defer wg.Done()
			meta := map[string]string{engine.MetaSignature: cb.ID, engine.MetaParent: rec.ID}
			dctx, done := c.tel.startDispatch(ctx, rec.ID, cb, outcome, meta)
			msg := input(cb)
			runID, err := c.dispatcher.Dispatch(dctx, cb.Task, msg, meta)
			done(runID, err)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.log.Warn("hatchetflow: callback dispatch failed", "signature", rec.ID,
					"callback", cb.ID, "task", cb.Task, "outcome", outcome, "error", err)
				errs = append(errs, err)
				return
			}
			runs[cb.ID] = runID
			inputs[cb.ID], _ = json.Marshal(msg)
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
	if err := c.store.MarkDispatched(ctx, rec.ID, outcome, runs, inputs, br.dead, br.keepAlive, br.chains...); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// retrying runs fn until it succeeds, fails with an error that retrying cannot fix
// (a refused transition, a missing signature), ctx ends, or the step retry time is
// spent, backing off from 50 ms to 2 s. It keeps a step alive through a short Redis
// outage instead of spending the engine's retries.
func (c *Client) retrying(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(c.cfg.StepRetryTime)
	pause := poll.New(50*time.Millisecond, 2*time.Second)
	for {
		err := fn()
		if err != nil {
			c.tel.failedTry(ctx, what, err)
		}
		if err == nil || errors.Is(err, redisstore.ErrTransition) || errors.Is(err, redisstore.ErrNotFound) {
			return err
		}
		if time.Now().Add(pause.Delay()).After(deadline) {
			return err
		}
		c.log.Warn("hatchetflow: retrying", "step", what, "in", pause.Delay(), "error", err)
		c.tel.retry(ctx, what, err)
		if cerr := pause.Wait(ctx); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
}

func callbackIDs(cbs []redisstore.CallbackRef) []string {
	out := make([]string, len(cbs))
	for i, cb := range cbs {
		out[i] = cb.ID
	}
	return out
}
