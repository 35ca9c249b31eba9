// Package flowtype holds the small types that hatchetflow's user API, its storage
// layer and its tools share: a record's [Status], a finished run's [Outcome], and the
// errors both layers return ([*NotPendingError], [*SignatureNotFoundError]...), so
// that no error is translated between them. It has no dependencies; package
// hatchetflow re-exports every name, so user code rarely imports it directly.
//
// # Errors
//
// Each error type matches its sentinel with errors.Is; refused status changes also
// match [ErrTransition].
//
// # Statuses
//
// A signature (or chain, or swarm) moves pending → active → done, failed or
// cancelled; suspended is a pause before it starts. [Status.Ended] is the one
// definition of which statuses are final: the storage layer's Lua scripts are
// generated from [EndedStatuses].
package flowtype

// Status is a signature's, chain's or swarm's lifecycle state.
type Status string

// Statuses a record moves through.
const (
	// StatusPending: saved, not started.
	StatusPending Status = "pending"
	// StatusActive: a run owns it and its user code runs.
	StatusActive Status = "active"
	// StatusDone: it returned; its success callbacks were dispatched. Final.
	StatusDone Status = "done"
	// StatusFailed: it failed for good; its error callbacks were dispatched. Final.
	StatusFailed Status = "failed"
	// StatusCancelled: cancelled through the client, or its run was cancelled on the
	// engine. Final.
	StatusCancelled Status = "cancelled"
	// StatusSuspended: suspended; a run that starts it is held until it is resumed.
	StatusSuspended Status = "suspended"
)

// Statuses are every status, in a fixed order.
func Statuses() []Status {
	return []Status{StatusPending, StatusActive, StatusDone, StatusFailed, StatusCancelled, StatusSuspended}
}

// EndedStatuses are the final statuses, in a fixed order.
func EndedStatuses() []Status { return []Status{StatusDone, StatusFailed, StatusCancelled} }

// Ended reports whether s is final: done, failed or cancelled. Nothing moves a record
// out of a final status.
func (s Status) Ended() bool {
	switch s {
	case StatusDone, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Outcome names the branch of callbacks a finished signature dispatches.
type Outcome string

// Outcomes of a signature run.
const (
	// OutcomeSuccess: the success callbacks.
	OutcomeSuccess Outcome = "success"
	// OutcomeError: the error callbacks (failure or cancel).
	OutcomeError Outcome = "error"
	// OutcomeFinally: the finally callbacks, dispatched once whatever the end (done,
	// failed or cancelled), beside the branch that ran.
	OutcomeFinally Outcome = "finally"
)
