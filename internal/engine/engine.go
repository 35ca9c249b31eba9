// Package engine is the contract between hatchetflow's lifecycle and an engine: the
// Hatchet adapter in package hatchetflow implements it against a real engine, and
// flowtest's harness in memory. User code never needs it.
//
// # Contract
//
// An engine dispatches runs ([Dispatcher], with [ChildDispatcher] and
// [OptionDispatcher] for child runs and per-run options), may schedule them for later
// ([Scheduler]), wait for them
// ([Waiter]), cancel them ([Canceller]), report their status ([RunChecker]) and
// input ([RunInputReader]), trigger many in one call ([BatchDispatcher]), find the
// runs of a parent ([RunFinder]) and list the ended ones ([RunLister]), and runs the
// [Steps] of each registered task. An
// in-memory engine that runs work only when asked is a [Stepper].
//
// # Reaching a client's machinery
//
// [Config] is what hatchetflow.Option configures; [WithDispatcher] and [Expose] are
// options for harnesses and tools inside this module.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	//lint:ignore SA1019 hatchet.NewClient takes exactly these options; batched dispatch takes the same
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/hatchetflow/go/redisstore"
)

// Dispatcher triggers a run of a task by name, with an input object and additional
// metadata, and returns the run id. It is the one thing the lifecycle needs from an
// engine; the Hatchet client is the production one, flowtest's runs in memory.
type Dispatcher interface {
	Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (runID string, err error)
}

// Waiter is implemented by dispatchers that can wait for a run: it returns the main
// step's output once that step completed (see inject.WrapOutput), or the run's error
// (a *hatchetflow.RunError).
type Waiter interface {
	Wait(ctx context.Context, runID, task string) (json.RawMessage, error)
}

// ChildDispatcher is implemented by dispatchers that can trigger a run as a child of a
// running task, de-duplicated by key across the task's retries (Hatchet does, per
// parent task and key). It is for engines and harnesses.
type ChildDispatcher interface {
	DispatchChild(hctx hatchet.Context, task string, input map[string]any, meta map[string]string, key string) (runID string, err error)
}

// OptionDispatcher is implemented by dispatchers that take per-run options. It is for
// engines and harnesses.
type OptionDispatcher interface {
	DispatchWith(ctx context.Context, task string, input map[string]any, meta map[string]string, opts *RunOptions) (runID string, err error)
}

// Scheduler is implemented by engines that can create a run later (Hatchet's
// schedules, served by its REST API, hatchet-api). Schedule returns the id of the
// schedule, not of a run: the engine creates the run, with input, meta and opts, at
// at, and its id is known only then. Unschedule deletes a schedule, so that its run is
// never created; a schedule that fired already has its run, which it leaves alone. It
// is for engines and harnesses.
type Scheduler interface {
	Schedule(ctx context.Context, task string, input map[string]any, meta map[string]string, at time.Time, opts *RunOptions) (scheduleID string, err error)
	Unschedule(ctx context.Context, scheduleID string) error
}

// Run is one run of a batch: the task to run, its input object and its metadata.
type Run struct {
	Task  string
	Input map[string]any
	Meta  map[string]string
}

// BatchDispatcher is implemented by dispatchers that trigger many runs in one engine
// call (Hatchet's BulkTriggerWorkflow). DispatchBatch returns the run ids in the order
// of runs. An error that wraps [ErrBatchRefused] means the engine created none of
// them; after any other error it is unknown which were created (a [RunFinder] can
// tell).
type BatchDispatcher interface {
	DispatchBatch(ctx context.Context, runs []Run) (runIDs []string, err error)
}

// ErrBatchRefused is wrapped by a [BatchDispatcher]'s error when no run of the batch
// was created: the engine answered with an error, or the batch was never sent.
var ErrBatchRefused = errors.New("hatchetflow: the engine refused the batch; none of its runs was created")

// RunFinder is implemented by engines that can find the runs created since a time
// whose metadata names parent ([MetaParent]), whatever their status: it maps each
// run's signature ([MetaSignature]) to the run. The engine's list may lag behind its
// triggers by a moment.
type RunFinder interface {
	RunsOf(ctx context.Context, since time.Time, parent string) (map[string]string, error)
}

