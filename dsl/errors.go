package dsl

import (
	"errors"
	"fmt"
)

// ErrInvalidTarget is matched (errors.Is) by every [*InvalidTargetError].
var ErrInvalidTarget = errors.New("dsl: invalid sign target")

// ErrNilCallback is returned when a callback is nil or an empty [Ref].
var ErrNilCallback = errors.New("dsl: nil callback")

// ErrChainTooShort is matched by [*ChainTooShortError].
var ErrChainTooShort = errors.New("dsl: a chain needs at least two steps")

// ChainTooShortError reports a chain of fewer than two steps.
type ChainTooShortError struct {
	// Steps is how many steps it has.
	Steps int
}

// Error implements error.
func (e *ChainTooShortError) Error() string {
	return fmt.Sprintf("dsl: a chain needs at least two steps, got %d", e.Steps)
}

// Is reports whether target is [ErrChainTooShort].
func (e *ChainTooShortError) Is(target error) bool { return target == ErrChainTooShort }

// InvalidTargetError reports a [Sign] target that is neither a non-empty task name nor
// a [Named] task handle.
type InvalidTargetError struct {
	// Target is the value given to Sign.
	Target any
}

// Error implements error.
func (e *InvalidTargetError) Error() string {
	if s, ok := e.Target.(string); ok && s == "" {
		return "dsl: invalid sign target: empty task name"
	}
	return fmt.Sprintf("dsl: invalid sign target %T: want a task name or a value with TaskName() string", e.Target)
}

// Is reports whether target is [ErrInvalidTarget].
func (e *InvalidTargetError) Is(target error) bool { return target == ErrInvalidTarget }

// ErrSwarmOption is matched by [*SwarmOptionError].
var ErrSwarmOption = errors.New("dsl: invalid swarm option")

// SwarmOptionError reports a swarm option out of range.
type SwarmOptionError struct {
	// Option names the option, Value the value given, Reason what is wrong with it.
	Option string
	Value  int
	Reason string
}

// Error implements error.
func (e *SwarmOptionError) Error() string {
	return fmt.Sprintf("dsl: swarm %s(%d): %s", e.Option, e.Value, e.Reason)
}

// Is reports whether target is [ErrSwarmOption].
func (e *SwarmOptionError) Is(target error) bool { return target == ErrSwarmOption }

// ErrInvalidEvent is matched by [*EventError].
var ErrInvalidEvent = errors.New("dsl: invalid event")

// EventError reports an [EventWait] that cannot be waited for or signalled.
type EventError struct {
	// Name and Key are the event's; Field names the part that is wrong ("name",
	// "key" or "timeout") and Reason what is wrong with it.
	Name, Key, Field, Reason string
}

// Error implements error.
func (e *EventError) Error() string {
	return fmt.Sprintf("dsl: event %q key %q: %s %s", e.Name, e.Key, e.Field, e.Reason)
}

// Is reports whether target is [ErrInvalidEvent].
func (e *EventError) Is(target error) bool { return target == ErrInvalidEvent }
