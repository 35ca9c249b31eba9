package dsl

import (
	"context"
	"slices"
)

// ChainBuilder is an immutable blueprint of a chain: steps run one after the other,
// each receiving the previous step's return value in its return field, with success
// and error callbacks of its own. Start one with [Chain]. Every method returns a new
// ChainBuilder. A ChainBuilder is a [Spec]: it can be a callback, a step of another
// chain, or run on its own.
type ChainBuilder struct {
	steps   []Spec
	kwargs  KW
	success []Spec
	failure []Spec
	finally []Spec
	wait    *EventWait
}

// Chain starts a chain of two or more steps: builders, [Ref]s, [Saved] signatures or
// other chains. Fewer than two steps make the terminal calls fail with
// [ErrChainTooShort].
func Chain(steps ...Spec) ChainBuilder {
	return ChainBuilder{steps: slices.Clone(steps)}
}

// With binds chain kwargs: every step receives them (nested chains' steps too), under
// its own bound kwargs, which win on conflicts. Repeated calls merge at the top level,
// the later value winning. Values are deep-copied.
func (c ChainBuilder) With(kw KW) ChainBuilder {
	c.kwargs = mergeKW(c.kwargs, kw)
	return c
}

// OnSuccess appends callbacks that run once the last step succeeded, with its return
// value injected.
func (c ChainBuilder) OnSuccess(callbacks ...Spec) ChainBuilder {
	c.success = appendSpecs(c.success, callbacks)
	return c
}

// OnError appends callbacks that run once when a step failed for good (later steps
// never start), with the chain's input merged with their bound kwargs.
func (c ChainBuilder) OnError(callbacks ...Spec) ChainBuilder {
	c.failure = appendSpecs(c.failure, callbacks)
	return c
}

// Finally appends callbacks that run once after the chain ended, whatever the end:
// its last step succeeded, or a step failed for good or was cancelled (a silent
// cancel included). Each receives the chain's input, as error callbacks do, plus the
// outcome (inject.Outcome: status, the last step's result or the failed step's error
// details), merged with its bound kwargs. A step's own finally callbacks run after
// that step.
func (c ChainBuilder) Finally(callbacks ...Spec) ChainBuilder {
	c.finally = appendSpecs(c.finally, callbacks)
	return c
}

// After makes the chain's first step wait for event ev before it runs (see
// [Builder.After]): the chain starts once ev is signalled, its first step receiving the
// signal's payload, or fails through its error path (its own error callbacks and the
// step's) at ev's timeout. The first step must be a builder or a chain whose own first
// step is one, and must not wait already; Save refuses anything else. A later After
// replaces an earlier one.
func (c ChainBuilder) After(ev EventWait) ChainBuilder {
	c.wait = &ev
	return c
}

// Wait returns the event given to [ChainBuilder.After], and whether there is one.
func (c ChainBuilder) Wait() (EventWait, bool) {
	if c.wait == nil {
		return EventWait{}, false
	}
	return *c.wait, true
}

// Steps returns a copy of the steps.
func (c ChainBuilder) Steps() []Spec { return slices.Clone(c.steps) }

// Kwargs returns a deep copy of the chain kwargs.
func (c ChainBuilder) Kwargs() KW { return c.kwargs.clone() }

// SuccessCallbacks returns a copy of the chain's success callbacks.
func (c ChainBuilder) SuccessCallbacks() []Spec { return slices.Clone(c.success) }

// ErrorCallbacks returns a copy of the chain's error callbacks.
func (c ChainBuilder) ErrorCallbacks() []Spec { return slices.Clone(c.failure) }

// FinallyCallbacks returns a copy of the chain's finally callbacks.
func (c ChainBuilder) FinallyCallbacks() []Spec { return slices.Clone(c.finally) }

// Err reports the first problem in the chain: fewer than two steps, an event given
// to After that cannot be waited for, or a problem in a step or callback (see
// [Builder.Err]).
func (c ChainBuilder) Err() error {
	if len(c.steps) < 2 {
		return &ChainTooShortError{Steps: len(c.steps)}
	}
	if c.wait != nil {
		if err := c.wait.Err(); err != nil {
			return err
		}
	}
	for _, s := range slices.Concat(c.steps, c.success, c.failure, c.finally) {
		if err := specErr(s); err != nil {
			return err
		}
	}
	return nil
}

// Save persists the chain (its steps, their callbacks and the chain's callbacks)
// through backend and returns the saved chain.
func (c ChainBuilder) Save(ctx context.Context, backend Backend) (Saved, error) {
	if err := c.Err(); err != nil {
		return Saved{}, err
	}
	return backend.SaveSignature(ctx, c)
}

// Run saves the chain and dispatches its first step with input, a JSON object (a map
// or a struct), merged under the first step's kwargs.
func (c ChainBuilder) Run(ctx context.Context, backend Backend, input any) (Handle, error) {
	if err := c.Err(); err != nil {
		return nil, err
	}
	return backend.RunSignature(ctx, c, input)
}

func (ChainBuilder) spec() {}

// specErr reports a nil or invalid spec.
func specErr(s Spec) error {
	switch v := s.(type) {
	case nil:
		return ErrNilCallback
	case Builder:
		return v.Err()
	case ChainBuilder:
		return v.Err()
	case SwarmBuilder:
		return v.Err()
	case Ref:
		if v == "" {
			return ErrNilCallback
		}
	}
	return nil
}
