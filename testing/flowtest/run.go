package flowtest

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
)

// Status is the state of a run in the harness.
type Status string

// Run statuses.
const (
	StatusQueued    Status = "queued"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	// StatusCancelled: cancelled by Harness.CancelRuns (which Client.Cancel calls for
	// a running signature). Cancelled while queued, it never ran; while running, its
	// attempt's context was cancelled and what the attempt returned was dropped.
	StatusCancelled Status = "cancelled"
	// StatusWaiting: a run of hatchetflow's wait task (hatchetflow.WaitTask) that waits
	// for its event, off the queue until a signal (hatchetflow.Client.Signal) or
	// [Harness.FastForward] past its timeout queues it again.
	StatusWaiting Status = "waiting"
)

// Run is a snapshot of one run the harness was asked to dispatch.
type Run struct {
	// ID is the run id.
	ID string
	// Task is the task name.
	Task string
	// Input is the input as dispatched, after a JSON round trip as on the wire.
	Input map[string]any
	// Meta is the run's additional metadata.
	Meta map[string]string
	// Received is the message the user function was last called with (input with
	// bound kwargs merged), or nil when it was never called.
	Received map[string]any
	// Attempts is how many attempts of the main step were made.
	Attempts int
	// Status is queued (also while it runs), waiting, completed, failed or cancelled.
	Status Status
	// Result is the task's return value, once completed.
	Result json.RawMessage
	// Errors holds the error text of each failed main attempt.
	Errors []string
	// OnFailureRan tells whether hatchetflow's on-failure step ran. It is true only for a
	// failed run of a task that has that step (one registered with
	// hatchetflow.WithOnFailureStep, or the internal swarm task); a failed run of any
	// other task has false, its last attempt (or the reconciler) having ended the
	// signature.
	OnFailureRan bool
	// Options are the per-run options it was dispatched with, or nil.
	Options *hatchetflow.RunOptions

	output  json.RawMessage // the main step's output, as the engine keeps it
	faulted bool            // an injected fault met one of its attempts
	// stop cancels the run's context while it executes (nil otherwise); cancelled
	// tells that Harness.CancelRuns did so.
	stop      context.CancelCauseFunc
	cancelled bool
	// cancelRefused: the main step refused the run because its signature was
	// cancelled, a consequence of the cancel rather than a failure to declare.
	cancelRefused bool
	// seq is the run's place among dispatches and signals, queuedAt the harness clock
	// when it was dispatched; parked what it waits for while it is waiting.
	seq      int
	queuedAt time.Time
	parked   *parking
}

// SignatureID returns the signature id the run executes, or "" for a plain run.
func (r *Run) SignatureID() string { return r.Meta[engine.MetaSignature] }

func (r *Run) clone() *Run {
	c := *r
	c.Input = cloneJSON(r.Input)
	c.Received = cloneJSON(r.Received)
	c.Meta = maps.Clone(r.Meta)
	c.Errors = append([]string(nil), r.Errors...)
	c.Result = bytes.Clone(r.Result)
	c.output = bytes.Clone(r.output)
	c.stop = nil
	return &c
}

// roundTrip returns v as the wire would deliver it: JSON-encoded and decoded.
func roundTrip(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func cloneJSON(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, err := roundTrip(m)
	if err != nil {
		return maps.Clone(m)
	}
	return out
}
