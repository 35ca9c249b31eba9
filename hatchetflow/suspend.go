package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"

	"github.com/hatchetflow/go/redisstore"
)

// Suspend suspends signature, chain or swarm id until [Client.Resume]:
//
//   - a pending signature becomes suspended: a run that starts it calls no user code
//     (it fails with a [*SuspendedError]) and its input is held; Resume dispatches it
//     once with that input;
//   - an active signature's running attempt goes on to its end, but its callbacks
//     (success or error) are held until Resume;
//   - a chain does not advance: its pending steps are suspended, its running step is
//     held; Resume continues where it stopped;
//   - a swarm starts no more items (running ones finish and are recorded); Resume
//     starts items again and ends the swarm if they all ended meanwhile.
//
// Nothing runs twice: each transition is one script, and a held run input is
// dispatched by the one Resume that clears it. Suspending what ended gives a
// [*NotPendingError]; suspending what is suspended changes nothing.
//
// With opts.CancelRunning, a running signature (a chain's running step) is instead
// cancelled on the engine and suspended with its run's input, read from the engine:
// Resume runs it again from the start, so its user function may run twice. It needs a
// dispatcher that can read and cancel runs; a swarm refuses it with
// [ErrUnsupportedOption] (its running items always finish).
//
// A signature of a task no hatchetflow step runs (a plain Hatchet task, another
// language's), or a chain whose step is one, cannot be suspended while that run is in
// flight: hatchetflow cannot hold it, and Suspend returns an error matching
// [ErrPlainRunInFlight] and changes nothing.
func (c *Client) Suspend(ctx context.Context, id string, opts *SuspendOptions) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	cancelRunning := opts != nil && opts.CancelRunning
	if rec.Kind == redisstore.KindSwarm && cancelRunning {
		return fmt.Errorf("%w: CancelRunning on swarm %s (its running items always finish)", ErrUnsupportedOption, id)
	}
	if rec.Kind == redisstore.KindChain {
		st, err := c.chainState(ctx, rec)
		if err != nil {
			return err
		}
		if st.Status != StatusPending && st.Status != StatusActive && st.Status != StatusSuspended {
			return &NotPendingError{ID: id, Status: st.Status}
		}
		if err := c.refusePlainInFlight(ctx, st.leaves...); err != nil {
			return err
		}
		for _, leaf := range st.leaves {
			if cancelRunning && leaf.Status == StatusActive && leaf.Kind == redisstore.KindSignature {
				if err := c.suspendRunning(ctx, leaf); err != nil {
					return err
				}
				continue
			}
			if _, err := c.store.Suspend(ctx, leaf.ID); err != nil && !errors.Is(err, redisstore.ErrTransition) {
				return err
			}
		}
		// The chain's own record too, so that listings show it suspended.
		return c.store.UpdateContainers(ctx, []redisstore.ContainerUpdate{{ID: id, Status: StatusSuspended}})
	}
	if rec.Kind == redisstore.KindSignature {
		if err := c.refusePlainInFlight(ctx, rec); err != nil {
			return err
		}
	}
	if cancelRunning && rec.Status == StatusActive {
		return c.suspendRunning(ctx, rec)
	}
	if _, err := c.store.Suspend(ctx, id); err != nil {
		return err
	}
	return nil
}

// refusePlainInFlight returns an [ErrPlainRunInFlight] error when one of recs is a
// pending signature whose run, of a task no hatchetflow step runs, is in flight (in
// the engine-settled set): a suspend would leave it pending for good.
func (c *Client) refusePlainInFlight(ctx context.Context, recs ...*redisstore.Record) error {
	var ids []string
	for _, r := range recs {
		if r.Status == StatusPending && r.Kind == redisstore.KindSignature {
			ids = append(ids, r.ID)
		}
	}
	inFlight, err := c.store.EngineSettledAmong(ctx, ids...)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if inFlight[r.ID] {
			return fmt.Errorf("%w: signature %s of task %q", ErrPlainRunInFlight, r.ID, r.Task)
		}
	}
	return nil
}

