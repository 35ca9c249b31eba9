package flowtest

import (
	"errors"
	"time"

	"github.com/hatchetflow/go/internal/engine"
)

// Fault replaces one attempt's call of a user function.
type Fault struct {
	kind string
	err  error
	val  any
}

// Fail makes the attempt return err.
func Fail(err error) Fault { return Fault{kind: "fail", err: err} }

// Panic makes the attempt panic with v.
func Panic(v any) Fault { return Fault{kind: "panic", val: v} }

// Timeout makes the attempt exceed its execution timeout; the engine reports
// "Task exceeded timeout of Ns".
func Timeout() Fault { return Fault{kind: "timeout"} }

// errTimeout marks an injected timeout inside the harness.
var errTimeout = errors.New("flowtest: injected timeout")

// injectedTimeout is an injected timeout as the attempt sees it: the engine's text,
// matching errTimeout.
type injectedTimeout struct{ text string }

func (e *injectedTimeout) Error() string        { return e.text }
func (e *injectedTimeout) Is(target error) bool { return target == errTimeout }

// errRunCancelled is the cause with which Harness.CancelRuns cancels a running run.
var errRunCancelled = errors.New("flowtest: run cancelled")

func (f Fault) apply() error {
	switch f.kind {
	case "fail":
		return f.err
	case "panic":
		panic(f.val)
	case "timeout":
		return errTimeout
	}
	return nil
}

// Inject makes attempt (0-based, as Hatchet's RetryCount) of every later run of task
// meet fault f instead of calling the user function.
func (h *Harness) Inject(task string, attempt int, f Fault) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults[faultKey{task, attempt}] = f
}

// ClearFault removes the fault injected for attempt of task, if any.
func (h *Harness) ClearFault(task string, attempt int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.faults, faultKey{task, attempt})
}

// ClearFaults removes every injected fault: later runs call their user functions.
func (h *Harness) ClearFaults() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.faults)
}

// ExpectFailure declares that runs of task may fail without an injected fault (the
// user function returns an error, a refused duplicate run...). Without it, such a run
// fails the test at cleanup, naming the run and its error. A cancel's own consequences
// need no declaration: a cancelled run ends cancelled, not failed, and a run refused
// because its signature was cancelled is not counted.
func (h *Harness) ExpectFailure(task string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expected[task] = true
}

// AllowFailures turns the cleanup check of unexpected failures off for every task.
func (h *Harness) AllowFailures() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.allowAll = true
}

// checkFailures fails the test for each run that failed although no fault met it, its
// signature was not cancelled, and its task was not declared with ExpectFailure.
func (h *Harness) checkFailures() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.allowAll {
		return
	}
	for _, r := range h.runs {
		if r.Status != StatusFailed || r.faulted || r.cancelRefused || h.expected[r.Task] {
			continue
		}
		msg := ""
		if len(r.Errors) > 0 {
			msg = r.Errors[len(r.Errors)-1]
		}
		h.t.Errorf("flowtest: run %s of task %q failed unexpectedly (no injected fault; declare it with ExpectFailure, or AllowFailures): %s",
			r.ID, r.Task, msg)
	}
}

type faultKey struct {
	task    string
	attempt int
}

// timeoutText is the engine's message for a timed-out attempt.
func timeoutText(d time.Duration) string { return engine.TimeoutMessage(d) }
