package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"github.com/hatchetflow/go/redisstore"
)

// DefaultReconcileInterval is how often a worker's reconciler asks the engine for
// runs that ended without hatchetflow settling them (see [WithReconcileInterval]).
const DefaultReconcileInterval = time.Second

// reconcileWindow is how far back the reconciler looks for failed and cancelled runs,
// by creation time: at least 10 minutes, and at least as long as any task registered
// on this client can take from its creation to its end (its schedule timeout, default
// 5 min, plus each attempt's execution timeout, default 60 s, plus 5 minutes).
func (c *Client) reconcileWindow() time.Duration {
	w := 10 * time.Minute
	for _, def := range c.registeredTasks() {
		if def.name == WaitTask {
			// Its attempts may last hours, like the waits: it ends its signature itself
			// (waitStep), and the window stays that of the tasks that run work.
			continue
		}
		sched, exec := def.cfg.scheduleTimeout, def.cfg.executionTimeout
		if sched <= 0 {
			sched = 5 * time.Minute
		}
		if exec <= 0 {
			exec = 60 * time.Second
		}
		w = max(w, sched+time.Duration(def.cfg.retries+1)*exec+5*time.Minute)
	}
	return w
}

// reconciler remembers the runs a client's reconciler settled or found nothing to do
// for, so each is read once.
type reconciler struct {
	once sync.Once // one loop per client, however many workers it builds
	mu   sync.Mutex
	seen map[string]time.Time // run id -> when it was seen
	// failing holds, per signature, when the swarm watch first saw its active item's
	// run failed on the engine (see Client.settleAfterGrace).
	failing map[string]time.Time
}

// settleAfterGrace reports whether signature id, whose run the engine reports failed
// while the signature is still active, was first seen so endedGrace ago or more: the
// run's last attempt ends such a signature itself, and the watch settles it only when
// that did not happen. The first sighting is remembered; entries older than an hour
// are dropped.
func (c *Client) settleAfterGrace(id string) bool {
	r := &c.reconciler
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.failing == nil {
		r.failing = map[string]time.Time{}
	}
	for k, at := range r.failing {
		if now.Sub(at) > time.Hour {
			delete(r.failing, k)
		}
	}
	first, ok := r.failing[id]
	if !ok {
		r.failing[id] = now
		return false
	}
	return now.Sub(first) >= endedGrace
}

// reconcileLoop runs the reconciler until ctx ends, while this client holds the
// prefix's lease (one reconciler per Redis prefix, whatever the number of workers):
// every reconcile interval a pass over ended runs (reconcileRuns), and every swarm
// watch interval a pass over the running swarms (reconcileSwarms).
func (c *Client) reconcileLoop(ctx context.Context) {
	interval := c.cfg.ReconcileInterval
	if interval <= 0 || (c.cfg.SwarmWatch > 0 && c.cfg.SwarmWatch < interval) {
		interval = c.cfg.SwarmWatch
	}
	token := uuid.NewString()
	pause := poll.New(interval, interval)
	var lastSwarms time.Time
	for {
		swarms := c.cfg.SwarmWatch > 0 && time.Since(lastSwarms) >= c.cfg.SwarmWatch
		held, err := c.reconcilePass(ctx, token, 3*interval, swarms)
		if held && swarms {
			lastSwarms = time.Now()
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("hatchetflow: reconciler pass failed", "error", err)
		}
		if pause.Wait(ctx) != nil {
			return
		}
	}
}

// reconcilePass is one turn of the reconciler loop: it takes or keeps the prefix's
// lease for token (one round trip) and, while it holds it, runs the pass over ended
// runs (when the reconcile interval is on) and, when swarms is set, the pass over
// running swarms. It reports whether token holds the lease.
func (c *Client) reconcilePass(ctx context.Context, token string, ttl time.Duration, swarms bool) (held bool, err error) {
	held, err = c.store.HoldLease(ctx, "reconciler", token, ttl)
	if err != nil || !held {
		return held, err
	}
	if c.cfg.ReconcileInterval > 0 {
		err = c.reconcileRuns(ctx)
	}
	if swarms {
		err = errors.Join(err, c.reconcileSwarms(ctx))
	}
	return true, err
}

