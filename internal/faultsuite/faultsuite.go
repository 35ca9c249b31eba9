// Package faultsuite is hatchetflow's fault-injection suite: it runs signatures on the
// real Hatchet engine and a real Redis while it SIGKILLs workers, loses dispatch
// acknowledgements, takes Redis away, floods the engine and feeds bad input, and it
// asserts how many times each callback's user code ran.
//
// The tasks run in a child process (package worker, built by the tests with go build),
// so a test can kill it with SIGKILL at the worst moment. The child counts every
// execution of user code with HINCRBY on a counter hash under the test's key prefix
// (see [Counter]); the tests read the counters after the signature trees settled.
//
// The tests skip unless HATCHETFLOW_INTEGRATION=1 (`make test` sets it). With
// HFRELIABILITY_REPORT set to a file, each scenario appends one JSON [Row] to it;
// internal/cmd/hfreliability turns those rows into docs/reliability.md.
package faultsuite

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/inject"
)

// Task names the worker registers.
const (
	// TaskMain is the task under test: retries 0, execution timeout MainTimeout.
	TaskMain = "fs-main"
	// TaskStep is a chain step after TaskMain: retries 0, timeout MainTimeout.
	TaskStep = "fs-step"
	// TaskStepRetry is TaskStep with one retry.
	TaskStepRetry = "fs-step-retry"
	// TaskMainRetry is TaskMain with one retry.
	TaskMainRetry = "fs-main-retry"
	// TaskOnSuccess is the success callback; it counts the field "<result id>/<tag>".
	TaskOnSuccess = "fs-on-success"
	// TaskOnError is the error callback; it counts the field "<message id>/<tag>".
	TaskOnError = "fs-on-error"
	// TaskOnErrorAny is an error callback that takes any message (a map); it counts
	// the field "<message id>/<tag>".
	TaskOnErrorAny = "fs-on-error-any"
	// TaskDAG is a workflow of two tasks, TaskDAGFirst then TaskDAGLast (each counts
	// the field "<id>"), registered with hatchetflow.RegisterWorkflow; its result is
	// {"fs-dag-last": MainOut}.
	TaskDAG      = "fs-dag"
	TaskDAGFirst = "fs-dag-first"
	TaskDAGLast  = "fs-dag-last"
	// TaskDAGDone is TaskDAG's success callback; it counts the field
	// "<last task's result id>/<tag>".
	TaskDAGDone = "fs-dag-done"
	// Dispatches is the counter of callback triggers the worker sent, by callback
	// signature id (it is not a task).
	Dispatches = "dispatch"
)

// MainTimeout is the execution timeout of TaskMain and TaskMainRetry.
const MainTimeout = 3 * time.Second

// CounterTTL is the TTL of every counter key.
const CounterTTL = time.Hour

// Worker modes (the worker's -mode flag).
const (
	// ModeNormal runs the production dispatcher (and counts callback triggers).
	ModeNormal = "normal"
	// ModeCrashBefore SIGKILLs the worker at its first callback dispatch, before
	// the trigger is sent.
	ModeCrashBefore = "crash-before-dispatch"
	// ModeCrashAfter SIGKILLs the worker right after its first callback trigger was
	// sent, before hatchetflow could record it.
	ModeCrashAfter = "crash-after-dispatch"
	// ModeLoseAck sends every callback trigger but reports the first -fail-times
	// triggers of each callback as failed: the step that dispatched fails after the
	// dispatch went out.
	ModeLoseAck = "lose-ack"
)

// EnvReport names the file the tests append their result rows to (JSON lines).
const EnvReport = "HFRELIABILITY_REPORT"

// StepIn is the input of TaskStep and TaskStepRetry, the later steps of a chain: the
// previous step's result, and bound fields.
type StepIn struct {
	Prev inject.ReturnValue[MainOut] `json:"prev"`
	// ID names the step (bound as a kwarg).
	ID string `json:"id"`
	// Block makes the first attempt wait until its context ends (or two minutes).
	Block bool `json:"block,omitempty"`
}

// MainIn is the input of the main tasks.
type MainIn struct {
	ID string `json:"id"`
	// Block makes the first attempt wait until its context ends (or two minutes).
	Block bool `json:"block,omitempty"`
	// SleepMS makes the task sleep that long before it returns.
	SleepMS int `json:"sleep_ms,omitempty"`
	// Fail makes the task return an error.
	Fail bool `json:"fail,omitempty"`
}

// MainOut is the result of the main tasks.
type MainOut struct {
	ID    string `json:"id"`
	Value int    `json:"value"`
}

// DAGResult is TaskDAG's result: its final task's output by task name.
type DAGResult struct {
	Last *MainOut `json:"fs-dag-last"`
}

// DAGDoneIn is the input of TaskDAGDone.
type DAGDoneIn struct {
	Result inject.ReturnValue[DAGResult] `json:"result"`
	Tag    string                        `json:"tag"`
}

// SuccessIn is the input of TaskOnSuccess.
type SuccessIn struct {
	Result inject.ReturnValue[MainOut] `json:"result"`
	Tag    string                      `json:"tag"`
}

// ErrorIn is the input of TaskOnError: the failed task's message plus bound fields.
type ErrorIn struct {
	MainIn
	Tag     string            `json:"tag"`
	Failure *inject.TaskError `json:"failure,omitempty" hatchetflow:"task_error"`
}

// Counter is the counter hash of one task under prefix: field → executions.
func Counter(prefix, task string) string { return prefix + ":count:" + task }

// WhoKey is the hash that records which worker last ran a field of task.
func WhoKey(prefix, task string) string { return prefix + ":who:" + task }

// Count adds one execution of field to task's counter (and notes worker as the one
// that ran it) atomically, with the counter TTL set in the same transaction.
func Count(ctx context.Context, rdb redis.UniversalClient, prefix, task, field, worker string) error {
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, Counter(prefix, task), field, 1)
		p.PExpire(ctx, Counter(prefix, task), CounterTTL)
		p.HSet(ctx, WhoKey(prefix, task), field, worker)
		p.PExpire(ctx, WhoKey(prefix, task), CounterTTL)
		return nil
	})
	return err
}

// Row is one scenario's result, as the tests report it and internal/cmd/hfreliability reads it.
type Row struct {
	// Scenario is a short name ("a. worker killed mid-task"); Test the Go test.
	Scenario string `json:"scenario"`
	Test     string `json:"test"`
	// Runs is how many signature trees the scenario ran.
	Runs int `json:"runs"`
	// Expected and Observed are callback user-code executions.
	Expected int `json:"expected"`
	Observed int `json:"observed"`
	// Exact is true when every single callback ran exactly as often as expected.
	Exact bool `json:"exact"`
	// KeysNoTTL is how many keys under the test's prefix had no TTL at the end
	// (the task registry excepted); -1 when not checked.
	KeysNoTTL int `json:"keys_no_ttl"`
	// Passed is the test's outcome; Seconds its duration.
	Passed  bool    `json:"passed"`
	Seconds float64 `json:"seconds"`
	// Note says what else was checked.
	Note string `json:"note,omitempty"`
}

// AppendRow appends r to the report file named by EnvReport, if set.
func AppendRow(r Row) error {
	path := os.Getenv(EnvReport)
	if path == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
