package dsl

import (
	"context"
	"reflect"
	"slices"
)

// Named is implemented by typed task handles (such as hatchetflow.Task): anything that
// knows the name it is registered under.
type Named interface {
	TaskName() string
}

// Builder is an immutable signature blueprint. The zero Builder is not useful; start
// with [Sign]. Every method returns a new Builder.
type Builder struct {
	task      string
	err       error
	kwargs    KW
	success   []Spec
	failure   []Spec
	finally   []Spec
	validator reflect.Type
	wait      *EventWait
}

// Sign starts a signature for target, which is a task name (string) or a typed task
// handle ([Named]). Any other target, or an empty name, makes the terminal calls fail
// with an [*InvalidTargetError].
func Sign(target any) Builder {
	switch t := target.(type) {
	case string:
		if t == "" {
			return Builder{err: &InvalidTargetError{Target: t}}
		}
		return Builder{task: t}
	case Named:
		if t == nil || t.TaskName() == "" {
			return Builder{err: &InvalidTargetError{Target: target}}
		}
		return Builder{task: t.TaskName()}
	default:
		return Builder{err: &InvalidTargetError{Target: target}}
	}
}

// With binds kwargs. Repeated calls merge at the top level and the later value wins.
// Values are deep-copied, so changing the map afterwards does not change the builder.
func (b Builder) With(kw KW) Builder {
	b.kwargs = mergeKW(b.kwargs, kw)
	return b
}

// OnSuccess appends success callbacks: builders, [Ref]s or [Saved] signatures. They
// run after the task succeeds, with its return value injected.
func (b Builder) OnSuccess(callbacks ...Spec) Builder {
	b.success = appendSpecs(b.success, callbacks)
	return b
}

// OnError appends error callbacks: builders, [Ref]s or [Saved] signatures. They run
// once after the task failed for good, with the message the task received.
func (b Builder) OnError(callbacks ...Spec) Builder {
	b.failure = appendSpecs(b.failure, callbacks)
	return b
}

// Finally appends finally callbacks: builders, [Ref]s or [Saved] signatures. They
// run once after the task ended, whatever the end: done, failed for good, or
// cancelled (a silent cancel included), for cleanup and compensation. Each receives
// the message the task received (its input with its bound kwargs merged over it),
// plus the outcome (status, result or error details) in its field typed
// inject.Outcome, or tagged `hatchetflow:"outcome"`, else in "hatchetflow_outcome";
// its own bound kwargs win.
func (b Builder) Finally(callbacks ...Spec) Builder {
	b.finally = appendSpecs(b.finally, callbacks)
	return b
}

// Validate overrides the task's input schema with the JSON Schema of v's type, as
// MageFlow's model_validators does. With it, a task name that no worker registered is
// accepted. Validate(nil) removes the override.
func (b Builder) Validate(v any) Builder {
	b.validator = reflect.TypeOf(v)
	return b
}

// After makes the signature wait for event ev before it runs: when it is run (or, as a
// callback or a later chain step, dispatched), its task does not start until ev is
// signalled (hatchetflow.Client.Signal); the signal's payload then reaches the task in
// its signal field (inject.Signal). If no signal comes within ev's timeout, the
// signature fails through its error path and its task never runs. A later After
// replaces an earlier one. A signature that is a swarm item cannot wait (Save refuses
// it).
func (b Builder) After(ev EventWait) Builder {
	b.wait = &ev
	return b
}

// Wait returns the event given to [Builder.After], and whether there is one.
func (b Builder) Wait() (EventWait, bool) {
	if b.wait == nil {
		return EventWait{}, false
	}
	return *b.wait, true
}

// Save persists the whole tree (this signature and its nested callbacks) through
// backend and returns the saved signature.
func (b Builder) Save(ctx context.Context, backend Backend) (Saved, error) {
	if err := b.Err(); err != nil {
		return Saved{}, err
	}
	return backend.SaveSignature(ctx, b)
}

// Run saves the tree and dispatches the signature with input, a JSON object (a map or
// a struct). Bound kwargs are merged over input; they win on conflicts.
func (b Builder) Run(ctx context.Context, backend Backend, input any) (Handle, error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	return backend.RunSignature(ctx, b, input)
}

// Task returns the task name, or "" for an invalid target.
func (b Builder) Task() string { return b.task }

// Kwargs returns a deep copy of the bound kwargs.
func (b Builder) Kwargs() KW { return b.kwargs.clone() }

// SuccessCallbacks returns a copy of the success callbacks.
func (b Builder) SuccessCallbacks() []Spec { return slices.Clone(b.success) }

// ErrorCallbacks returns a copy of the error callbacks.
func (b Builder) ErrorCallbacks() []Spec { return slices.Clone(b.failure) }

// FinallyCallbacks returns a copy of the finally callbacks.
func (b Builder) FinallyCallbacks() []Spec { return slices.Clone(b.finally) }

// ValidatorType returns the type given to [Builder.Validate], or nil.
func (b Builder) ValidatorType() reflect.Type { return b.validator }

// Err reports the first problem in the tree: an invalid target here or in any nested
// callback builder, a nil callback, or an event given to After that cannot be waited
// for (an [*EventError]).
func (b Builder) Err() error {
	if b.err != nil {
		return b.err
	}
	if b.wait != nil {
		if err := b.wait.Err(); err != nil {
			return err
		}
	}
	for _, s := range slices.Concat(b.success, b.failure, b.finally) {
		if err := specErr(s); err != nil {
			return err
		}
	}
	return nil
}

func (Builder) spec() {}

// appendSpecs returns a new slice; the old one is never written, so builders that
// share a prefix never see each other's callbacks.
func appendSpecs(old, more []Spec) []Spec {
	out := make([]Spec, 0, len(old)+len(more))
	out = append(out, old...)
	return append(out, more...)
}
