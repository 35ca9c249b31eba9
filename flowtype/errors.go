package flowtype

import (
	"errors"
	"fmt"
)

// The errors the user API and the store share: the store returns them and package
// hatchetflow re-exports them, so no error is translated on the way up.
var (
	// ErrSignatureNotFound is matched by [*SignatureNotFoundError].
	ErrSignatureNotFound = errors.New("hatchetflow: signature not found")
	// ErrNotPending is matched by [*NotPendingError].
	ErrNotPending = errors.New("hatchetflow: signature not pending")
	// ErrAlreadyInChain is matched by [*AlreadyInChainError].
	ErrAlreadyInChain = errors.New("hatchetflow: signature already in a chain")
	// ErrSwarmFull is matched by [*SwarmFullError].
	ErrSwarmFull = errors.New("hatchetflow: swarm is full")
	// ErrSwarmClosed is returned when adding items to a closed swarm.
	ErrSwarmClosed = errors.New("hatchetflow: swarm is closed")
	// ErrTransition is matched by every refused status change: [*NotPendingError],
	// [*AlreadyInChainError] and the store's own refusals. Retrying does not help.
	ErrTransition = errors.New("hatchetflow: status transition refused")
)

// SignatureNotFoundError names a signature id that no stored signature has: never
// saved, expired, deleted, or lost by Redis (a restart without persistence, an
// eviction, or a failover to a replica that had not received it; docs/deploy.md).
type SignatureNotFoundError struct {
	// ID is the signature id.
	ID string
	// Callback is true when the id was given as a callback.
	Callback bool
}

// Error implements error.
func (e *SignatureNotFoundError) Error() string {
	what := "signature"
	if e.Callback {
		what = "callback signature"
	}
	return fmt.Sprintf("hatchetflow: %s %q not found (never saved, expired, deleted, or lost by Redis: "+
		"a restart without persistence, an eviction, or a failover to a replica that had not received it)", what, e.ID)
}

// Is reports whether target is [ErrSignatureNotFound].
func (e *SignatureNotFoundError) Is(target error) bool { return target == ErrSignatureNotFound }

// NotPendingError reports a signature that is no longer pending: a run refuses to
// dispatch it again, a kwargs update or a link refuses to change it, and a duplicate
// engine run of it fails with it without calling user code. It matches
// [ErrNotPending] and [ErrTransition].
type NotPendingError struct {
	// ID is the signature id; Status the status it has.
	ID     string
	Status Status
	// RunID is the engine run that owns the signature ("" if none started it).
	RunID string
}

// Error implements error.
func (e *NotPendingError) Error() string {
	s := fmt.Sprintf("hatchetflow: signature %q is not pending: it is %s", e.ID, e.Status)
	if e.RunID != "" {
		s += fmt.Sprintf(" (run %s)", e.RunID)
	}
	return s
}

// Is reports whether target is [ErrNotPending] or [ErrTransition].
func (e *NotPendingError) Is(target error) bool {
	return target == ErrNotPending || target == ErrTransition
}

// AlreadyInChainError reports a saved signature given as a chain step (or swarm item)
// while it is a step of another chain already: a signature belongs to one chain. It
// matches [ErrAlreadyInChain] and [ErrTransition].
type AlreadyInChainError struct {
	// ID is the signature; ChainID the chain it is in (the innermost one).
	ID, ChainID string
}

// Error implements error.
func (e *AlreadyInChainError) Error() string {
	return fmt.Sprintf("hatchetflow: signature %q is already a step of chain (or an item of swarm) %q", e.ID, e.ChainID)
}

// Is reports whether target is [ErrAlreadyInChain] or [ErrTransition].
func (e *AlreadyInChainError) Is(target error) bool {
	return target == ErrAlreadyInChain || target == ErrTransition
}

// SwarmFullError is returned when adding items would take a swarm past its MaxItems.
// It matches [ErrSwarmFull].
type SwarmFullError struct {
	// ID is the swarm; Items how many it holds, Adding how many were to be added, Max
	// its bound.
	ID                 string
	Items, Adding, Max int
}

// Error implements error.
func (e *SwarmFullError) Error() string {
	return fmt.Sprintf("hatchetflow: swarm %q holds %d of at most %d items: cannot add %d", e.ID, e.Items, e.Max, e.Adding)
}

// Is reports whether target is [ErrSwarmFull].
func (e *SwarmFullError) Is(target error) bool { return target == ErrSwarmFull }
