package hatchetflow

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// Signature is a saved signature as [Client.Signature] reads it.
type Signature struct {
	// ID is the signature id; Task the task it runs.
	ID, Task string
	// Status is its lifecycle state.
	Status Status
	// Kwargs are the bound kwargs (chain kwargs included, for a chain step).
	Kwargs map[string]any
	// OnSuccess, OnError and Finally are its callbacks, in order. For a chain step,
	// OnSuccess also holds the next step (or, after the last step, the chain's success
	// callbacks), and ChainErrors and ChainFinally the chains' error and finally
	// callbacks.
	OnSuccess, OnError, Finally, ChainErrors, ChainFinally []Callback
	// Chains are the chains it is a step of, innermost first.
	Chains []string
	// ReturnField is the input field that receives a parent's return value; ErrorField
	// the one that receives error details ("" for none); OutcomeField the one that
	// receives a finally callback's outcome ("" for inject.DefaultOutcomeField).
	ReturnField, ErrorField, OutcomeField string
	// Schema is the validator schema given with dsl's Validate, or nil.
	Schema json.RawMessage
	// CreatedAt is when it was saved.
	CreatedAt time.Time
	// RunID is the engine run that owns it once started; Attempt that run's latest
	// attempt (1-based).
	RunID   string
	Attempt int
	// ScheduleID is the engine schedule that creates its run, when it was run with
	// [RunOptions.StartAfter] ("" otherwise).
	ScheduleID string
	// Wait is the event it waits for before its task runs (dsl.Builder.After), nil
	// when it waits for none. A waiting signature is pending until the event comes.
	Wait *WaitState
	// Result is the return value once done; Error the failure message once failed.
	Result json.RawMessage
	Error  string
	// Dispatched maps "<outcome>:<callback id>" to the run each dispatched callback
	// got ("success:…", "error:…", "finally:…").
	Dispatched map[string]string
}

// Callback is one callback of a saved signature.
type Callback struct {
	// ID is the callback's signature id; Task its task.
	ID, Task string
}

func signatureOf(r *redisstore.Record) *Signature {
	s := &Signature{ID: r.ID, Task: r.Task, Status: r.Status, Kwargs: r.Kwargs, Chains: r.Containers,
		ReturnField: r.ReturnField, ErrorField: r.ErrorField, OutcomeField: r.OutcomeField, Schema: r.Schema, CreatedAt: r.CreatedAt,
		RunID: r.RunID, Attempt: r.Attempt, ScheduleID: r.ScheduleID, Wait: waitStateOf(r), Result: r.Result, Error: r.Error, Dispatched: maps.Clone(r.Dispatched),
		OnSuccess: callbacksOf(r.OnSuccess), OnError: callbacksOf(r.OnError), Finally: callbacksOf(r.Finally)}
	for _, cb := range r.ChainErrors {
		s.ChainErrors = append(s.ChainErrors, Callback{ID: cb.ID, Task: cb.Task})
	}
	for _, cb := range r.ChainFinally {
		s.ChainFinally = append(s.ChainFinally, Callback{ID: cb.ID, Task: cb.Task})
	}
	return s
}

func callbacksOf(refs []redisstore.CallbackRef) []Callback {
	var out []Callback
	for _, r := range refs {
		out = append(out, Callback{ID: r.ID, Task: r.Task})
	}
	return out
}

// DispatchedRun returns the run callback id was dispatched as for outcome, if it was.
func (s *Signature) DispatchedRun(outcome Outcome, callbackID string) (string, bool) {
	run, ok := s.Dispatched[redisstore.DispatchKey(outcome, callbackID)]
	return run, ok
}
