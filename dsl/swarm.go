package dsl

import (
	"context"
	"fmt"
	"slices"
)

// DefaultMaxConcurrency is how many items of a swarm run at once when
// [SwarmBuilder.MaxConcurrency] is not called (MageFlow's default too).
const DefaultMaxConcurrency = 30

// SwarmBuilder is an immutable blueprint of a swarm: items (signatures, chains or
// other swarms) that run side by side, at most MaxConcurrency at a time, each
// receiving the swarm's input. Once the swarm is closed and every item ended, its
// success callbacks receive the items' return values as a list in item order (null for
// a failed item); once StopAfter items failed, its error callbacks run instead and
// items not started never start. Start one with [Swarm]. Every method returns a new
// SwarmBuilder. A SwarmBuilder is a [Spec]: it can be a callback, a chain step, an
// item of another swarm, or run on its own.
type SwarmBuilder struct {
	items     []Spec
	kwargs    KW
	success   []Spec
	failure   []Spec
	finally   []Spec
	maxConc   int
	concSet   bool
	stopAfter int
	maxItems  int
	open      bool
}

// Swarm starts a swarm of items: builders, [Ref]s, [Saved] signatures, chains or
// other swarms. A swarm may start empty and be given items later when it is [Open].
func Swarm(items ...Spec) SwarmBuilder {
	return SwarmBuilder{items: slices.Clone(items)}
}

// With binds swarm kwargs: every item receives them (nested chains' steps and nested
// swarms' items too), under the item's own bound kwargs and an inner swarm's or
// chain's kwargs, which win on conflicts. Repeated calls merge at the top level, the
// later value winning. Values are deep-copied.
func (s SwarmBuilder) With(kw KW) SwarmBuilder {
	s.kwargs = mergeKW(s.kwargs, kw)
	return s
}

// OnSuccess appends callbacks that run once the swarm is closed and every item ended
// (below the StopAfter threshold), with the items' results, a JSON list in item
// order, injected.
func (s SwarmBuilder) OnSuccess(callbacks ...Spec) SwarmBuilder {
	s.success = appendSpecs(s.success, callbacks)
	return s
}

// OnError appends callbacks that run once when the StopAfter-th item failed, with the
// swarm's input merged with their bound kwargs.
func (s SwarmBuilder) OnError(callbacks ...Spec) SwarmBuilder {
	s.failure = appendSpecs(s.failure, callbacks)
	return s
}

// Finally appends callbacks that run once after the swarm ended, whatever the end:
// done, failed under StopAfter, or cancelled (a silent cancel included). Each
// receives the swarm's input, as error callbacks do, plus the outcome
// (inject.Outcome: status, the items' results as a list, or the error details),
// merged with its bound kwargs.
func (s SwarmBuilder) Finally(callbacks ...Spec) SwarmBuilder {
	s.finally = appendSpecs(s.finally, callbacks)
	return s
}

// MaxConcurrency bounds how many items run at once (dispatched and not ended).
// Default [DefaultMaxConcurrency]; n must be at least 1.
func (s SwarmBuilder) MaxConcurrency(n int) SwarmBuilder {
	s.maxConc, s.concSet = n, true
	return s
}

// StopAfter makes the swarm fail once n items failed: its error callbacks run at the
// n-th failure, queued items never start, running ones finish without changing the
// outcome. Default 0: the swarm never fails, a failed item's result is null.
func (s SwarmBuilder) StopAfter(n int) SwarmBuilder {
	s.stopAfter = n
	return s
}

// MaxItems bounds how many items the swarm may ever hold, added ones included.
// Default 0: no bound.
func (s SwarmBuilder) MaxItems(n int) SwarmBuilder {
	s.maxItems = n
	return s
}

// Open keeps the swarm open after it is saved: items may be added with the client's
// AddItems until CloseSwarm; it ends only once closed. Default closed: the items
// given are all it has.
func (s SwarmBuilder) Open() SwarmBuilder {
	s.open = true
	return s
}

// Items returns a copy of the items.
func (s SwarmBuilder) Items() []Spec { return slices.Clone(s.items) }

// Kwargs returns a deep copy of the swarm kwargs.
func (s SwarmBuilder) Kwargs() KW { return s.kwargs.clone() }

// SuccessCallbacks returns a copy of the swarm's success callbacks.
func (s SwarmBuilder) SuccessCallbacks() []Spec { return slices.Clone(s.success) }

// ErrorCallbacks returns a copy of the swarm's error callbacks.
func (s SwarmBuilder) ErrorCallbacks() []Spec { return slices.Clone(s.failure) }

// FinallyCallbacks returns a copy of the swarm's finally callbacks.
func (s SwarmBuilder) FinallyCallbacks() []Spec { return slices.Clone(s.finally) }

// Concurrency returns the max concurrency: the one set, or [DefaultMaxConcurrency].
func (s SwarmBuilder) Concurrency() int {
	if !s.concSet {
		return DefaultMaxConcurrency
	}
	return s.maxConc
}

// StopAfterFailures returns the StopAfter threshold (0: never).
func (s SwarmBuilder) StopAfterFailures() int { return s.stopAfter }

// ItemLimit returns the MaxItems bound (0: none).
func (s SwarmBuilder) ItemLimit() int { return s.maxItems }

// IsOpen reports whether the swarm stays open for added items.
func (s SwarmBuilder) IsOpen() bool { return s.open }

// Err reports the first problem in the swarm: an invalid option (a [*SwarmOptionError]),
// or a problem in an item or callback (see [Builder.Err]).
func (s SwarmBuilder) Err() error {
	switch {
	case s.concSet && s.maxConc < 1:
		return &SwarmOptionError{Option: "MaxConcurrency", Value: s.maxConc, Reason: "must be at least 1"}
	case s.stopAfter < 0:
		return &SwarmOptionError{Option: "StopAfter", Value: s.stopAfter, Reason: "must be 0 (never) or more"}
	case s.maxItems < 0:
		return &SwarmOptionError{Option: "MaxItems", Value: s.maxItems, Reason: "must be 0 (no bound) or more"}
	case s.maxItems > 0 && len(s.items) > s.maxItems:
		return &SwarmOptionError{Option: "MaxItems", Value: s.maxItems,
			Reason: fmt.Sprintf("the swarm is given %d items", len(s.items))}
	}
	for _, sp := range slices.Concat(s.items, s.success, s.failure, s.finally) {
		if err := specErr(sp); err != nil {
			return err
		}
	}
	return nil
}

// Save persists the swarm (its items, their callbacks and the swarm's callbacks)
// through backend and returns the saved swarm.
func (s SwarmBuilder) Save(ctx context.Context, backend Backend) (Saved, error) {
	if err := s.Err(); err != nil {
		return Saved{}, err
	}
	return backend.SaveSignature(ctx, s)
}

// Run saves the swarm and starts it with input, a JSON object (a map or a struct):
// every item receives it, with the swarm's and its own kwargs merged over it.
func (s SwarmBuilder) Run(ctx context.Context, backend Backend, input any) (Handle, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return backend.RunSignature(ctx, s, input)
}

func (SwarmBuilder) spec() {}
