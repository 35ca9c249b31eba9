package hatchetflow

import (
	"errors"
	"fmt"

	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/redisstore"
)

var (
	// ErrUnknownTask is matched by [*UnknownTaskError].
	ErrUnknownTask = errors.New("hatchetflow: unknown task")
	// ErrSignatureNotFound is matched by [*SignatureNotFoundError]: a signature id
	// names no stored signature (never saved, expired or deleted).
	ErrSignatureNotFound = flowtype.ErrSignatureNotFound
	// ErrInvalidSignatureID is returned when a run's metadata or a Ref holds a value
	// that is not a signature id.
	ErrInvalidSignatureID = errors.New("hatchetflow: invalid signature id")
	// ErrNotObject is returned when an input message is not a JSON object.
	ErrNotObject = errors.New("hatchetflow: input must be a JSON object")
	// ErrKwargsTooLarge is matched by [*KwargsTooLargeError].
	ErrKwargsTooLarge = errors.New("hatchetflow: bound kwargs too large")
	// ErrNoDispatcher is returned by [New] without a Hatchet client.
	ErrNoDispatcher = errors.New("hatchetflow: a Hatchet client is required")
	// ErrNoRedis is returned by [New] without a Redis client.
	ErrNoRedis = errors.New("hatchetflow: a Redis client is required")
	// ErrDuplicateTask is returned by [NewTask] for a name registered twice.
	ErrDuplicateTask = errors.New("hatchetflow: task already registered")
	// ErrRunFailed is matched by a [*RunError] of a run that failed.
	ErrRunFailed = errors.New("hatchetflow: run failed")
	// ErrCancelled is matched by a [*RunError] of a run that was cancelled.
	ErrCancelled = errors.New("hatchetflow: run cancelled")
	// ErrNotPending is matched by [*NotPendingError]: the signature already ran, is
	// running, or ended, so it cannot be run or changed again.
	ErrNotPending = flowtype.ErrNotPending
	// ErrCallbackMismatch is matched by [*CallbackMismatchError].
	ErrCallbackMismatch = errors.New("hatchetflow: callback does not fit its task")
	// ErrRegistrationClosed is returned by [NewTask] after [Client.NewWorker]: the
	// worker registered its workflows already and would never serve the task.
	ErrRegistrationClosed = errors.New("hatchetflow: tasks must be registered before NewWorker")
	// ErrInputNotObject is returned by [NewTask] for an input type that no JSON
	// object decodes into (a string, a number, a slice...): every message is an object.
	ErrInputNotObject = errors.New("hatchetflow: task input type cannot hold a JSON object")
	// ErrWrongTask is returned by [Task.RunSignature] for a signature of another task,
	// and matched by the [*StandingSignatureError] of a [WithStandingSignature] of
	// another task.
	ErrWrongTask = errors.New("hatchetflow: signature of another task")
	// ErrPlainRunInFlight is returned by [Client.Suspend] for a signature (or a chain
	// whose step is one) of a task no hatchetflow step runs, while its run is in
	// flight: hatchetflow cannot hold that run or its result, only the engine's
	// verdict settles it. Suspend again once it ended, or cancel it.
	ErrPlainRunInFlight = errors.New("hatchetflow: the run of a task no hatchetflow step runs is in flight")
	// ErrUnsupportedOption is returned for a per-run option the dispatcher cannot honour.
	ErrUnsupportedOption = errors.New("hatchetflow: unsupported run option")
	// ErrReservedMetadata is returned for run metadata that uses hatchetflow's own keys.
	ErrReservedMetadata = errors.New("hatchetflow: reserved metadata key")
	// ErrNotASignature is returned by [Client.Signature] and [Client.UpdateKwargs] for
	// the id of a chain or a swarm.
	ErrNotASignature = errors.New("hatchetflow: not a signature")
	// ErrNotAChain is returned by [Client.Chain] for the id of a signature.
	ErrNotAChain = errors.New("hatchetflow: not a chain")
	// ErrSavedChainStep is returned when a saved chain (a Ref or Saved of a chain) is
	// given as a step of another chain: nest the chain's builder instead.
	ErrSavedChainStep = errors.New("hatchetflow: a saved chain cannot be a step of another chain")
	// ErrSavedContainerStep is returned when a saved swarm is given as a chain step or
	// a swarm item, or a saved chain as a swarm item: nest the builder instead.
	ErrSavedContainerStep = errors.New("hatchetflow: a saved container cannot be a step or item of another container")
	// ErrNotASwarm is returned by the swarm calls of [Client] for an id that is not a
	// swarm's.
	ErrNotASwarm = errors.New("hatchetflow: not a swarm")
	// ErrSwarmClosed is returned when adding items to a closed swarm.
	ErrSwarmClosed = flowtype.ErrSwarmClosed
	// ErrSwarmFull is matched by [*SwarmFullError].
	ErrSwarmFull = flowtype.ErrSwarmFull
	// ErrAlreadyInChain is matched by [*AlreadyInChainError].
	ErrAlreadyInChain = flowtype.ErrAlreadyInChain
	// ErrConflictingOptions is matched by [*ConflictingOptionError].
	ErrConflictingOptions = errors.New("hatchetflow: conflicting options")
	// ErrUnsettled is matched by [*UnsettledError].
	ErrUnsettled = errors.New("hatchetflow: run ended without hatchetflow settling its signature")
	// ErrWaitPosition is matched by [*WaitPositionError].
	ErrWaitPosition = errors.New("hatchetflow: a signature cannot wait for an event there")
	// ErrRetriesExhausted is matched by [*RetriesExhaustedError].
	ErrRetriesExhausted = errors.New("hatchetflow: attempt beyond the task's retries")
	// ErrStandingSignature is matched by [*StandingSignatureError].
	ErrStandingSignature = errors.New("hatchetflow: invalid standing signature")
	// ErrReplication is matched by [*ReplicationError]: with [WithReplicaAcks], a
	// write applied on the Redis master but fewer replicas than wanted acknowledged it
	// in time. It is redisstore.ErrReplication.
	ErrReplication = redisstore.ErrReplication
	// ErrInvalidOption is matched by [*InvalidOptionError].
	ErrInvalidOption = errors.New("hatchetflow: invalid option")
)

