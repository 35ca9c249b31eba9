package flowtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
)

// testingT is the part of testing.TB the harness uses; tests of the harness itself
// pass a fake.
type testingT interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// MaxRuns bounds how many runs one Drain executes, so a flow that dispatches forever
// fails the test instead of hanging it.
const MaxRuns = 10000

// Harness is an in-memory engine for hatchetflow. Create one with [New].
type Harness struct {
	// Client is a real hatchetflow client on miniredis whose dispatcher is the harness.
	// Register tasks on it with hatchetflow.NewTask.
	Client *hatchetflow.Client
	// Redis is the miniredis server behind Client.
	Redis *miniredis.Miniredis

	// machinery is the client's store, dispatcher and steps (engine.Expose).
	machinery engine.Machinery

	t     testingT
	mu    sync.Mutex
	queue []*Run
	// hatchet is the offline client of Hatchet, made on first use.
	hatchet *hatchet.Client
	runs    []*Run
	byID    map[string]*Run
	faults  map[faultKey]Fault
	quiet   bool
	// expected holds the tasks whose runs may fail without a fault; allowAll turns
	// the check off.
	expected map[string]bool
	allowAll bool
	// children maps a parent run and key to the child run dispatched for them.
	children map[string]string
	// plain holds the steps of the plain tasks (see Plain).
	plain map[string]engine.Steps
	// now is the harness clock; schedules are the runs scheduled on it that have not
	// fired, in the order they fire; fired the ids of those that fired (schedule.go).
	now       time.Time
	schedules []*Scheduled
	fired     map[string]bool
	// seq numbers dispatches and signals in the order they happen; signals are the
	// events pushed with Signal, waiting the runs parked until one comes (eventwait.go).
	seq     int
	signals []signal
	waiting []*Run
}

var (
	_ engine.Dispatcher       = (*Harness)(nil)
	_ engine.OptionDispatcher = (*Harness)(nil)
	_ engine.ChildDispatcher  = (*Harness)(nil)
	_ engine.Waiter           = (*Harness)(nil)
	_ engine.RunChecker       = (*Harness)(nil)
	_ engine.Stepper          = (*Harness)(nil)
	_ engine.Canceller        = (*Harness)(nil)
	_ engine.RunInputReader   = (*Harness)(nil)
	_ engine.RunLister        = (*Harness)(nil)
	_ engine.Scheduler        = (*Harness)(nil)
	_ engine.Signaller        = (*Harness)(nil)
	_ engine.Staller          = (*Harness)(nil)
)

// New returns a harness on a fresh miniredis, closed with t.Cleanup. opts configure the
// client as in production; the dispatcher is always the harness.
func New(t testing.TB, opts ...hatchetflow.Option) *Harness {
	t.Helper()
	return newHarness(t, miniredis.RunT(t), opts...)
}

