package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"time"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// ChainState is a chain as stored: its status and steps. The status is the chain
// record's, the one every view shows: pending until its first step starts, active
// while its steps run, suspended, and done, failed or cancelled with the step that
// ends it (the chain's record moves in the same round trip as that step's markers).
type ChainState struct {
	// ID is the chain id.
	ID string
	// Status is the chain's status.
	Status Status
	// Current is the index in Steps of the step that runs, failed, or runs next; the
	// last step once the chain is done.
	Current int
	// Steps are the chain's signatures in run order (nested chains flattened).
	Steps []ChainStep
	// Result is the last step's return value once the chain is done.
	Result json.RawMessage
	// Error is the failed step's error once the chain failed.
	Error string

	leaves []*redisstore.Record
}

// ChainStep is one step of a chain.
type ChainStep struct {
	// ID is the step's signature id; Task its task.
	ID, Task string
	// Status is the step's status.
	Status Status
	// RunID is the engine run that owns the step, once it started; Attempt its latest
	// attempt (1-based).
	RunID   string
	Attempt int
}

// Chain reads chain id: its status, current step and steps, in two round trips. id
// may also be the id a parent lists for a chain given as its callback (the chain's
// first step's): the outermost chain that step starts is read.
func (c *Client) Chain(ctx context.Context, id string) (*ChainState, error) {
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.Kind != redisstore.KindChain {
		chain, err := c.chainStartedBy(ctx, rec)
		if err != nil {
			return nil, err
		}
		if chain == nil {
			return nil, fmt.Errorf("%w: %q is a signature of task %q", ErrNotAChain, id, rec.Task)
		}
		rec = chain
	}
	return c.chainState(ctx, rec)
}

// chainStartedBy returns the outermost chain whose first step is the signature rec, or
// nil when rec starts none: a chain given as a callback (or a swarm item) is listed by
// its parent under its first step's id, so that id names the chain too.
func (c *Client) chainStartedBy(ctx context.Context, rec *redisstore.Record) (*redisstore.Record, error) {
	if rec.Kind != redisstore.KindSignature || !rec.FirstLeaf || len(rec.Containers) == 0 {
		return nil, nil
	}
	chains, err := c.store.GetMany(ctx, rec.Containers)
	if err != nil {
		return nil, err
	}
	for i := len(rec.Containers) - 1; i >= 0; i-- { // innermost first: the outermost last
		ch := chains[rec.Containers[i]]
		if ch != nil && len(ch.Leaves) > 0 && ch.Leaves[0] == rec.ID {
			return ch, nil
		}
	}
	return nil, nil
}

// chainState reads the steps of the chain rec and derives its state.
func (c *Client) chainState(ctx context.Context, rec *redisstore.Record) (*ChainState, error) {
	got, err := c.store.GetMany(ctx, rec.Leaves)
	if err != nil {
		return nil, err
	}
	return chainStateOf(rec, got)
}

// chainStateOf reads chain rec's state: its status is the chain record's own (the one
// status List, Tree and Chain show, moved in the same script or pipeline as its steps'
// transitions), and its current step, result and error come from its leaves' records
// (got, by id).
func chainStateOf(rec *redisstore.Record, got map[string]*redisstore.Record) (*ChainState, error) {
	st := &ChainState{ID: rec.ID, Status: rec.Status, Current: -1}
	done := 0
	for i, id := range rec.Leaves {
		l := got[id]
		if l == nil {
			return nil, &SignatureNotFoundError{ID: id}
		}
		st.leaves = append(st.leaves, l)
		st.Steps = append(st.Steps, ChainStep{ID: l.ID, Task: l.Task, Status: l.Status, RunID: l.RunID, Attempt: l.Attempt})
		switch {
		case l.Status == StatusDone:
			done++
		case l.Status.Ended() && st.Current < 0: // the step that failed or was cancelled
			st.Current, st.Error = i, l.Error
		}
	}
	switch {
	case st.Status == StatusDone && len(st.leaves) > 0:
		st.Current, st.Result = len(st.leaves)-1, st.leaves[len(st.leaves)-1].Result
	case st.Current < 0:
		st.Current = min(done, len(st.leaves)-1) // the step that runs or runs next
	}
	if st.Error == "" && st.Status.Ended() && st.Status != StatusDone {
		st.Error = rec.Error
	}
	return st, nil
}

// waitChain follows a chain run step by step through the dispatcher's Waiter (which
// drives an in-memory engine too): each step's run, then the run its finish dispatched
// for the next step, read from the step's dispatch marker.
func (c *Client) waitChain(ctx context.Context, chainID string, leaves []string, firstRun, firstTask string) (json.RawMessage, error) {
	run, task := firstRun, firstTask
	for i, leaf := range leaves {
		var out json.RawMessage
		var err error
		if task == SwarmTask { // a swarm step ends when its items did, not its run
			out, err = c.waitSwarm(ctx, leaf)
		} else {
			out, err = c.waitRun(ctx, leaf, run, task)
			for errors.Is(err, ErrSuspended) {
				// The step's run was held while the chain was suspended; Resume
				// dispatches another: follow the run that owns the step.
				if run, err = c.ownerRun(ctx, leaf, run); err == nil {
					out, err = c.waitRun(ctx, leaf, run, task)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		if i == len(leaves)-1 {
			if task == SwarmTask {
				return out, nil
			}
			return inject.UnwrapOutput(out)
		}
		if run, task, err = c.nextRun(ctx, leaf, leaves[i+1]); err != nil {
			return nil, fmt.Errorf("hatchetflow: chain %s after step %d: %w", chainID, i, err)
		}
	}
	return nil, fmt.Errorf("hatchetflow: chain %s has no steps", chainID)
}

// nextRun waits for step's dispatch marker of next and returns its run and task.
func (c *Client) nextRun(ctx context.Context, step, next string) (runID, task string, err error) {
	pause := poll.New(5*time.Millisecond, 250*time.Millisecond)
	for {
		rec, err := c.store.Get(ctx, step)
		if err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
			return "", "", err
		}
		if rec != nil {
			if run, ok := rec.Dispatched[redisstore.DispatchKey(OutcomeSuccess, next)]; ok {
				for _, cb := range rec.OnSuccess {
					if cb.ID == next {
						return run, cb.Task, nil
					}
				}
			}
		}
		if err := pause.Wait(ctx); err != nil {
			return "", "", err
		}
	}
}

// ownerRun waits until signature id is owned by a run other than not (a chain step
// held while suspended, then resumed; a scheduled run, not being ""), and returns it.
// A signature that ends without such a run (cancelled first) gives a [*RunError]
// with its status and error and no RunID. An in-memory dispatcher ([engine.Stepper])
// is stepped meanwhile.
func (c *Client) ownerRun(ctx context.Context, id, not string) (string, error) {
	stepper, _ := c.dispatcher.(engine.Stepper)
	pause := poll.New(5*time.Millisecond, 250*time.Millisecond)
	for {
		rec, err := c.store.Get(ctx, id)
		if err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
			return "", err
		}
		if rec != nil && rec.RunID != "" && rec.RunID != not {
			return rec.RunID, nil
		}
		if rec != nil && rec.Status.Ended() {
			return "", &RunError{Task: rec.Task, Message: rec.Error, Cancelled: rec.Status == StatusCancelled}
		}
		if stepper != nil && stepper.Step(ctx) {
			continue
		}
		if st, ok := stepper.(engine.Staller); ok {
			if err := st.Stalled(id); err != nil {
				return "", err // in memory, nothing will start it unless the caller acts
			}
		}
		if err := pause.Wait(ctx); err != nil {
			return "", err
		}
	}
}
