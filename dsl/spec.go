package dsl

import (
	"context"
	"encoding/json"
)

// Spec is what callbacks and runs accept: a [Builder], a [ChainBuilder], a
// [SwarmBuilder], a [Ref] to a signature, chain or swarm saved earlier, or a [Saved]
// one. The set is closed.
type Spec interface {
	spec()
}

// Ref refers to a saved signature by id: dsl.Ref(id).
type Ref string

func (Ref) spec() {}

// Run dispatches the saved signature r with input through backend.
func (r Ref) Run(ctx context.Context, backend Backend, input any) (Handle, error) {
	if r == "" {
		return nil, ErrNilCallback
	}
	return backend.RunSignature(ctx, r, input)
}

// Saved is a signature stored by a [Backend].
type Saved struct {
	// ID is the signature id (a UUIDv7 string).
	ID string
	// Task is the task name the signature runs; for a chain, its first step's task.
	Task string
	// Chain is true when the saved spec is a chain; Swarm when it is a swarm.
	Chain, Swarm bool
	// OnSuccess, OnError and Finally are the callbacks saved with it, in order, each
	// with its own callbacks: their ids, for reading or updating them later.
	OnSuccess, OnError, Finally []Saved
}

func (Saved) spec() {}

// Ref returns a reference to s.
func (s Saved) Ref() Ref { return Ref(s.ID) }

// Run dispatches the saved signature with input through backend.
func (s Saved) Run(ctx context.Context, backend Backend, input any) (Handle, error) {
	return s.Ref().Run(ctx, backend, input)
}

// Backend stores and dispatches signatures; the hatchetflow client implements it.
type Backend interface {
	// SaveSignature persists the tree of spec (a [Builder] or a [ChainBuilder]) and
	// returns the saved root.
	SaveSignature(ctx context.Context, spec Spec) (Saved, error)
	// RunSignature dispatches spec (saving it first when it is a Builder) with input.
	RunSignature(ctx context.Context, spec Spec, input any) (Handle, error)
}

// Handle follows one dispatched signature run.
type Handle interface {
	// SignatureID is the id of the signature that runs.
	SignatureID() string
	// RunID is the engine's run id.
	RunID() string
	// Wait blocks until the run ends or ctx is done, and returns the task's return
	// value as JSON, or the run's error.
	Wait(ctx context.Context) (json.RawMessage, error)
}