// ReplicationError reports a write the Redis master applied that fewer replicas than
// [WithReplicaAcks] asks for acknowledged within its timeout: a failover now could
// lose it. The operation's outcome is unknown, as after a lost reply; hatchetflow's
// steps retry it (every store transition is idempotent for its run), and a call of the
// API that returns it may be repeated. It matches [ErrReplication] (redisstore's
// type).
type ReplicationError = redisstore.ReplicationError

// InvalidOptionError reports an option of [New] given a value it cannot work with.
type InvalidOptionError struct {
	// Option is the option's name; Detail what is wrong with its value.
	Option, Detail string
}

// Error implements error.
func (e *InvalidOptionError) Error() string {
	return fmt.Sprintf("hatchetflow: option %s: %s", e.Option, e.Detail)
}

// Is reports whether target is [ErrInvalidOption].
func (e *InvalidOptionError) Is(target error) bool { return target == ErrInvalidOption }

// StandingSignatureError reports a [WithStandingSignature] that cannot work: [NewTask]
// refuses one of another task (it also matches [ErrWrongTask]), one given twice, one
// made with Validate, one that refers to saved signatures (a standing signature is
// saved anew for every run) and bound kwargs the task's schema rejects;
// [Client.NewWorker] (through [Client.RegisterTasks]) refuses one whose callbacks do
// not save (an unknown task, a callback that does not fit). A run that cannot save it
// fails with it, before user code, and is not retried.
type StandingSignatureError struct {
	// Task is the task the option was given to; Err what is wrong.
	Task string
	Err  error
}

// Error implements error.
func (e *StandingSignatureError) Error() string {
	return fmt.Sprintf("hatchetflow: standing signature of task %q: %v", e.Task, e.Err)
}

// Is reports whether target is [ErrStandingSignature].
func (e *StandingSignatureError) Is(target error) bool { return target == ErrStandingSignature }

// Unwrap returns Err.
func (e *StandingSignatureError) Unwrap() error { return e.Err }

// UnsettledError is what waiting returns when a signature's run completed on the
// engine but its signature was still pending five reconcile intervals later (see
// [WithReconcileInterval]; 5 s by default): no hatchetflow step ran it
// (its task is a plain Hatchet task, or another language's, signed by name with
// Validate) and no worker's reconciler settled it from the engine's verdict (no worker
// runs, or every one has WithReconcileInterval(0)). Its callbacks (or a chain's next
// step) have not run; waiting says so instead of returning the run's output as if
// they had, or waiting forever for a chain that cannot advance.
type UnsettledError struct {
	// ID is the signature; Task its task; RunID the run that completed.
	ID, Task, RunID string
}

// Error implements error.
func (e *UnsettledError) Error() string {
	return fmt.Sprintf("hatchetflow: run %s of task %q completed, but signature %q was not settled: no hatchetflow step ran it and no worker's reconciler settled it (is a worker running with its reconciler on?); its callbacks and later chain steps have not run",
		e.RunID, e.Task, e.ID)
}

// Is reports whether target is [ErrUnsettled].
func (e *UnsettledError) Is(target error) bool { return target == ErrUnsettled }