// Canceller is implemented by dispatchers that can cancel engine runs: the Hatchet
// dispatcher with the REST API's cancel (served by hatchet-api).
type Canceller interface {
	CancelRuns(ctx context.Context, runIDs []string) error
}

// RunStatus is what a [RunChecker] reports of an engine run.
type RunStatus struct {
	// Ended is true once the run completed, failed or was cancelled; Succeeded when it
	// completed; Cancelled when it was cancelled.
	Ended, Succeeded, Cancelled bool
	// Evicted is true while a durable task of the run is evicted from its worker: the
	// run goes on (it has not ended), and the engine restores the task, replaying it,
	// once what it waits for came. The attempt the SDK cancelled to evict it must stop.
	Evicted bool
	// Message is a failed run's error.
	Message string
}

// RunChecker is implemented by dispatchers that can report a run's status: the swarm
// watcher checks items whose events were lost against it.
type RunChecker interface {
	RunStatus(ctx context.Context, runID string) (RunStatus, error)
}

// RunInputReader is implemented by dispatchers that can read a run's input (the
// Hatchet dispatcher, from the run's details).
type RunInputReader interface {
	RunInput(ctx context.Context, runID string) (json.RawMessage, error)
}

// Stepper is implemented by in-memory dispatchers (flowtest's harness) that run queued
// work only when asked: waiting for a swarm steps them.
type Stepper interface {
	Step(ctx context.Context) bool
}

// StepFunc is the shape of every step hatchetflow registers: the input is a JSON
// object, the output raw JSON (an object or null, as the engine requires).
type StepFunc func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error)

// Steps are the step functions of one registered task. They are for engines and
// harnesses: the Hatchet wiring registers exactly these, and the flowtest harness runs
// them in memory with a fake context. An engine must run Main (retrying it up to
// Retries times, never for errors made with hatchetflow.NonRetryable), and OnFailure,
// when there is one, once after Main failed for good. Main's output is the task's return value (see
// inject.WrapOutput).
type Steps struct {
	// Task is the task name, also the main step's name.
	Task string
	// Retries is how many times the engine retries a failed main attempt.
	Retries int
	// ExecutionTimeout limits one main attempt; 0 means the engine's default.
	ExecutionTimeout time.Duration
	// Main runs the user function, then finishes the signature and dispatches its
	// success callbacks.
	Main StepFunc
	// Tasks, for a workflow of several tasks (hatchetflow.RegisterWorkflow), are the
	// user's tasks, each after its parents, and End is hatchetflow's end task, which
	// runs once they all completed; Main is then nil, and OnFailure runs when a task
	// failed for good (StepRunErrors names it). On a real engine they are the
	// workflow's own tasks; a harness runs them in memory.
	Tasks []WorkflowTask
	End   StepFunc
	// OnFailure, nil unless the task asked for one (hatchetflow.WithOnFailureStep),
	// marks the signature failed and dispatches error callbacks; it reads
	// hctx.StepRunErrors(). When the failed run had finished the signature (its worker
	// died after the user function returned), it dispatches the success callbacks
	// instead. Without it, Main ends the signature on its last attempt.
	OnFailure StepFunc
}

// WorkflowTask is one user task of a workflow of several tasks, for harnesses that
// run the workflow in memory.
type WorkflowTask struct {
	// Name is the task's name; Parents the tasks it runs after.
	Name    string
	Parents []string
	// Retries is how many times a failed attempt is retried.
	Retries int
	// Conditional is true when the task has conditions (skip or wait), which only
	// the engine evaluates.
	Conditional bool
	// Durable is true for a durable task.
	Durable bool
	// Run calls the task's function; it reads the run's input with WorkflowInput and
	// its parents' outputs with ParentOutput.
	Run func(hctx hatchet.Context) (any, error)
}

// CallObserver may be implemented by the hatchet.Context an engine passes to the main
// step (the flowtest harness does). Right before the user function is called,
// BeforeCall receives the message it will get: the input with bound kwargs merged. A
// non-nil error (or a panic) from BeforeCall is the attempt's outcome instead of the
// call, which is how a harness injects failures.
type CallObserver interface {
	BeforeCall(msg map[string]any) error
}

