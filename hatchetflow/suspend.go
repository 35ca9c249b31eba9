package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hatchetflow/go/inject"
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
func (c *Client) Suspend(ctx context.Context, id string) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return notFound(err)
	}
	if rec.Kind == redisstore.KindChain {
		st, err := c.chainState(ctx, rec)
		if err != nil {
			return err
		}
		if st.Status != StatusPending && st.Status != StatusActive && st.Status != StatusSuspended {
			return &NotPendingError{ID: id, Status: st.Status}
		}
		for _, leaf := range st.leaves {
			if _, err := c.store.Suspend(ctx, leaf.ID); err != nil && !errors.Is(err, redisstore.ErrTransition) {
				return notFound(err)
			}
		}
		return nil
	}
	if _, err := c.store.Suspend(ctx, id); err != nil {
		return cancelError(err)
	}
	return nil
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
		return notFound(err)
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
	return nil
}

// resumeOne resumes one signature or swarm record.
func (c *Client) resumeOne(ctx context.Context, rec *redisstore.Record) error {
	res, err := c.store.Resume(ctx, rec.ID)
	if err != nil {
		return cancelError(err)
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
		meta := map[string]string{MetaSignature: rec.ID}
		if _, err := c.dispatcher.Dispatch(ctx, rec.Task, input, meta); err != nil {
			return &DispatchError{Task: rec.Task, Err: err}
		}
	case res.Released:
		cur, err := c.store.Get(ctx, rec.ID)
		if err != nil {
			return notFound(err)
		}
		switch cur.Status {
		case StatusDone:
			return c.retrying(ctx, "resume", func() error { return c.succeed(ctx, cur, cur.RunID, cur.Result, nil) })
		case StatusFailed:
			detail := inject.TaskError{Task: cur.Task, SignatureID: cur.ID, RunID: cur.RunID,
				Attempt: max(cur.Attempt, 1), Message: cur.Error}
			return c.retrying(ctx, "resume", func() error { return c.failurePath(ctx, cur, nil, detail) })
		}
	}
	return nil
}