func newHarness(t testingT, mr *miniredis.Miniredis, opts ...hatchetflow.Option) *Harness {
	h := &Harness{Redis: mr, t: t, byID: map[string]*Run{}, faults: map[faultKey]Fault{}, expected: map[string]bool{}, children: map[string]string{},
		plain: map[string]engine.Steps{}, now: time.Now(), fired: map[string]bool{}}
	t.Cleanup(h.checkFailures)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	// The client logs through the test log unless opts set a logger of their own.
	logger := slog.New(slog.NewTextHandler(logWriter{h}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// No swarm watcher: its runs pause between passes, and the queue runs only what a
	// test steps. Tests settle lost item events with Client.ReconcileSwarm.
	opts = append([]hatchetflow.Option{hatchetflow.WithLogger(logger), hatchetflow.WithSwarmWatchInterval(0)}, opts...)
	c, err := hatchetflow.New(nil, rdb, append(opts, engine.WithDispatcher(h), engine.Expose(&h.machinery))...)
	if err != nil {
		t.Fatalf("flowtest: %v", err)
	}
	h.Client = c
	return h
}

// logWriter sends the client's log lines to the test log (dropped after Quiet).
type logWriter struct{ h *Harness }

func (w logWriter) Write(p []byte) (int, error) {
	w.h.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Dispatch implements engine.Dispatcher: it queues a run of task. A task not
// registered on the client fails at once, as on an engine started with fail-fast
// settings. As Hatchet's SDK does, it sets the run's "traceparent" metadata to the
// span in ctx, if there is one.
func (h *Harness) Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	return h.DispatchWith(ctx, task, input, meta, nil)
}

// DispatchChild implements engine.ChildDispatcher as Hatchet does: the run is a
// child of the run under hctx, and a key that run used before (on any attempt) returns
// the first child's id and queues nothing.
func (h *Harness) DispatchChild(hctx hatchet.Context, task string, input map[string]any, meta map[string]string, key string) (string, error) {
	k := hctx.WorkflowRunId() + "\x00" + key
	h.mu.Lock()
	id, seen := h.children[k]
	h.mu.Unlock()
	if seen {
		return id, nil
	}
	id, err := h.DispatchWith(hctx.GetContext(), task, input, meta, nil)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.children[k] = id
	h.mu.Unlock()
	return id, nil
}

// DispatchWith implements engine.OptionDispatcher: as Dispatch, and the run keeps
// opts (Run.Options, with the delay of a scheduled run) for assertions. The harness schedules by FIFO only, so priority,
// stickiness and worker labels change no order.
func (h *Harness) DispatchWith(ctx context.Context, task string, input map[string]any, meta map[string]string, opts *engine.RunOptions) (string, error) {
	if _, ok := h.steps(task); !ok {
		return "", fmt.Errorf("flowtest: workflow names not found: %s", task)
	}
	in, err := roundTrip(input)
	if err != nil {
		return "", fmt.Errorf("flowtest: input of %q is not JSON: %w", task, err)
	}
	if in == nil {
		in = map[string]any{}
	}
	r := &Run{ID: uuid.NewString(), Task: task, Input: in, Meta: map[string]string{}, Status: StatusQueued}
	if opts != nil {
		r.Options = &hatchetflow.RunOptions{Priority: opts.Priority, Metadata: opts.Metadata, Sticky: opts.Sticky,
			DesiredWorkerLabels: opts.DesiredWorkerLabels, StartAfter: opts.StartAfter}
	}
	for k, v := range meta {
		r.Meta[k] = v
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if tp := carrier["traceparent"]; tp != "" {
		r.Meta["traceparent"] = tp
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	r.seq, r.queuedAt = h.seq, h.now
	h.queue = append(h.queue, r)
	h.runs = append(h.runs, r)
	h.byID[r.ID] = r
	return r.ID, nil
}

// Wait implements engine.Waiter: it drives the queue until run id's main step
// ended, and returns its output or a *hatchetflow.RunError.
func (h *Harness) Wait(ctx context.Context, runID, task string) (json.RawMessage, error) {
	for {
		h.mu.Lock()
		r := h.byID[runID]
		var status Status
		var out json.RawMessage
		var lastErr string
		if r != nil {
			status, out = r.Status, r.output
			if len(r.Errors) > 0 {
				lastErr = r.Errors[len(r.Errors)-1]
			}
		}
		h.mu.Unlock()
		switch {
		case r == nil:
			return nil, fmt.Errorf("flowtest: no run %s", runID)
		case status == StatusCompleted:
			return out, nil
		case status == StatusFailed:
			return nil, &hatchetflow.RunError{RunID: runID, Task: task, Message: lastErr}
		case status == StatusCancelled:
			return nil, &hatchetflow.RunError{RunID: runID, Task: task, Message: "cancelled", Cancelled: true}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !h.Step(ctx) {
			if status == StatusWaiting {
				return nil, fmt.Errorf("flowtest: run %s waits for an event: signal it, or FastForward past its timeout", runID)
			}
			return nil, fmt.Errorf("flowtest: run %s is queued but the queue is empty", runID)
		}
	}
}

// CancelRuns implements engine.Canceller as the engine does. A queued run is
// removed from the queue and never runs, and the client's reconciler settles its
// signature at once (cancelled, error callbacks with the message it was run with), as
// the reconciler a worker hosts does within its interval on the engine. A running run's context is cancelled: the
// attempt's ctx is done (ctx.Err() is context.Canceled), what it returns is dropped,
// no retry or on-failure step follows, and the run ends cancelled at once, even when
// its user function runs on. If the cancel came from the engine's side (this method,
// not [hatchetflow.Client.Cancel]) and the run still owns its signature, the
// signature is then cancelled with its error callbacks, as hatchetflow settles a run
// cancelled from Hatchet's dashboard. Runs that ended are left as they are.
func (h *Harness) CancelRuns(ctx context.Context, runIDs []string) error {
	h.mu.Lock()
	for _, id := range runIDs {
		if h.byID[id] == nil {
			h.mu.Unlock()
			return fmt.Errorf("flowtest: no run %s", id)
		}
	}
	queued := false
	for _, id := range runIDs {
		r := h.byID[id]
		if r.stop != nil { // running
			if !r.cancelled {
				r.cancelled = true
				r.stop(errRunCancelled)
			}
			continue
		}
		if i := slices.Index(h.waiting, r); i >= 0 { // parked, waiting for an event
			h.waiting = slices.Delete(h.waiting, i, i+1)
			r.parked, r.Status = nil, StatusCancelled
			queued = true // settled by the reconciler, as a queued run is
			continue
		}
		for i, q := range h.queue {
			if q == r {
				h.queue = append(h.queue[:i:i], h.queue[i+1:]...)
				r.Status = StatusCancelled
				queued = true
				break
			}
		}
	}
	h.mu.Unlock()
	if queued {
		// No step of a run cancelled in the queue ever runs: the client's reconciler
		// settles its signature from the engine's verdict, as it does on the engine.
		return h.machinery.Reconcile(context.WithoutCancel(ctx))
	}
	return nil
}

// EndedRuns implements engine.RunLister from the harness's runs: every run that
// failed or was cancelled, and completed when q asks (the harness keeps no time
// window); with q.EngineSettled only the runs marked engine.MetaSettle.
func (h *Harness) EndedRuns(ctx context.Context, q engine.RunQuery) ([]engine.EndedRun, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []engine.EndedRun
	for _, r := range h.runs {
		settle := r.Meta[engine.MetaSettle] == engine.SettleByEngine
		switch {
		case q.EngineSettled && !settle,
			r.Status == StatusQueued, r.Status == StatusWaiting,
			r.Status == StatusCompleted && !q.Completed:
			continue
		}
		e := engine.EndedRun{RunID: r.ID, SignatureID: r.SignatureID(), EngineSettled: settle,
			Succeeded: r.Status == StatusCompleted, Cancelled: r.Status == StatusCancelled}
		if r.Status == StatusFailed && len(r.Errors) > 0 {
			e.Message = r.Errors[len(r.Errors)-1]
		}
		out = append(out, e)
	}
	return out, nil
}

// RunInput implements engine.RunInputReader: the input run id was dispatched with.
func (h *Harness) RunInput(ctx context.Context, runID string) (json.RawMessage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.byID[runID]
	if r == nil {
		return nil, fmt.Errorf("flowtest: no run %s", runID)
	}
	return json.Marshal(r.Input)
}

// RunStatus implements engine.RunChecker from the harness's runs: a run ended
// once it completed, failed or was cancelled.
func (h *Harness) RunStatus(ctx context.Context, runID string) (engine.RunStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.byID[runID]
	if r == nil {
		return engine.RunStatus{}, fmt.Errorf("flowtest: no run %s", runID)
	}
	st := engine.RunStatus{Ended: r.Status == StatusCompleted || r.Status == StatusFailed || r.Status == StatusCancelled,
		Succeeded: r.Status == StatusCompleted, Cancelled: r.Status == StatusCancelled}
	if len(r.Errors) > 0 {
		st.Message = r.Errors[len(r.Errors)-1]
	}
	return st, nil
}

// Step runs the oldest queued run to its end (main step with retries and, when it failed
// for good, the task's on-failure step if it has one, or else a pass of the client's
// reconciler) and reports whether there was one. When no run is queued but a run is
// scheduled (hatchetflow.RunOptions.StartAfter), it first moves the harness clock to
// the schedule, as [Harness.FastForward] would, so that its run is queued: Drain and
// waiting on a handle run scheduled runs too, after every run queued before them.
func (h *Harness) Step(ctx context.Context) bool {
	h.skipToSchedule()
	h.mu.Lock()
	if len(h.queue) == 0 {
		h.mu.Unlock()
		return false
	}
	r := h.queue[0]
	h.queue = h.queue[1:]
	h.mu.Unlock()
	h.execute(ctx, r)
	return true
}

// Drain runs queued runs, including the callbacks they dispatch, until none is left.
// It fails the test after [MaxRuns] runs.
func (h *Harness) Drain(ctx context.Context) {
	h.t.Helper()
	for n := 0; ; n++ {
		if n == MaxRuns && h.Queued() > 0 {
			h.t.Fatalf("flowtest: Drain ran %d runs and the queue is not empty: a flow that never ends?", MaxRuns)
			return
		}
		if !h.Step(ctx) {
			return
		}
	}
}

// Queued returns how many runs wait in the queue.
func (h *Harness) Queued() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue)
}

// Runs returns snapshots of the runs of task (all runs when task is ""), in dispatch
// order.
func (h *Harness) Runs(task string) []*Run {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Run
	for _, r := range h.runs {
		if task == "" || r.Task == task {
			out = append(out, r.clone())
		}
	}
	return out
}

// FastForward moves the harness clock ([Harness.Now]) by d: every Redis TTL ages by
// d, the runs waiting for an event ([StatusWaiting]) whose timeout passed are queued
// (they time out when they run), and the runs scheduled with
// hatchetflow.RunOptions.StartAfter that fall due are queued, in the order they fall
// due.
func (h *Harness) FastForward(d time.Duration) { h.advance(d) }

// Quiet stops the harness from logging each run.
func (h *Harness) Quiet() { h.quiet = true }

func (h *Harness) logf(format string, args ...any) {
	if !h.quiet {
		h.t.Logf(format, args...)
	}
}

// execute runs r the way Hatchet would: main attempts up to Retries+1 (fewer on a
// non-retryable error), then, when the main step failed for good, the on-failure step
// once if the task has one (hatchetflow.WithOnFailureStep), or else a pass of the
// client's reconciler, as a worker's reconciler settles the failed run on the engine.
// Until it ends, [Harness.CancelRuns] can cancel it.
func (h *Harness) execute(ctx context.Context, r *Run) {
	steps, _ := h.steps(r.Task)
	if steps.Main == nil && steps.End != nil {
		h.executeWorkflow(ctx, r, steps)
		return
	}
	if h.isPlain(r.Task) {
		defer h.reconcile(ctx, r)
	}
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	h.mu.Lock()
	r.stop = stop
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		r.stop = nil
		h.mu.Unlock()
	}()
	var mainErr string
	for attempt := 0; ; attempt++ {
		h.setAttempts(r, attempt+1)
		out, err := h.attempt(rctx, steps, r, attempt)
		if h.endIfCancelled(ctx, r, attempt) {
			return
		}
		if errors.Is(err, engine.ErrWaitParked) && h.park(r) { // the wait task: until a signal or its timeout
			return
		}
		if err == nil {
			if !h.finishMain(r, out) { // cancelled right after the attempt returned
				h.endIfCancelled(ctx, r, attempt)
			}
			return
		}
		mainErr = errorText(steps, err)
		plain := err.Error()
		if errors.Is(err, errTimeout) {
			plain = mainErr
		}
		var np *hatchetflow.NotPendingError
		refused := errors.As(err, &np) && np.Status == hatchetflow.StatusCancelled
		h.mu.Lock()
		r.Errors = append(r.Errors, plain)
		r.cancelRefused = r.cancelRefused || refused
		h.mu.Unlock()
		stack := "" // a panic's stack names, say, an unsupported hatchet.Context method
		if pe := (*hatchetflow.PanicError)(nil); errors.As(err, &pe) {
			stack = "\n" + pe.Stack
		}
		h.logf("%s run %s attempt %d failed: %s%s", r.Task, r.ID, attempt, plain, stack)
		if hatchetflow.IsNonRetryable(err) || attempt >= steps.Retries {
			break
		}
		if h.endIfCancelled(ctx, r, attempt) { // cancelled before the retry
			return
		}
	}
	h.mu.Lock()
	cancelled := r.cancelled
	if !cancelled {
		r.Status = StatusFailed
		r.OnFailureRan = steps.OnFailure != nil
	}
	h.mu.Unlock()
	if cancelled {
		h.endIfCancelled(ctx, r, steps.Retries)
		return
	}
	if steps.OnFailure == nil {
		// No on-failure step (the lean shape, or a plain task): the last attempt ended
		// the signature, or, when it could not (it timed out and runs on), the
		// reconciler does from the engine's verdict, as a worker's does on the engine.
		if !h.isPlain(r.Task) { // a plain run is reconciled when it ends
			h.reconcile(ctx, r)
		}
	} else {
		sc := h.context(rctx, r, "on-failure", 0, map[string]string{steps.Task: mainErr})
		if _, err := steps.OnFailure(sc, r.Input); err != nil {
			h.logf("%s run %s: on-failure step failed: %v", r.Task, r.ID, err)
		}
	}
	h.mu.Lock()
	if r.cancelled { // cancelled during the on-failure step, which the engine cancels too
		r.Status = StatusCancelled
	}
	r.stop = nil // it ended: a later cancel changes nothing
	h.mu.Unlock()
}

// endIfCancelled reports whether [Harness.CancelRuns] cancelled r, and if so ends it
// as cancelled: whatever its attempt returned is dropped, as the engine drops it, and
// no retry or on-failure step follows. When the cancel came from the engine's side and
// r still owns its signature, the signature is cancelled too (see settleCancel).
func (h *Harness) endIfCancelled(ctx context.Context, r *Run, attempt int) bool {
	h.mu.Lock()
	cancelled := r.cancelled
	if cancelled {
		r.Status = StatusCancelled
		r.stop = nil
	}
	h.mu.Unlock()
	if !cancelled {
		return false
	}
	h.logf("%s run %s cancelled during attempt %d", r.Task, r.ID, attempt)
	h.settleCancel(context.WithoutCancel(ctx), r)
	return true
}

// settleCancel does for a run cancelled on the engine's side what hatchetflow's main
// step does on the engine after its attempt's ctx was cancelled, with the same code
// (engine.Machinery.SettleCancel): if the run's signature is still active and owned by
// the run, it is cancelled with its error path. After a Client.Cancel the signature
// has ended already and nothing happens. A run with no signature in its metadata is
// settled by its standing signature's id (hatchetflow.StandingSignatureID): a task
// with a standing signature saved one for it; any other has no record, and nothing
// happens.
func (h *Harness) settleCancel(ctx context.Context, r *Run) {
	sigID := r.SignatureID()
	if sigID == "" {
		sigID = hatchetflow.StandingSignatureID(r.ID)
	}
	h.machinery.SettleCancel(ctx, sigID, r.ID)
}

// attempt runs one main attempt, bounded by the task's execution timeout. ctx is the
// run's context: when [Harness.CancelRuns] cancels it, the attempt ends at once.
func (h *Harness) attempt(ctx context.Context, steps engine.Steps, r *Run, attempt int) (json.RawMessage, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if steps.ExecutionTimeout > 0 {
		actx, cancel = context.WithTimeout(ctx, steps.ExecutionTimeout)
	}
	defer cancel()
	type result struct {
		out json.RawMessage
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := steps.Main(h.context(actx, r, steps.Task, attempt, nil), cloneJSON(r.Input))
		if err == nil && steps.OnFailure != nil && !isObjectOrNull(out) {
			err = fmt.Errorf("flowtest: main step of %q returned %.40q: the engine takes only a JSON object or null from a workflow with an on-failure step", r.Task, out)
		}
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		return res.out, res.err
	case <-actx.Done():
		if cause := context.Cause(ctx); cause != nil {
			return nil, cause // errRunCancelled, or the caller's ctx ended
		}
		// The engine drops whatever the attempt returns later. The attempt may still be
		// ending its signature (the last attempt of a lean task does); the harness
		// lets it, up to abandonedAttemptWait, before the run fails and the
		// reconciler looks at it, so each run is settled by one of them and the test
		// sees one outcome, not the order of two goroutines.
		select {
		case <-done:
		case <-time.After(abandonedAttemptWait):
		}
		return nil, errTimeout
	}
}

// abandonedAttemptWait bounds how long the harness waits for an attempt that
// outlived its execution timeout to return.
const abandonedAttemptWait = 5 * time.Second

// isObjectOrNull reports whether out is what the engine accepts as a task output in a
// workflow with an on-failure step (a DAG); a one-task workflow takes any JSON value.
func isObjectOrNull(out json.RawMessage) bool {
	var v any
	if json.Unmarshal(out, &v) != nil {
		return false
	}
	_, obj := v.(map[string]any)
	return obj || v == nil
}

func (h *Harness) context(ctx context.Context, r *Run, step string, attempt int, errs map[string]string) *Context {
	return &Context{ctx: ctx, task: r.Task, runID: r.ID, step: step, attempt: attempt,
		meta: r.Meta, input: r.Input, errs: errs, logf: h.logf,
		before: func(msg map[string]any) error { return h.beforeCall(r, attempt, msg) },
		wait:   func(w engine.EventWait) (map[string]any, bool, error) { return h.waitEvent(r, w) }}
}

// beforeCall records what the user function of r receives and applies an injected
// fault.
func (h *Harness) beforeCall(r *Run, attempt int, msg map[string]any) error {
	h.mu.Lock()
	r.Received = cloneJSON(msg)
	f, ok := h.faults[faultKey{r.Task, attempt}]
	if ok {
		r.faulted = true
	}
	h.mu.Unlock()
	if !ok {
		return nil
	}
	err := f.apply()
	if errors.Is(err, errTimeout) {
		// The attempt sees the timeout as it sees the engine's, by its text.
		steps, _ := h.steps(r.Task)
		return &injectedTimeout{text: timeoutText(steps.ExecutionTimeout)}
	}
	return err
}

func (h *Harness) setAttempts(r *Run, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Attempts = n
}

// finishMain records the output of r's successful main step, unless a cancel reached
// r first; it reports whether it did.
func (h *Harness) finishMain(r *Run, out json.RawMessage) bool {
	res, _ := inject.UnwrapOutput(out)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.cancelled {
		return false
	}
	r.Status = StatusCompleted
	r.Result = res
	r.output = out
	r.stop = nil // it ended: a later cancel changes nothing
	return true
}

// errorText is the text the engine would hand the on-failure step (of a task that has
// one): plain for timeouts, JSON-quoted for errors the SDK reports.
func errorText(steps engine.Steps, err error) string {
	if errors.Is(err, errTimeout) {
		return timeoutText(steps.ExecutionTimeout)
	}
	return quote(err.Error())
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Status reads the status of signature, chain or swarm id.
func (h *Harness) Status(ctx context.Context, id string) (hatchetflow.Status, error) {
	rec, err := h.Client.Signature(ctx, id)
	if errors.Is(err, hatchetflow.ErrNotASignature) {
		if sw, serr := h.Client.Swarm(ctx, id); serr == nil {
			return sw.Status, nil
		}
		ch, cerr := h.Client.Chain(ctx, id)
		if cerr != nil {
			return "", cerr
		}
		return ch.Status, nil
	}
	if err != nil {
		return "", err
	}
	return rec.Status, nil
}