// RunOptions are the per-run options an [OptionDispatcher] applies: hatchetflow's
// RunOptions, checked.
type RunOptions struct {
	// Priority is 1 (lowest) to 3 (highest); 0 is the workflow's default.
	Priority int
	// Metadata are the caller's own metadata keys (also in the run's metadata).
	Metadata map[string]string
	// Sticky keeps the run on its parent's worker.
	Sticky bool
	// DesiredWorkerLabels route the run to workers with these labels.
	DesiredWorkerLabels map[string]*hatchet.DesiredWorkerLabel
	// StartAfter is the delay a [Scheduler] was asked for (0 for a run dispatched at
	// once); harnesses keep it for assertions.
	StartAfter time.Duration
}

// Metadata keys hatchetflow puts on the runs it dispatches.
const (
	// MetaSignature holds the signature id a run executes.
	MetaSignature = "hatchetflow_signature"
	// MetaParent holds the id of the signature whose callback this run is.
	MetaParent = "hatchetflow_parent"
	// MetaTraceParent holds the W3C traceparent of the span that dispatched the run
	// (a callback's "hatchetflow.dispatch" span). It is not Hatchet's own
	// "traceparent" key, which the engine and SDK set and may replace: the run's span
	// is a child of Hatchet's traceparent when there is one and links to this one.
	MetaTraceParent = "hatchetflow_traceparent"
	// MetaTraceState holds the W3C tracestate that goes with [MetaTraceParent], when
	// the dispatching span has one.
	MetaTraceState = "hatchetflow_tracestate"
	// MetaSettle, with the value [SettleByEngine], marks a run of a task that no
	// hatchetflow step runs (a plain Hatchet task, another language's): the reconciler
	// settles its signature from the run's status and output.
	MetaSettle = "hatchetflow_settle"
	// SettleByEngine is the value of [MetaSettle].
	SettleByEngine = "engine"
	// MetaWaitSince, on a run of hatchetflow's wait task, is when the wait began (unix
	// milliseconds): signals pushed since count, and the timeout runs from it.
	MetaWaitSince = "hatchetflow_wait_since"
)

// EventWait is one wait of hatchetflow's wait task for an outside event.
type EventWait struct {
	// Event is the event's name and Key the key (Hatchet's event scope) it is
	// signalled for.
	Event, Key string
	// Since is when the wait began: a signal pushed since then releases it.
	Since time.Time
	// Timeout is how long after Since the wait ends without a signal.
	Timeout time.Duration
}

// EventWaiter may be implemented by the hatchet.Context an engine passes to the wait
// task's step (the flowtest harness does; on Hatchet the step waits through the
// durable context). WaitEvent returns the payload of the signal that released w, or
// released false when w timed out. A harness that cannot answer yet returns
// [ErrWaitParked].
type EventWaiter interface {
	WaitEvent(w EventWait) (payload map[string]any, released bool, err error)
}

// ErrWaitParked is returned by an [EventWaiter] that parks the run instead of
// blocking: the wait task's step returns it as it is, and the harness runs the run
// again once a signal or its timeout came, when WaitEvent answers.
var ErrWaitParked = errors.New("hatchetflow: the run waits for an event")

// Signaller is implemented by engines that can push an outside event: the Hatchet
// dispatcher pushes a Hatchet event named event with scope key and payload as its
// data; the flowtest harness releases the waits that match.
type Signaller interface {
	Signal(ctx context.Context, event, key string, payload map[string]any) error
}

// Staller is implemented by in-memory engines ([Stepper]) that can tell when
// waiting for signature id cannot end without the caller acting (its run waits for an
// event and nothing is queued): Stalled then returns an error saying so, else nil.
type Staller interface {
	Stalled(id string) error
}

// Machinery is what a client shows the harnesses and tools of this module: its store,
// its dispatcher and the steps of its registered tasks.
type Machinery struct {
	// Store is the client's Redis store.
	Store *redisstore.Store
	// Dispatcher is the dispatcher the client triggers runs with.
	Dispatcher Dispatcher
	// Steps returns the step functions of a registered task.
	Steps func(task string) (Steps, bool)
	// SettleCancel settles run runID of signature sigID once the engine reports it
	// cancelled: the signature, if the run still owns it, is cancelled with its error
	// path. The main step runs it after an attempt whose context ended early.
	SettleCancel func(ctx context.Context, sigID, runID string)
	// Reconcile is one pass of the client's reconciler (see [RunLister]).
	Reconcile func(ctx context.Context) error
}