// SuspendOptions configures [Client.Suspend]. A nil *SuspendOptions means defaults.
type SuspendOptions struct {
	// CancelRunning cancels a running attempt and reruns it on Resume. Default false:
	// the running attempt finishes and its callbacks are held until Resume.
	CancelRunning bool
}

// suspendRunning suspends the active signature rec with its run's input held, then
// cancels the run on the
func (c *Client) suspendRunning(ctx context.Context, rec *redisstore.Record) error {
	rr, ok := c.dispatcher.(engine.RunInputReader)
	if !ok {
		return fmt.Errorf("%w: CancelRunning needs a dispatcher that reads run inputs", ErrUnsupportedOption)
	}
	if _, ok := c.dispatcher.(engine.Canceller); !ok {
		return fmt.Errorf("%w: CancelRunning needs a dispatcher that cancels runs", ErrUnsupportedOption)
	}
	input, err := rr.RunInput(ctx, rec.RunID)
	if err != nil {
		return fmt.Errorf("hatchetflow: read the input of run %s: %w", rec.RunID, err)
	}
	if err := c.store.SuspendRunning(ctx, rec.ID, rec.RunID, input); err != nil {
		return err
	}
	return c.cancelRuns(ctx, rec.ID, []string{rec.RunID})
}

// Resume resumes what [Client.Suspend] suspended: a held run is dispatched once with
// its input, held callbacks are dispatched, a chain goes on, a swarm starts items
// again. Resuming what is not suspended gives a [*NotPendingError].
func (c *Client) Resume(ctx context.Context, id string) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if rec.Kind != redisstore.KindChain {
		return c.resumeOne(ctx, rec)
	}
	st, err := c.chainState(ctx, rec)
	if err != nil {
		return err
	}
	resumed := false
	// Later steps first: releasing a step's held success dispatches the next step,
	// which must find itself pending again.
	for i := len(st.leaves) - 1; i >= 0; i-- {
		err := c.resumeOne(ctx, st.leaves[i])
		var np *NotPendingError
		switch {
		case errors.As(err, &np):
		case err != nil:
			return err
		default:
			resumed = true
		}
	}
	if !resumed {
		return &NotPendingError{ID: id, Status: st.Status}
	}
	return c.store.UpdateContainers(ctx, []redisstore.ContainerUpdate{{ID: id, Status: redisstore.ContainerResume}})
}

// resumeOne resumes one signature or swarm record.
func (c *Client) resumeOne(ctx context.Context, rec *redisstore.Record) error {
	res, err := c.store.Resume(ctx, rec.ID)
	if err != nil {
		return err
	}
	switch {
	case res.Resumed && rec.Kind == redisstore.KindSwarm && res.Status == StatusActive:
		var end *redisstore.ItemEnd
		if err := c.retrying(ctx, "resume swarm", func() (err error) {
			end, err = c.store.SwarmClaim(ctx, rec.ID, nowMS(), rec.Input)
			return err
		}); err != nil {
			return err
		}
		return c.retrying(ctx, "resume swarm", func() error { return c.advance(ctx, rec.ID, end, "") })
	case res.Resumed && len(res.Held) > 0:
		var input map[string]any
		if err := json.Unmarshal(res.Held, &input); err != nil {
			return fmt.Errorf("hatchetflow: held input of %s: %w", rec.ID, err)
		}
		meta := map[string]string{engine.MetaSignature: rec.ID}
		if _, err := c.dispatcher.Dispatch(ctx, rec.Task, input, meta); err != nil {
			return &DispatchError{Task: rec.Task, Err: err}
		}
	case res.Released:
		cur, err := c.store.Get(ctx, rec.ID)
		if err != nil {
			return err
		}
		switch cur.Status {
		case StatusDone:
			return c.retrying(ctx, "resume", func() error { return c.succeed(ctx, cur, cur.RunID, cur.Result, nil) })
		case StatusFailed:
			detail := errorDetail(cur, cur.RunID, cur.Error)
			return c.retrying(ctx, "resume", func() error { return c.endPath(ctx, cur, nil, detail, endLoud) })
		}
	}
	return nil
}
