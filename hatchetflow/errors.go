package hatchetflow

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownTask is matched by [*UnknownTaskError].
	ErrUnknownTask = errors.New("hatchetflow: unknown task")
	// ErrSignatureNotFound is matched when a signature id names no stored signature
	// (never saved, expired or deleted). It wraps redisstore.ErrNotFound's errors.
	ErrSignatureNotFound = errors.New("hatchetflow: signature not found")
	// ErrInvalidSignatureID is returned when a run's metadata or a Ref holds a value
	// that is not a signature id.
	ErrInvalidSignatureID = errors.New("hatchetflow: invalid signature id")
	// ErrNotObject is returned when an input message is not a JSON object.
	ErrNotObject = errors.New("hatchetflow: input must be a JSON object")
	// ErrKwargsTooLarge is matched by [*KwargsTooLargeError].
	ErrKwargsTooLarge = errors.New("hatchetflow: bound kwargs too large")
	// ErrNoDispatcher is returned by [New] without a Hatchet client or a dispatcher.
	ErrNoDispatcher = errors.New("hatchetflow: a Hatchet client or WithDispatcher is required")
	// ErrNoRedis is returned by [New] without a Redis client.
	ErrNoRedis = errors.New("hatchetflow: a Redis client is required")
	// ErrDuplicateTask is returned by [NewTask] for a name registered twice.
	ErrDuplicateTask = errors.New("hatchetflow: task already registered")
	// ErrRunFailed is matched by [*RunError].
	ErrRunFailed = errors.New("hatchetflow: run failed")
)

// UnknownTaskError names a task that no worker registered and that has no validator
// override ([dsl.Builder.Validate]).
type UnknownTaskError struct {
	// Task is the name that was signed.
	Task string
}

// Error implements error.
func (e *UnknownTaskError) Error() string {
	return fmt.Sprintf("hatchetflow: unknown task %q: no worker registered it (start a worker, or give a validator with Validate)", e.Task)
}

// Is reports whether target is [ErrUnknownTask].
func (e *UnknownTaskError) Is(target error) bool { return target == ErrUnknownTask }

// KwargsTooLargeError reports bound kwargs whose JSON encoding is over the limit set
// with [WithMaxKwargsBytes].
type KwargsTooLargeError struct {
	// Task is the signed task; Size and Limit are in bytes.
	Task        string
	Size, Limit int
}

// Error implements error.
func (e *KwargsTooLargeError) Error() string {
	return fmt.Sprintf("hatchetflow: kwargs for task %q are %d bytes, over the %d-byte limit", e.Task, e.Size, e.Limit)
}

// Is reports whether target is [ErrKwargsTooLarge].
func (e *KwargsTooLargeError) Is(target error) bool { return target == ErrKwargsTooLarge }

// RunError is the failure of a run, as [Handle.Wait] reports it.
type RunError struct {
	// RunID is the engine run; Task the task that failed; Message its error text.
	RunID, Task, Message string
}

// Error implements error.
func (e *RunError) Error() string {
	return fmt.Sprintf("hatchetflow: run %s of task %q failed: %s", e.RunID, e.Task, e.Message)
}

// Is reports whether target is [ErrRunFailed].
func (e *RunError) Is(target error) bool { return target == ErrRunFailed }

// PanicError is what a task's panic becomes: an ordinary, retryable failure.
type PanicError struct {
	// Value is what was passed to panic; Stack the goroutine's stack.
	Value any
	Stack string
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// NonRetryableError marks an error the engine must not retry; see [NonRetryable].
type NonRetryableError struct{ Err error }

// Error implements error.
func (e *NonRetryableError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *NonRetryableError) Unwrap() error { return e.Err }

// NonRetryable wraps err so that a task returning it fails at once, without retries;
// its error callbacks run right away.
func NonRetryable(err error) error {
	if err == nil {
		return nil
	}
	return &NonRetryableError{Err: err}
}

// IsNonRetryable reports whether err, or any error it wraps, was made by
// [NonRetryable].
func IsNonRetryable(err error) bool {
	var nr *NonRetryableError
	return errors.As(err, &nr)
}