// RetriesExhaustedError is the outcome of an engine attempt of a signed run whose
// user function already ran 1 + Retries times (counted on the signature, whatever
// attempt number the engine reports). Hatchet v0.104/v0.105 starts such attempts when
// a task fails in the same batch as one that has retries left (docs/reliability.md).
// The user function is not called; the signature ends through its failure path once,
// and the error is not retried.
type RetriesExhaustedError struct {
	// Task is the task; Attempt the 1-based attempt the engine started; Retries the
	// task's configured retries.
	Task             string
	Attempt, Retries int
}

// Error implements error.
func (e *RetriesExhaustedError) Error() string {
	return fmt.Sprintf("hatchetflow: task %q: the engine started attempt %d after the user function ran 1 + %d retries times (its last attempt failed or timed out); user code not called",
		e.Task, e.Attempt, e.Retries)
}

// Is reports whether target is [ErrRetriesExhausted].
func (e *RetriesExhaustedError) Is(target error) bool { return target == ErrRetriesExhausted }

// CallbackMismatchError reports, at Save, a callback that cannot fit what it will
// receive: a success callback's return field whose type does not accept the parent's
// return value, a finally callback's outcome field whose type does not accept an
// inject.Outcome, or a field a callback requires that neither its bound kwargs nor
// (for error and finally callbacks) the parent's message provide. Nothing was written.
type CallbackMismatchError struct {
	// Parent is the task whose outcome triggers the callback; Callback the
	// callback's task.
	Parent, Callback string
	// Outcome is "success", "error" or "finally".
	Outcome string
	// Field is the callback input field, as a path such as "task_result.items".
	Field string
	// Want is what the callback's field accepts; Got what it would receive ("" when
	// nothing provides a required field).
	Want, Got string
}

// Error implements error.
func (e *CallbackMismatchError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("hatchetflow: %s callback %q of %q: required field %q (%s) is provided by neither its bound kwargs nor %s",
			e.Outcome, e.Callback, e.Parent, e.Field, e.Want, e.source())
	}
	return fmt.Sprintf("hatchetflow: %s callback %q of %q: field %q wants %s but gets %s from %s",
		e.Outcome, e.Callback, e.Parent, e.Field, e.Want, e.Got, e.source())
}

func (e *CallbackMismatchError) source() string {
	switch e.Outcome {
	case string(OutcomeSuccess):
		return fmt.Sprintf("the return value of %q", e.Parent)
	case string(OutcomeFinally):
		return fmt.Sprintf("the message or outcome of %q", e.Parent)
	}
	return fmt.Sprintf("the message of %q", e.Parent)
}

// Is reports whether target is [ErrCallbackMismatch].
func (e *CallbackMismatchError) Is(target error) bool { return target == ErrCallbackMismatch }

// ConflictingOptionError reports two options of one task that set the same thing to
// different values, such as [WithRetries] and hatchet.WithRetries given through
// [WithHatchetTaskOptions], or a worker option that would drop hatchetflow's workflows.
type ConflictingOptionError struct {
	// Task is the task (or worker) name; Option what was set twice; Detail the values.
	Task, Option, Detail string
}

// Error implements error.
func (e *ConflictingOptionError) Error() string {
	return fmt.Sprintf("hatchetflow: %q: conflicting %s: %s", e.Task, e.Option, e.Detail)
}

// Is reports whether target is [ErrConflictingOptions].
func (e *ConflictingOptionError) Is(target error) bool { return target == ErrConflictingOptions }

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

// RunError is the end of a run that did not complete, as [Handle.Wait] reports it:
// it matches [ErrCancelled] when the run was cancelled, else [ErrRunFailed]. When the
// run was refused by hatchetflow itself (a signature that is not pending, or not
// found), it also unwraps to that typed error, so errors.Is(err, ErrNotPending) and
// errors.As(err, &notPending) work on it.
type RunError struct {
	// RunID is the engine run; Task the task that failed; Message its error text.
	// RunID is "" when the signature ended before any run of its task started it: a
	// scheduled run cancelled before the schedule fired (see [RunOptions.StartAfter]),
	// a signature whose wait for an event timed out or was cancelled
	// (dsl.Builder.After).
	RunID, Task, Message string
	// Cancelled is true when the run was cancelled rather than failed.
	Cancelled bool
	// Cause is hatchetflow's refusal of the run, or nil: read from the signature's
	// record when the run ended (never from the message text).
	Cause error
}

// newRunError returns the error of a run that failed with message (the engine's
// error text) or, with cancelled, was cancelled; [Handle.Wait] sets Cause.
func newRunError(runID, task, message string, cancelled bool) *RunError {
	message = cleanError(message)
	return &RunError{RunID: runID, Task: task, Message: message, Cancelled: cancelled}
}

