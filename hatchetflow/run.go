package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// ErrCannotWait is returned by [Handle.Wait] when the dispatcher cannot report results.
var ErrCannotWait = errors.New("hatchetflow: the dispatcher cannot wait for runs")

// RunSignature dispatches a signature or a chain with input (a JSON object: a map or a
// struct). A [dsl.Builder] or [dsl.ChainBuilder] is saved first; a [dsl.Ref] or
// [dsl.Saved] runs a stored one, which must be pending (never started): otherwise a
// [*NotPendingError] is returned and nothing is dispatched. The message the task (a
// chain's first step) receives is input with its bound kwargs merged over it (bound
// kwargs win); it is checked against the task's schema before anything is written.
// It implements [dsl.Backend]; call it as b.Run(ctx, client, input).
func (c *Client) RunSignature(ctx context.Context, spec dsl.Spec, input any) (dsl.Handle, error) {
	return c.run(ctx, spec, input, nil)
}

func (c *Client) run(ctx context.Context, spec dsl.Spec, input any, opts *RunOptions) (dsl.Handle, error) {
	if _, err := opts.check(nil); err != nil {
		return nil, err // before anything is written
	}
	msg, err := toObject(input)
	if err != nil {
		return nil, err
	}
	var p *plan
	var root node
	switch s := spec.(type) {
	case dsl.Builder, dsl.ChainBuilder, dsl.SwarmBuilder:
		if p, err = c.compile(ctx, s, ""); err != nil {
			return nil, err
		}
		root = p.root
	case dsl.Ref, dsl.Saved:
		if root, err = c.storedRoot(ctx, specID(s)); err != nil {
			return nil, err
		}
	default:
		return nil, dsl.ErrNilCallback
	}
	if err := c.checkMessage(ctx, root.entry.rec, msg); err != nil {
		return nil, err
	}
	if p != nil {
		if err := c.write(ctx, p); err != nil {
			return nil, err
		}
	}
	entry := root.entry.rec
	runID, err := c.dispatchRoot(ctx, entry.Task, msg, map[string]string{MetaSignature: entry.ID}, opts)
	if err != nil {
		return nil, &DispatchError{Task: entry.Task, Err: err}
	}
	h := &Handle{c: c, sigID: root.id, runID: runID, task: entry.Task, swarm: root.swarm}
	if root.chain {
		h.leaves = root.leaves
	}
	return h, nil
}

// storedRoot reads a saved signature or chain to run, which must be pending.
func (c *Client) storedRoot(ctx context.Context, id string) (node, error) {
	n, err := c.storedNode(ctx, id)
	if err != nil {
		return node{}, err
	}
	if n.status != StatusPending {
		// A run would skip user code and report nothing useful: refuse now.
		return node{}, &NotPendingError{ID: id, Status: n.status, RunID: n.owner}
	}
	return n, nil
}

// storedNode reads a saved signature or chain to run, with its status.
func (c *Client) storedNode(ctx context.Context, id string) (node, error) {
	if !redisstore.ValidID(id) {
		return node{}, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return node{}, notFound(err)
	}
	if rec.Kind == redisstore.KindSwarm {
		return node{id: id, swarm: true, entry: shape{rec: rec}, leaves: []string{id}, status: rec.Status, owner: rec.RunID}, nil
	}
	if rec.Kind != redisstore.KindChain {
		return node{id: id, entry: shape{rec: rec}, leaves: []string{id}, status: rec.Status, owner: rec.RunID}, nil
	}
	st, err := c.chainState(ctx, rec)
	if err != nil {
		return node{}, err
	}
	return node{id: id, chain: true, entry: shape{rec: st.leaves[0]}, leaves: rec.Leaves, status: st.Status}, nil
}

// checkMessage validates the complete message (input with kwargs merged) against the
// signature's schema.
func (c *Client) checkMessage(ctx context.Context, rec *redisstore.Record, msg map[string]any) error {
	schema, err := c.schemaOf(ctx, rec)
	if err != nil {
		return err
	}
	s, err := c.compiled(schema)
	if err != nil || s == nil {
		return err
	}
	return withTask(s.Validate(inject.Merge(msg, normalize(rec.Kwargs))), rec.Task)
}

// Handle follows a dispatched signature or chain run. It implements [dsl.Handle].
type Handle struct {
	c                  *Client
	sigID, runID, task string
	leaves             []string // a chain's steps
	swarm              bool
}

// SignatureID returns the id of the signature that runs.
func (h *Handle) SignatureID() string { return h.sigID }

// RunID returns the engine's run id (for a chain, its first step's run).
func (h *Handle) RunID() string { return h.runID }

// Wait blocks until the task's main step ends or ctx is done. It returns the task's
// return value as JSON, or a [*RunError] when the run failed or was cancelled (which
// unwraps to a [*NotPendingError] when the run was a duplicate that hatchetflow
// refused). Callbacks run on their own; Wait does not wait for them.
//
// For a chain, Wait blocks until the chain ended and returns its last step's return
// value, or the [*RunError] of the step that failed. For a swarm, it blocks until the
// swarm ended and returns its results (a list in item order), or a
// [*SwarmFailedError].
func (h *Handle) Wait(ctx context.Context) (json.RawMessage, error) {
	if h.leaves != nil {
		return h.c.waitChain(ctx, h.sigID, h.leaves, h.runID, h.task)
	}
	if h.swarm {
		return h.c.waitSwarm(ctx, h.sigID)
	}
	w, ok := h.c.dispatcher.(Waiter)
	if !ok {
		return nil, ErrCannotWait
	}
	out, err := w.Wait(ctx, h.runID, h.task)
	if err != nil {
		return nil, err
	}
	return inject.UnwrapOutput(out)
}

// WaitResult waits for h and decodes the task's return value into O.
func WaitResult[O any](ctx context.Context, h dsl.Handle) (O, error) {
	var out O
	raw, err := h.Wait(ctx)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("hatchetflow: decode result of run %s: %w", h.RunID(), err)
	}
	return out, nil
}