// Config is what hatchetflow.Option sets. Its zero value is not usable: hatchetflow.New
// fills the defaults before applying options.
type Config struct {
	// StoreOptions configure the client's redisstore.Store.
	StoreOptions []redisstore.Option
	// OptionErrors are the errors of options given values they cannot work with:
	// hatchetflow.New returns the first.
	OptionErrors []error
	// Logger is the client's logger.
	Logger *slog.Logger
	// Dispatcher replaces the Hatchet dispatcher (see [WithDispatcher]).
	Dispatcher Dispatcher
	// MaxKwargs bounds a signature's bound kwargs, in bytes (0: no limit).
	MaxKwargs int
	// RegistryTTL, StepRetryTime and SwarmWatch are the client's intervals.
	RegistryTTL, StepRetryTime, SwarmWatch time.Duration
	// Tracers and Meters are the OpenTelemetry providers.
	Tracers trace.TracerProvider
	Meters  metric.MeterProvider
	// ReconcileInterval is how often a worker's reconciler runs; 0 or less: never.
	ReconcileInterval time.Duration
	// Expose, when set, receives the client's [Machinery] once it is built.
	Expose *Machinery
	// BulkOptions configure the Hatchet client batched dispatch triggers with (nil:
	// from the environment); BulkOff turns batched dispatch off.
	//lint:ignore SA1019 as above
	BulkOptions []v0client.ClientOpt
	BulkOff     bool
}

// WithDispatcher is an option for hatchetflow.New (a func(*Config) converts to
// hatchetflow.Option) that makes the client trigger runs through d instead of a
// Hatchet client: flowtest's harness, tools that only read Redis.
func WithDispatcher(d Dispatcher) func(*Config) { return func(c *Config) { c.Dispatcher = d } }

// Expose is an option for hatchetflow.New that fills m with the client's
// [Machinery] when the client is built.
func Expose(m *Machinery) func(*Config) { return func(c *Config) { c.Expose = m } }

// EndedRun is an engine run that ended: completed, failed or cancelled.
type EndedRun struct {
	// RunID is the run; SignatureID the signature its metadata names ("" if none).
	RunID, SignatureID string
	// Succeeded is true when the run completed, Cancelled when it was cancelled;
	// neither when it failed.
	Succeeded, Cancelled bool
	// EngineSettled is true when the run carries [MetaSettle].
	EngineSettled bool
	// Message is a failed run's error, as the engine's list reports it ("" when the
	// list leaves it out: the reconciler then reads it with the [RunChecker]).
	Message string
	// EndedAt is when the run ended, as the engine's list reports it (zero when
	// unknown).
	EndedAt time.Time
}

// RunQuery says which ended runs a [RunLister] lists.
type RunQuery struct {
	// Since is the earliest creation time of the runs listed.
	Since time.Time
	// Completed lists completed runs too; failed and cancelled ones are always listed.
	Completed bool
	// EngineSettled lists only the runs dispatched with [MetaSettle] (the runs no
	// hatchetflow step settles).
	EngineSettled bool
}

// RunLister is implemented by engines that can list the runs created since a time
// that ended. The reconciler reads it for failed and cancelled runs, and for the
// ended runs marked [MetaSettle] (whose outputs it reads through the [Waiter]), so its
// cost follows failures, cancels and the runs of tasks no hatchetflow step runs, not
// the number of healthy hatchetflow runs.
type RunLister interface {
	EndedRuns(ctx context.Context, q RunQuery) ([]EndedRun, error)
}

// TimeoutMessage is the engine's error text for an attempt that exceeded its execution
// timeout d (0: the engine's default, 60 s). Hatchet counts whole seconds; a shorter
// d (flowtest's harness takes any) is written as a Go duration.
func TimeoutMessage(d time.Duration) string {
	if d <= 0 {
		d = 60 * time.Second
	}
	if d < time.Second {
		return "Task exceeded timeout of " + d.String()
	}
	return fmt.Sprintf("Task exceeded timeout of %ds", int(d.Seconds()))
}