// Error implements error.
func (e *RunError) Error() string {
	if e.RunID == "" { // the signature ended before a run of its task started it
		if e.Cancelled {
			return fmt.Sprintf("hatchetflow: the run of task %q was cancelled before it started", e.Task)
		}
		return fmt.Sprintf("hatchetflow: the run of task %q ended before it started: %s", e.Task, e.Message)
	}
	if e.Cancelled {
		return fmt.Sprintf("hatchetflow: run %s of task %q was cancelled", e.RunID, e.Task)
	}
	return fmt.Sprintf("hatchetflow: run %s of task %q failed: %s", e.RunID, e.Task, e.Message)
}

// Is reports whether target is [ErrRunFailed] (a failed run) or [ErrCancelled] (a
// cancelled one).
func (e *RunError) Is(target error) bool {
	return (target == ErrRunFailed && !e.Cancelled) || (target == ErrCancelled && e.Cancelled)
}

// Unwrap returns Cause.
func (e *RunError) Unwrap() error { return e.Cause }

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

// DispatchError is a trigger the engine refused or that could not reach it.
type DispatchError struct {
	// Task is the task that was to run; Err the engine client's error.
	Task string
	Err  error
}

// Error implements error.
func (e *DispatchError) Error() string {
	return fmt.Sprintf("hatchetflow: dispatch %q: %v", e.Task, e.Err)
}

// Unwrap returns the engine client's error.
func (e *DispatchError) Unwrap() error { return e.Err }

// The errors the store returns as they are (package flowtype defines them).
type (
	// NotPendingError reports a signature that is no longer pending: Run refuses to
	// dispatch it again and UpdateKwargs refuses to change it; a duplicate engine run
	// of it fails with it without calling user code. It matches [ErrNotPending].
	NotPendingError = flowtype.NotPendingError
	// SignatureNotFoundError names a signature id that no stored signature has
	// (never saved, expired or deleted). It matches [ErrSignatureNotFound].
	SignatureNotFoundError = flowtype.SignatureNotFoundError
	// AlreadyInChainError reports a saved signature given as a chain step while it is
	// a step of another chain already: a signature belongs to one chain. It matches
	// [ErrAlreadyInChain].
	AlreadyInChainError = flowtype.AlreadyInChainError
	// SwarmFullError is returned when adding items would take a swarm past its
	// MaxItems. It matches [ErrSwarmFull].
	SwarmFullError = flowtype.SwarmFullError
)

// SwarmFailedError is the error of a swarm that failed: StopAfter items failed (or,
// rarely, the swarm's own run failed for good).
type SwarmFailedError struct {
	// ID is the swarm.
	ID string
	// Failures is how many items had failed when the swarm stopped, as the transition
	// that stopped it recorded: items that fail after the stop (they were running)
	// do not change it. 0 when the swarm failed without stopping.
	Failures int
	// Message is the swarm's error: for a stop, "swarm stopped: <Failures> items
	// failed (stop after <n>); last error: <the failure that stopped it>".
	Message string
}

// Error implements error. It states the failure count once, in Message.
func (e *SwarmFailedError) Error() string {
	return fmt.Sprintf("hatchetflow: swarm %s failed: %s", e.ID, e.Message)
}

// Is reports whether target is [ErrRunFailed].
func (e *SwarmFailedError) Is(target error) bool { return target == ErrRunFailed }

// ErrSuspended is matched by [*SuspendedError].
var ErrSuspended = errors.New("hatchetflow: signature suspended")

// SuspendedError is the error of a run that found its signature suspended: the run
// called no user code, and its input is held for [Client.Resume], which dispatches it.
type SuspendedError struct{ ID string }

// Error implements error.
func (e *SuspendedError) Error() string {
	return fmt.Sprintf("hatchetflow: signature %q is suspended: run held for Resume", e.ID)
}

// Is reports whether target is [ErrSuspended].
func (e *SuspendedError) Is(target error) bool { return target == ErrSuspended }

// WaitPositionError reports an event wait (dsl.Builder.After, dsl.ChainBuilder.After)
// where Save cannot honour it: on a swarm item (a claimed item must start its run
// promptly, docs/swarms.md) or a swarm, on a chain whose first step cannot take it, on
// a step that waits already, or in a standing signature. Nothing is written.
type WaitPositionError struct {
	// Task is the task of the signature given the wait ("" for a container); Reason
	// says why it cannot wait there.
	Task, Reason string
}

// Error implements error.
func (e *WaitPositionError) Error() string {
	return fmt.Sprintf("hatchetflow: signature of task %q cannot wait for an event: %s", e.Task, e.Reason)
}

// Is reports whether target is [ErrWaitPosition].
func (e *WaitPositionError) Is(target error) bool { return target == ErrWaitPosition }