// reconcile is one full pass of the reconciler: ended runs, then running swarms
// (when the swarm watch is on). It is what engine.Machinery.Reconcile runs.
func (c *Client) reconcile(ctx context.Context) error {
	err := c.reconcileRuns(ctx)
	if c.cfg.SwarmWatch > 0 {
		err = errors.Join(err, c.reconcileSwarms(ctx))
	}
	return err
}

// reconcileSwarms runs [Client.ReconcileSwarm] on every running swarm: it settles
// what a lost item event left open (an item whose run ended unseen, an item claimed
// but never dispatched, an end recorded but not acted on). The running swarms come
// from the status and task indexes, 500 a page (two round trips a page).
func (c *Client) reconcileSwarms(ctx context.Context) error {
	var errs []error
	after := ""
	for {
		page, err := c.store.List(ctx, redisstore.ListQuery{Status: StatusActive, Task: SwarmTask, Limit: 500, After: after})
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, rec := range page.Records {
			if rec.Kind != redisstore.KindSwarm {
				continue
			}
			if _, err := c.reconcileSwarm(ctx, rec.ID, true); err != nil && !errors.Is(err, ErrSignatureNotFound) {
				errs = append(errs, err)
			}
		}
		if page.Next == "" {
			return errors.Join(errs...)
		}
		after = page.Next
	}
}

