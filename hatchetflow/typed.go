package hatchetflow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hatchetflow/go/dsl"
)

// TaskRun follows a run of a typed task: [Task.Run] and [Task.RunSignature] return it.
// Wait returns the task's own output type, so the caller never names it again.
type TaskRun[O any] struct {
	h dsl.Handle
}

// SignatureID returns the id of the signature that runs.
func (r *TaskRun[O]) SignatureID() string { return r.h.SignatureID() }

// RunID returns the engine's run id ("" for a run scheduled with
// [RunOptions.StartAfter]: see [Handle.RunID]).
func (r *TaskRun[O]) RunID() string { return r.h.RunID() }

// ScheduleID returns the engine schedule of a run started with
// [RunOptions.StartAfter], or "" (see [Handle.ScheduleID]).
func (r *TaskRun[O]) ScheduleID() string {
	if h, ok := r.h.(*Handle); ok {
		return h.ScheduleID()
	}
	return ""
}

// Handle returns the untyped handle, for code that takes a [dsl.Handle].
func (r *TaskRun[O]) Handle() dsl.Handle { return r.h }

// Wait blocks until the run ends and returns the task's return value, or the run's
// error (see [Handle.Wait]).
func (r *TaskRun[O]) Wait(ctx context.Context) (O, error) { return WaitResult[O](ctx, r.h) }

// Run runs the task as a signature with input in and no callbacks. An input of the
// wrong type does not compile.
func (t *Task[I, O]) Run(ctx context.Context, in I) (*TaskRun[O], error) {
	return t.RunSignature(ctx, dsl.Sign(t), in)
}

// RunSignature runs b, a signature of this task (with its kwargs and callbacks), with
// the typed input in. A builder of another task returns an error wrapping
// [ErrWrongTask].
func (t *Task[I, O]) RunSignature(ctx context.Context, b dsl.Builder, in I) (*TaskRun[O], error) {
	if b.Err() == nil && b.Task() != t.def.name {
		return nil, fmt.Errorf("%w: the signature runs %q, the handle is %q", ErrWrongTask, b.Task(), t.def.name)
	}
	msg, err := typedInput(in)
	if err != nil {
		return nil, err
	}
	h, err := b.Run(ctx, t.c, msg)
	if err != nil {
		return nil, err
	}
	return &TaskRun[O]{h: h}, nil
}

// typedInput encodes a typed input as the JSON object the message is made of.
func typedInput[I any](in I) (map[string]any, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: encode input: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%w, got %T", ErrNotObject, in)
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}
