package hatchetflow

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"github.com/hatchetflow/go/redisstore"
)

// DefaultReconcileInterval is how often a worker's reconciler asks the engine for
// runs that ended without hatchetflow settling them (see [WithReconcileInterval]).
const DefaultReconcileInterval = time.Second

// reconcileWindow is how far back the reconciler looks for runs, by creation time:
// a run that waits in the queue longer than Hatchet's schedule timeout fails there,
// so one cancelled in the queue was created within it.
const reconcileWindow = 10 * time.Minute

// reconciler remembers the runs a client's reconciler settled or found nothing to do
// for, so each is read once.
type reconciler struct {
	once sync.Once // one loop per client, however many workers it builds
	mu   sync.Mutex
	seen map[string]time.Time // run id -> when it was seen
}

// reconcileLoop runs the reconciler every interval until ctx ends, while this client
// holds the prefix's lease (one reconciler per Redis prefix, whatever the number of
// workers).
func (c *Client) reconcileLoop(ctx context.Context) {
	interval := c.cfg.ReconcileInterval
	token := uuid.NewString()
	pause := poll.New(interval, interval)
	for {
		held, err := c.store.HoldLease(ctx, "reconciler", token, 3*interval)
		if err == nil && held {
			err = c.reconcileRuns(ctx)
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("hatchetflow: reconciler pass failed", "error", err)
		}
		if pause.Wait(ctx) != nil {
			return
		}
	}
}

// reconcileRuns is one pass of the reconciler: the engine's verdict settles, once,
// each signature whose run ended while no hatchetflow step could settle it. A run
// cancelled while queued, or while its worker was gone, cancels its signature (error
// callbacks with the message it was run with). It reads only cancelled runs
// (engine.RunLister), so its cost follows cancels, not the number of healthy runs: one
// engine call, and one Redis read when there is news.
func (c *Client) reconcileRuns(ctx context.Context) error {
	rl, ok := c.dispatcher.(engine.RunLister)
	if !ok {
		return nil
	}
	now := time.Now()
	runs, err := rl.CancelledRuns(ctx, now.Add(-reconcileWindow))
	if err != nil {
		return err
	}
	r := &c.reconciler
	r.mu.Lock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for id, at := range r.seen {
		if now.Sub(at) > reconcileWindow {
			delete(r.seen, id)
		}
	}
	var fresh []engine.CancelledRun
	var ids []string
	for _, run := range runs {
		if _, done := r.seen[run.RunID]; done || !redisstore.ValidID(run.SignatureID) {
			continue
		}
		fresh = append(fresh, run)
		ids = append(ids, run.SignatureID)
	}
	r.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	recs, err := c.store.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	var errs []error
	for _, run := range fresh {
		if err := c.settleCancelled(ctx, recs[run.SignatureID], run); err != nil {
			errs = append(errs, err)
			continue // read again next pass
		}
		r.mu.Lock()
		r.seen[run.RunID] = now
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}

// settleCancelled settles rec (nil: gone) after its run was cancelled on the engine,
// when no hatchetflow step will: the signature is pending (the run was cancelled while
// queued) or still owned by the run (its worker is gone). Anything else was settled
// by the steps (Client.Cancel, Suspend with CancelRunning, the main step's own settle
// of a cancel) and is left alone.
func (c *Client) settleCancelled(ctx context.Context, rec *redisstore.Record, run engine.CancelledRun) error {
	if rec == nil {
		return nil
	}
	if rec.Status != StatusPending && (rec.Status != StatusActive || rec.RunID != run.RunID) {
		return nil
	}
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
}
