package hatchetflow

import "github.com/hatchetflow/go/redisstore"

// Status is a signature's lifecycle state: pending → active → done or failed.
type Status = redisstore.Status

// Statuses of a signature.
const (
	// StatusPending: saved, not started; the only status Run and UpdateKwargs accept.
	StatusPending = redisstore.StatusPending
	// StatusActive: a run owns the signature and its user code runs.
	StatusActive = redisstore.StatusActive
	// StatusDone: the task returned; its success callbacks were dispatched.
	StatusDone = redisstore.StatusDone
	// StatusFailed: the task failed for good; its error callbacks were dispatched.
	StatusFailed = redisstore.StatusFailed
	// StatusCancelled: cancelled (see [Client.Cancel]); terminal. Its error callbacks
	// were dispatched unless the cancel was silent.
	StatusCancelled = redisstore.StatusCancelled
	// StatusSuspended: suspended (see [Client.Suspend]); a run that starts it is held.
	StatusSuspended = redisstore.StatusSuspended
)

// Outcome names the branch of callbacks a finished signature dispatches.
type Outcome = redisstore.Outcome

// Outcomes of a signature run.
const (
	OutcomeSuccess = redisstore.OutcomeSuccess
	OutcomeError   = redisstore.OutcomeError
)