// reconcileRuns is one pass of the reconciler: the engine's verdict settles, once,
// each signature whose run ended while no hatchetflow step could settle it.
//   - A run cancelled while queued, or while its worker was gone, cancels its
//     signature (error callbacks with the message it was run with).
//   - A run that failed before its signature started (it timed out in the queue, or
//     failed before hatchetflow's step ran) fails it (error callbacks).
//   - A run that failed while still owning its signature (its worker was lost and the
//     engine failed the run at its timeout, or an attempt hung past its timeout) fails
//     it with the run's error (error callbacks). In the lean shape (no on-failure step)
//     nothing else would.
//   - A failed run that had failed its signature completes the error path its worker
//     may have left unfinished; one that had finished it (done, its result stored)
//     completes the success path. Markers skip what went out.
//   - A run of a task no hatchetflow step runs (a plain Hatchet task, another
//     language's; see runModes) ends its signature as the run ended: done with the
//     run's output and success callbacks (a chain moves on, a swarm item ends), failed
//     or cancelled with error callbacks.
//   - A run with no signature in its metadata is looked up by its standing signature's
//     id (StandingSignatureID): a task with WithStandingSignature saved one for it, and
//     it is settled as above; any other such run has no record and is left alone.
//
// It reads the failed and cancelled runs of the last reconcileWindow (one engine call)
// and, only while the engine-settled set is not empty, the ended runs marked
// [engine.MetaSettle] since its oldest member (one more): its cost follows failures,
// cancels and engine-settled runs, not the number of healthy runs. Redis is read
// once for the engine-settled set and once more when there is news.
func (c *Client) reconcileRuns(ctx context.Context) error {
	rl, ok := c.dispatcher.(engine.RunLister)
	if !ok {
		return nil
	}
	now := time.Now()
	window := c.reconcileWindow()
	runs, err := rl.EndedRuns(ctx, engine.RunQuery{Since: now.Add(-window)})
	if err != nil {
		return err
	}
	oldest, watching, err := c.store.OldestEngineSettled(ctx)
	if err != nil {
		return err
	}
	if watching {
		// A run is created just before its signature joins the set.
		more, err := rl.EndedRuns(ctx, engine.RunQuery{Since: oldest.Add(-time.Minute), Completed: true, EngineSettled: true})
		if err != nil {
			return err
		}
		runs = append(runs, more...)
	}
	r := &c.reconciler
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for id, at := range r.seen {
		if now.Sub(at) > window {
			delete(r.seen, id)
		}
	}
	var fresh []engine.EndedRun
	var ids []string
	for _, run := range runs {
		if run.SignatureID == "" {
			// A run with no signature of its own has one if its task has a standing
			// signature and its main step saved it; else the record is missing and
			// the run is left alone.
			run.SignatureID = StandingSignatureID(run.RunID)
		}
		if _, done := r.seen[run.RunID]; done || !redisstore.ValidID(run.SignatureID) {
			continue
		}
		r.seen[run.RunID] = now // at most once per pass, whatever the lists repeat
		fresh = append(fresh, run)
		ids = append(ids, run.SignatureID)
	}
	r.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	recs, err := c.store.GetMany(ctx, ids)
	if err != nil {
		c.forget(fresh...)
		return err
	}
	var errs []error
	var settled []string
	for _, run := range fresh {
		if err := c.settleEnded(ctx, recs[run.SignatureID], run); err != nil {
			if !errors.Is(err, errSettleLater) {
				errs = append(errs, err)
			}
			c.forget(run) // read again next pass
			continue
		}
		if run.EngineSettled {
			settled = append(settled, run.SignatureID)
		}
	}
	if err := c.store.UnwatchEngineSettled(ctx, settled...); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// forget makes the reconciler read runs again on its next pass.
func (c *Client) forget(runs ...engine.EndedRun) {
	c.reconciler.mu.Lock()
	defer c.reconciler.mu.Unlock()
	for _, run := range runs {
		delete(c.reconciler.seen, run.RunID)
	}
}

// endedGrace is how long after the engine failed a run the reconciler leaves the
// run's signature to the run's last attempt, which ends it (and dispatches its error
// callbacks) within the engine's verdict grace and milliseconds.
const endedGrace = 3 * time.Second

// errSettleLater is settleEnded's answer for a run to look at again on a later pass.
var errSettleLater = errors.New("hatchetflow: settle on a later pass")

// settleEnded settles rec (nil: gone) after its run ended on the engine, when no
// hatchetflow step will: the signature is pending (its run ended before any step
// started it, or no hatchetflow step runs its task) or still owned by the run (its
// worker is gone, an attempt hung past its timeout, or a previous pass started it).
// A failed run that owns its signature fails it (a task with an on-failure step races
// that step; the transition lets one of them through). A failed run that had ended its
// signature itself completes what its worker may have left undone: the error path
// when it had failed it, the success path when it had finished it (done with its
// result). Anything else was settled by the steps (Client.Cancel, Suspend with
// CancelRunning, the main and on-failure steps) and is left alone.
func (c *Client) settleEnded(ctx context.Context, rec *redisstore.Record, run engine.EndedRun) error {
	if rec == nil {
		return nil
	}
	owned := rec.Status == StatusActive && rec.RunID == run.RunID
	if rec.RunID == run.RunID && !run.Succeeded && !run.Cancelled && !run.EndedAt.IsZero() &&
		time.Since(run.EndedAt) < endedGrace {
		// The run's last attempt may still be ending the signature and dispatching its
		// callbacks (the engine fails a timed-out run as its attempt reaches its own
		// deadline): settling beside it would trigger a callback twice. Look again
		// once the run has been failed for endedGrace.
		return errSettleLater
	}
	if rec.Status == StatusDone && rec.RunID == run.RunID && !run.Succeeded && !run.Cancelled {
		// The run's user function returned and the signature holds its result, but
		// the worker died before the engine heard of it and no retry was left: finish
		// the success path (what went out already is skipped).
		err := c.succeed(ctx, rec, run.RunID, rec.Result, inputOf(rec))
		if errors.Is(err, redisstore.ErrTransition) || errors.Is(err, redisstore.ErrNotFound) {
			return nil
		}
		return err
	}
	if rec.Status == StatusFailed && rec.RunID == run.RunID && !run.Succeeded && !run.Cancelled {
		// The run failed the signature, but its worker may have died before the
		// failure path completed: dispatch what it left undone (markers skip the rest).
		return c.failRecord(ctx, rec.ID, run.RunID, rec.Error, nil, inject.TaskError{})
	}
	if rec.Status != StatusPending && !owned {
		return nil
	}
	if rec.Status == StatusPending && !rec.RetriedAt.IsZero() && (run.EndedAt.IsZero() || !run.EndedAt.After(rec.RetriedAt)) {
		return nil // a run that ended before the signature was retried (Client.Retry)
	}
	// The list is a summary that may lag or disagree with the run (a run listed as
	// failed was seen to start afterwards): before a verdict changes a signature, the
	// run's details confirm it.
	run, ok, err := c.confirmVerdict(ctx, run)
	if err != nil || !ok {
		return err
	}
	switch {
	case run.Cancelled:
		opts := &CancelOptions{Reason: "run cancelled on the engine"}
		var err error
		if rec.Kind == redisstore.KindSwarm {
			_, err = c.cancelSwarm(ctx, rec, opts)
		} else {
			_, err = c.cancelSignature(ctx, rec.ID, opts)
		}
		if errors.Is(err, ErrNotPending) {
			return nil
		}
		return err
	case !run.Succeeded:
		// Never started, or still owned by a run whose last attempt could not end it
		// (its worker was lost, or a hung attempt outlived its timeout).
		return c.failRecord(ctx, rec.ID, run.RunID, runMessage(run), nil, inject.TaskError{})
	case !run.EngineSettled:
		return nil // a hatchetflow step settled it, or will
	}
	return c.settleSuccess(ctx, rec, run.RunID)
}

// settleSuccess ends rec, whose run runID of a task no hatchetflow step runs
// completed, with the run's output (read through the engine's [engine.Waiter]).
func (c *Client) settleSuccess(ctx context.Context, rec *redisstore.Record, runID string) error {
	w, ok := c.dispatcher.(engine.Waiter)
	if !ok {
		return nil
	}
	out, err := w.Wait(ctx, runID, rec.Task)
	if err != nil {
		return err
	}
	result, err := inject.UnwrapOutput(out)
	if err != nil {
		return err
	}
	return c.endByRun(ctx, rec, runID, result)
}

// endByRun ends rec, whose run runID completed with result while no hatchetflow main
// step started the signature (a task hatchetflow does not run, a workflow of several
// tasks), as the main step ends a signature: started by the run, then done with
// result and its success path. A signature that can no longer start (cancelled,
// suspended, owned by another run) keeps its state, and the result is dropped with a
// warning.
func (c *Client) endByRun(ctx context.Context, rec *redisstore.Record, runID string, result json.RawMessage) error {
	if rec.Status == StatusPending {
		outcome, started, err := c.store.Start(ctx, rec.ID, runID, 1)
		if err != nil {
			return err
		}
		if outcome != redisstore.Started && outcome != redisstore.Resumed {
			if outcome == redisstore.AlreadyDone && started.RunID == runID {
				rec = started // an earlier try started and finished it: complete its path
			} else {
				c.log.Warn("hatchetflow: run completed, but its signature cannot start; result dropped",
					"signature", rec.ID, "run", runID, "status", started.Status)
				return nil
			}
		} else {
			rec = started
		}
	}
	err := c.succeed(ctx, rec, runID, result, inputOf(rec))
	if errors.Is(err, redisstore.ErrTransition) {
		return nil
	}
	if err == nil {
		c.tel.ended(ctx, rec.Task, outcomeSuccess)
	}
	return err
}

// confirmVerdict reads run's status from its details ([engine.RunChecker]) and
// returns run as the details report it; ok is false when they do not report it ended
// (the reconciler reads it again on a later pass, while it is in its window). Without
// a RunChecker, the list's verdict stands.
func (c *Client) confirmVerdict(ctx context.Context, run engine.EndedRun) (engine.EndedRun, bool, error) {
	rc, isChecker := c.dispatcher.(engine.RunChecker)
	if !isChecker {
		return run, true, nil
	}
	st, err := rc.RunStatus(ctx, run.RunID)
	if err != nil {
		return run, false, err
	}
	if !st.Ended {
		c.log.Warn("hatchetflow: the engine's run list says a run ended, its details do not; read again later",
			"run", run.RunID, "signature", run.SignatureID)
		c.forget(run)
		return run, false, nil
	}
	run.Succeeded, run.Cancelled = st.Succeeded, st.Cancelled
	if run.Message == "" {
		run.Message = st.Message
	}
	return run, true, nil
}

// runMessage is a failed run's error, or "the run failed on the engine" when the
// engine gave none.
func runMessage(run engine.EndedRun) string {
	if msg := cleanError(run.Message); msg != "" && msg != "FAILED" {
		return msg
	}
	return "the run failed on the engine"
}
