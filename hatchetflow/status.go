package hatchetflow

import "github.com/hatchetflow/go/flowtype"

// Status is a signature's, chain's or swarm's lifecycle state: pending → active →
// done, failed or cancelled (final: [Status.Ended]), or suspended.
type Status = flowtype.Status

// Statuses of a signature.
const (
	// StatusPending: saved, not started; the only status Run and UpdateKwargs accept.
	StatusPending = flowtype.StatusPending
	// StatusActive: a run owns the signature and its user code runs.
	StatusActive = flowtype.StatusActive
	// StatusDone: the task returned; its success callbacks were dispatched.
	StatusDone = flowtype.StatusDone
	// StatusFailed: the task failed for good; its error callbacks were dispatched.
	StatusFailed = flowtype.StatusFailed
	// StatusCancelled: cancelled (see [Client.Cancel]); terminal. Its error callbacks
	// were dispatched unless the cancel was silent.
	StatusCancelled = flowtype.StatusCancelled
	// StatusSuspended: suspended (see [Client.Suspend]); a run that starts it is held.
	StatusSuspended = flowtype.StatusSuspended
)

// Outcome names the branch of callbacks a finished signature dispatches.
type Outcome = flowtype.Outcome

// Outcomes of a signature run.
const (
	// OutcomeSuccess: the success callbacks.
	OutcomeSuccess = flowtype.OutcomeSuccess
	// OutcomeError: the error callbacks (failure or cancel).
	OutcomeError = flowtype.OutcomeError
	// OutcomeFinally: the finally callbacks (after any end: done, failed or cancelled).
	OutcomeFinally = flowtype.OutcomeFinally
)
