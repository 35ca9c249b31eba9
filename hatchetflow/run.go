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

// RunSignature dispatches a signature with input (a JSON object: a map or a struct).
// A [dsl.Builder] is saved first; a [dsl.Ref] or [dsl.Saved] runs a stored signature.
// The message the task receives is input with the bound kwargs merged over it (bound
// kwargs win); it is checked against the task's schema before anything is written.
// It implements [dsl.Backend]; call it as b.Run(ctx, client, input).
func (c *Client) RunSignature(ctx context.Context, spec dsl.Spec, input any) (dsl.Handle, error) {
	msg, err := toObject(input)
	if err != nil {
		return nil, err
	}
	var root *redisstore.Record
	var recs []*redisstore.Record
	switch s := spec.(type) {
	case dsl.Builder:
		if recs, err = c.prepareTree(ctx, s); err != nil {
			return nil, err
		}
		root = recs[len(recs)-1]
	case dsl.Ref, dsl.Saved:
		id := specID(s)
		if !redisstore.ValidID(id) {
			return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
		}
		if root, err = c.store.Get(ctx, id); err != nil {
			return nil, notFound(err)
		}
		if root.Status != redisstore.StatusPending {
			// A run would skip user code and report nothing useful: refuse now.
			return nil, &NotPendingError{ID: root.ID, Status: root.Status, RunID: root.RunID}
		}
	default:
		return nil, dsl.ErrNilCallback
	}
	if err := c.checkMessage(ctx, root, msg); err != nil {
		return nil, err
	}
	if recs != nil {
		if err := c.store.SaveTree(ctx, recs); err != nil {
			return nil, err
		}
	}
	runID, err := c.dispatcher.Dispatch(ctx, root.Task, msg, map[string]string{MetaSignature: root.ID})
	if err != nil {
		return nil, &DispatchError{Task: root.Task, Err: err}
	}
	return &Handle{c: c, sigID: root.ID, runID: runID, task: root.Task}, nil
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

// Handle follows a dispatched signature run. It implements [dsl.Handle].
type Handle struct {
	c                  *Client
	sigID, runID, task string
}

// SignatureID returns the id of the signature that runs.
func (h *Handle) SignatureID() string { return h.sigID }

// RunID returns the engine's run id.
func (h *Handle) RunID() string { return h.runID }

// Wait blocks until the task's main step ends or ctx is done. It returns the task's
// return value as JSON, or a [*RunError] when the run failed or was cancelled (which
// unwraps to a [*NotPendingError] when the run was a duplicate that hatchetflow
// refused). Callbacks run on their own; Wait does not wait for them.
func (h *Handle) Wait(ctx context.Context) (json.RawMessage, error) {
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
