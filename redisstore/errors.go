package redisstore

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is matched by [*NotFoundError]: the signature does not exist (never
	// saved, expired or deleted).
	ErrNotFound = errors.New("redisstore: signature not found")
	// ErrTransition is matched by [*TransitionError].
	ErrTransition = errors.New("redisstore: status transition refused")
	// ErrUnknownTask is returned by [Store.LookupTask] for a name no worker registered.
	ErrUnknownTask = errors.New("redisstore: unknown task")
)

// NotFoundError names the signature that was not found.
type NotFoundError struct {
	// ID is the signature id.
	ID string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("redisstore: signature %q not found", e.ID)
}

// Is reports whether target is [ErrNotFound].
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// TransitionError reports a refused status change.
type TransitionError struct {
	// ID is the signature id.
	ID string
	// From is the status the signature had.
	From Status
	// To is the status that was asked for.
	To Status
	// RunID is the run that asked; OwnerRunID is the run the signature belongs to.
	RunID, OwnerRunID string
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("redisstore: signature %q: %s→%s refused for run %q (owner run %q)",
		e.ID, e.From, e.To, e.RunID, e.OwnerRunID)
}

// Is reports whether target is [ErrTransition].
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }
