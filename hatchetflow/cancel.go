package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// CancelOptions configures [Client.Cancel]. A nil *CancelOptions means defaults.
type CancelOptions struct {
	// Silent cancels without dispatching any error callback. Default false: the error
	// callbacks fire once, with error details whose Cancelled is true, so
	// compensation runs. Finally callbacks fire either way: they are cleanup.
	Silent bool
	// Reason is kept as the error of what was cancelled and passed as the error
	// details' message. Default "cancelled".
	Reason string

	// skipped: a later step of a chain cancelled with it, which never ran: none of
	// its callbacks fires (the chain's go out from its current step).
	skipped bool
}

func (o *CancelOptions) reason() string {
	if o == nil || o.Reason == "" {
		return "cancelled"
	}
	return o.Reason
}

// mode is the end path's mode for a cancel with o.
func (o *CancelOptions) mode() endMode {
	switch {
	case o == nil:
		return endLoud
	case o.skipped:
		return endSkipped
	case o.Silent:
		return endSilent
	}
	return endLoud
}

// EngineCancelError is returned by [Client.Cancel] when the cancel applied in Redis
// (nothing will dispatch or record the runs' results; success callbacks never fire)
// but the engine did not cancel the runs: their user code may run on to its end.
type EngineCancelError struct {
	// ID is what was cancelled; RunIDs the runs the engine did not cancel.
	ID     string
	RunIDs []string
	Err    error
}

// Error implements error.
func (e *EngineCancelError) Error() string {
	return fmt.Sprintf("hatchetflow: %s is cancelled, but the engine did not cancel runs %v: %v", e.ID, e.RunIDs, e.Err)
}

// Unwrap returns the engine's error.
func (e *EngineCancelError) Unwrap() error { return e.Err }

// Cancel cancels signature, chain or swarm id. Its status becomes cancelled (terminal);
// a running signature's engine run is cancelled, so its user function's ctx is done;
// a pending one never calls user code (a run that starts it later is refused). A
// chain's current step is cancelled and its later steps never start; a swarm's running
// items are cancelled (each counts as failed) and its queued items never start. Success
// callbacks never fire. By default the error callbacks fire once (a chain's and a
// swarm's own, and the cancelled step's), with error details marking the
// cancellation; opts.Silent fires none. Finally callbacks fire once either way (a
// chain's and a swarm's own, the cancelled signature's, the current step's and the
// running items'), with the outcome cancelled; those of a chain's later steps and a
// swarm's queued items, which never ran, do not.
//
// A cancel racing a finish has one outcome: whichever transition reaches Redis first.
// If the finish was first, Cancel returns a [*NotPendingError] with status done and
// the success path runs; if the cancel was first, the finish is refused and no success
// callback fires. Cancelling what ended gives a [*NotPendingError].
func (c *Client) Cancel(ctx context.Context, id string, opts *CancelOptions) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	var runs []string
	switch rec.Kind {
	case redisstore.KindChain:
		runs, err = c.cancelChain(ctx, rec, opts)
	case redisstore.KindSwarm:
		runs, err = c.cancelSwarm(ctx, rec, opts)
	default:
		runs, err = c.cancelSignature(ctx, id, opts)
	}
	if err != nil {
		return err
	}
	return c.cancelRuns(ctx, id, runs)
}

// cancelRuns asks the engine to cancel runs.
func (c *Client) cancelRuns(ctx context.Context, id string, runs []string) error {
	if len(runs) == 0 {
		return nil
	}
	cc, ok := c.dispatcher.(engine.Canceller)
	if !ok {
		return &EngineCancelError{ID: id, RunIDs: runs, Err: fmt.Errorf("%w: the dispatcher cannot cancel runs", ErrUnsupportedOption)}
	}
	if err := cc.CancelRuns(ctx, runs); err != nil {
		return &EngineCancelError{ID: id, RunIDs: runs, Err: err}
	}
	return nil
}

// cancelSignature cancels one signature and runs its error path; it returns the run
// to cancel on the engine when the signature was active.
func (c *Client) cancelSignature(ctx context.Context, id string, opts *CancelOptions) ([]string, error) {
	cn, err := c.store.Cancel(ctx, id, opts.reason())
	if err != nil {
		return nil, err
	}
	rec, prev := cn.Record, cn.Previous
	c.unschedule(ctx, rec) // a scheduled run that has not fired is never created
	var runs []string
	switch {
	case prev == StatusActive && rec.RunID != "":
		runs = append(runs, rec.RunID)
	case rec.WaitRunID != "" && rec.RunID == "":
		runs = append(runs, rec.WaitRunID) // it waits for an event: its task never runs
	}
	detail := errorDetail(rec, rec.RunID, opts.reason())
	detail.Cancelled = true
	c.tel.ended(ctx, rec.Task, outcomeFailure)
	input := inputOf(rec)
	if err := c.retrying(ctx, "cancel", func() error { return c.endPath(ctx, rec, input, detail, opts.mode()) }); err != nil {
		return runs, err
	}
	return runs, nil
}

// cancelChain cancels every step of chain rec that has not ended; the first of them
// (the current step) runs the error path, which fires the chain's error callbacks.
func (c *Client) cancelChain(ctx context.Context, rec *redisstore.Record, opts *CancelOptions) ([]string, error) {
	st, err := c.chainState(ctx, rec)
	if err != nil {
		return nil, err
	}
	if st.Status != StatusPending && st.Status != StatusActive {
		return nil, &NotPendingError{ID: rec.ID, Status: st.Status}
	}
	var runs []string
	first := true
	for _, leaf := range st.leaves {
		if leaf.Status != StatusPending && leaf.Status != StatusActive {
			continue
		}
		quiet := opts
		if !first {
			quiet = &CancelOptions{Silent: true, Reason: opts.reason(), skipped: true}
		}
		var r []string
		var err error
		if leaf.Kind == redisstore.KindSwarm {
			r, err = c.cancelSwarm(ctx, leaf, quiet)
		} else {
			r, err = c.cancelSignature(ctx, leaf.ID, quiet)
		}
		var np *NotPendingError
		if errors.As(err, &np) {
			continue // it ended meanwhile
		}
		if err != nil {
			return runs, err
		}
		runs = append(runs, r...)
		first = false
	}
	// The container itself: its record says the chain was cancelled.
	if _, err := c.store.Cancel(ctx, rec.ID, opts.reason()); err != nil && !errors.Is(err, redisstore.ErrTransition) {
		return runs, err
	}
	return runs, nil
}

// cancelSwarm cancels swarm rec: it stops claiming and its queued items end failed
// (one script), their signatures are cancelled in one pipeline (they never start), its
// running items are cancelled one by one (each ends failed; at most MaxConcurrency),
// then its error path runs.
func (c *Client) cancelSwarm(ctx context.Context, rec *redisstore.Record, opts *CancelOptions) ([]string, error) {
	cn, err := c.store.Cancel(ctx, rec.ID, opts.reason())
	if err != nil {
		return nil, err
	}
	sw := cn.Record
	c.unschedule(ctx, sw)
	items, err := c.store.SwarmItems(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	var queued, claimed []string
	for _, it := range items {
		switch {
		case cn.QueuedFrom >= 0 && it.Index >= cn.QueuedFrom:
			queued = append(queued, it.Ref.ID)
		case it.State == redisstore.ItemClaimed:
			claimed = append(claimed, it.Ref.ID)
		}
	}
	var errs []error
	if _, err := c.store.CancelMany(ctx, queued, opts.reason()); err != nil {
		errs = append(errs, err)
	}
	entries, err := c.store.GetMany(ctx, claimed)
	if err != nil {
		return nil, err
	}
	var runs []string
	for _, id := range claimed {
		e := entries[id]
		if e == nil {
			continue
		}
		var r []string
		var err error
		switch {
		case e.Kind == redisstore.KindSwarm:
			r, err = c.cancelSwarm(ctx, e, opts)
		case e.Item == nil && len(e.Containers) > 0: // a chain item
			var chain *redisstore.Record
			if chain, err = c.store.Get(ctx, e.Containers[len(e.Containers)-1]); err == nil {
				r, err = c.cancelChain(ctx, chain, opts)
			}
		default:
			r, err = c.cancelSignature(ctx, e.ID, opts)
		}
		var np *NotPendingError
		if err != nil && !errors.As(err, &np) {
			errs = append(errs, err)
		}
		runs = append(runs, r...)
	}
	input := inputOf(sw)
	detail := errorDetail(sw, sw.RunID, opts.reason())
	detail.Cancelled = true
	if err := c.retrying(ctx, "cancel swarm", func() error { return c.endPath(ctx, sw, input, detail, opts.mode()) }); err != nil {
		errs = append(errs, err)
	}
	return runs, errors.Join(errs...)
}

// inputOf returns the message rec's run was dispatched with (see
// redisstore.Record.Input), or nil when none is stored.
func inputOf(rec *redisstore.Record) map[string]any {
	var input map[string]any
	if len(rec.Input) > 0 {
		_ = json.Unmarshal(rec.Input, &input)
	}
	return input
}

// settleExternalCancel runs after a main attempt whose ctx ended: when the engine says
// the run was cancelled (from the dashboard, the SDK, or Client.Cancel), the
// signature is cancelled with its error path, as Client.Cancel does. The engine runs
// no on-failure step for a cancelled run, so nothing else would. The wait task's step
// runs it for a run cancelled while it waited for its signature's event.
// It is also what flowtest's harness calls when a run is cancelled on its engine's
// side (engine.Machinery.SettleCancel). It gives up after 10 s.
func (c *Client) settleExternalCancel(ctx context.Context, sigID, runID string) {
	rc, ok := c.dispatcher.(engine.RunChecker)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The engine marks the run cancelled as it cancels the attempt: give it a moment.
	pause := poll.New(250*time.Millisecond, 250*time.Millisecond)
	for i := 0; i < 20; i++ {
		st, err := rc.RunStatus(ctx, runID)
		if err == nil && st.Evicted && !st.Ended {
			return // a durable task evicted from its worker: it goes on, restored later
		}
		if err == nil && st.Ended {
			// Only a signature this run still owns (or waits for, as the run of the wait
			// task): a Suspend with CancelRunning (or a Client.Cancel) has moved it on
			// already.
			rec, gerr := c.store.Get(ctx, sigID)
			owned := gerr == nil && rec.Status == StatusActive && rec.RunID == runID
			waiting := gerr == nil && (rec.Status == StatusPending || rec.Status == StatusSuspended) && rec.WaitRunID == runID
			if !owned && !waiting {
				return
			}
			if st.Cancelled {
				if _, err := c.cancelSignature(ctx, sigID, &CancelOptions{Reason: "run cancelled on the engine"}); err != nil && !errors.Is(err, ErrNotPending) {
					c.log.Warn("hatchetflow: cannot settle a cancelled run", "signature", sigID, "run", runID, "error", err)
				}
			}
			return
		}
		if pause.Wait(ctx) != nil {
			return
		}
	}
}
