package hatchetflow

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"reflect"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/sdkprobe"
	"github.com/hatchetflow/go/redisstore"
)

// Task is a typed task registered through hatchetflow: a Hatchet workflow with the
// user's function as its main step, which dispatches the success callbacks and, on
// the run's last attempt, the error callbacks. By default that is the workflow's only
// task; [WithOnFailureStep] adds Hatchet's on-failure step, which then dispatches the
// error callbacks instead. Sign it with dsl.Sign(task).
type Task[I, O any] struct {
	def *taskDef
	c   *Client
}

// TaskName returns the name the task is registered under.
func (t *Task[I, O]) TaskName() string { return t.def.name }

// TaskOption configures a task at registration.
type TaskOption func(*taskConfig)

type taskConfig struct {
	retries          int
	retriesSet       bool
	executionTimeout time.Duration
	scheduleTimeout  time.Duration
	hatchetTask      []hatchet.TaskOption
	hatchetWorkflow  []hatchet.WorkflowOption
	onFailureStep    bool
	// standing is the standing signature (one; more is refused by NewTask).
	standing []dsl.Builder
}

// WithStandingSignature gives every run of the task that carries no signature of its
// own a signature made from b: the runs a cron starts
// (hatchet.WithWorkflowCron through [WithHatchetWorkflowOptions]), the runs an event
// starts (hatchet.WithWorkflowEvents) and the runs a plain Hatchet caller starts
// (hatchet.Client.RunNoWait with the task's name). b must sign the task itself:
//
//	hatchetflow.WithStandingSignature(dsl.Sign("nightly-report").With(dsl.KW{"format": "pdf"}).
//		OnSuccess(dsl.Sign("mail-report")).OnError(dsl.Sign("page-oncall")))
//
// The main step of such a run saves b as a new signature, whose id
// [StandingSignatureID] derives from the run id (a retry, or a second worker, finds it
// saved and writes nothing), and runs it as any signed run: its bound kwargs are
// merged over the run's input, its success callbacks get the return value, its error
// callbacks fire once after the last attempt failed, [Client.Cancel] and
// [Client.Suspend] work on it, and it is listed by [Client.List] and the inspector. It
// costs the run two Redis round trips more than a plain run (the save, then the
// start). A run that never reached the main step (cancelled, or timed out, in the
// queue) saved no signature and gets no callbacks. Runs that carry a signature (the
// task signed with dsl.Sign, run as a callback or a chain step) use that one.
//
// [NewTask] refuses, with a [*StandingSignatureError], a b of another task (it also
// matches [ErrWrongTask]), made with Validate, waiting for an event (After),
// referring to saved signatures, with kwargs the task's input schema rejects, or a
// second WithStandingSignature;
// [Client.NewWorker] refuses a b whose callbacks would not save (an unknown task, a
// callback that does not fit). Default: none, and a run without a signature is a plain
// Hatchet run that touches no Redis.
func WithStandingSignature(b dsl.Builder) TaskOption {
	return func(c *taskConfig) { c.standing = append(c.standing, b) }
}

// WithOnFailureStep gives the task's Hatchet workflow an on-failure step, an
// engine-driven error path: when the engine fails a run for good, it runs the step,
// which ends the signature (error callbacks once, with the original message). This was
// every task's shape before the lean one became the default.
//
// Default: no on-failure step, the lean shape (one task per workflow, which the engine
// runs with less work per run). An attempt that fails, panics or times out and is its
// run's last (a non-retryable error, or the function already ran 1 + retries times for
// the run) ends the signature itself before it returns its error; an attempt beyond the
// retries ends it without calling user code. A failure no attempt could end (a worker
// lost with no retry left, an attempt that hung past its timeout, a worker lost inside
// the failure path) is ended, once the engine has failed the run, by the reconciler a
// worker hosts, within its interval ([WithReconcileInterval]). A cancel on the engine
// runs no on-failure step in either shape.
//
// Ask for the step when no worker runs the reconciler (every worker sets
// WithReconcileInterval(0)) yet such failures must still reach the error callbacks, or
// when the engine itself should drive the error path. It costs a two-task workflow per
// run and one more engine task per failed run (docs/design.md, "Engine shape").
func WithOnFailureStep() TaskOption { return func(c *taskConfig) { c.onFailureStep = true } }

// WithRetries sets how many times the engine retries a failed attempt. Default 0.
// Error callbacks run once, after the last attempt.
func WithRetries(n int) TaskOption {
	return func(c *taskConfig) { c.retries, c.retriesSet = n, true }
}

// WithExecutionTimeout limits one attempt. Default: Hatchet's (60 s). The engine sends
// whole seconds.
func WithExecutionTimeout(d time.Duration) TaskOption {
	return func(c *taskConfig) { c.executionTimeout = d }
}

// WithScheduleTimeout limits how long a run may wait for a worker. Default: Hatchet's
// (5 min).
func WithScheduleTimeout(d time.Duration) TaskOption {
	return func(c *taskConfig) { c.scheduleTimeout = d }
}

// WithHatchetTaskOptions passes options to the main step's Hatchet task: concurrency,
// rate limits, backoff and the like. Retries and timeouts set here are what the task
// uses (the registry and flowtest included); setting one here and with [WithRetries],
// [WithExecutionTimeout] or [WithScheduleTimeout] to different values is a
// [*ConflictingOptionError].
func WithHatchetTaskOptions(opts ...hatchet.TaskOption) TaskOption {
	return func(c *taskConfig) { c.hatchetTask = append(c.hatchetTask, opts...) }
}

// WithHatchetWorkflowOptions passes options to the task's Hatchet workflow: workflow
// concurrency, events, crons, priority and the like.
func WithHatchetWorkflowOptions(opts ...hatchet.WorkflowOption) TaskOption {
	return func(c *taskConfig) { c.hatchetWorkflow = append(c.hatchetWorkflow, opts...) }
}

// taskDef is the type-erased form of a registered task.
type taskDef struct {
	name string
	// kind is the registry's kind (redisstore.KindTask, KindDurable, KindWorkflow).
	kind   string
	cfg    taskConfig
	fields inject.Fields
	schema json.RawMessage
	// output is the return value's schema (nil when it has none); inType and outType
	// name the Go types.
	output          json.RawMessage
	inType, outType string
	// call decodes msg into the task's input type and runs the user function. A
	// decode failure is returned as *inject.DecodeError.
	call func(hctx hatchet.Context, msg map[string]any) (any, error)
	// steps, when set, gives an internal task's own main and on-failure steps.
	steps func(def *taskDef) (main, onFailure engine.StepFunc)
	// signed is a workflow of several tasks (kind KindWorkflow): the user's Hatchet
	// workflow, which hatchetflow's end and on-failure steps are added to.
	signed *signedWorkflow
}

func (d *taskDef) registryEntry() redisstore.TaskDef {
	return redisstore.TaskDef{Name: d.name, Schema: d.schema, ReturnField: d.fields.Return,
		ErrorField: d.fields.Error, OutcomeField: d.fields.Outcome, SignalField: d.fields.Signal, Retries: d.cfg.retries, Output: d.output,
		InputType: d.inType, OutputType: d.outType, Kind: d.kind}
}

// NewTask registers fn as task name on c. I is the input type (a struct, a map or
// any: every message is a JSON object, so other types are refused with
// [ErrInputNotObject]), O the return type (any JSON value). A handler of the wrong
// shape does not compile. Register every task before [Client.NewWorker]; after it,
// NewTask returns [ErrRegistrationClosed].
func NewTask[I, O any](c *Client, name string, fn func(ctx hatchet.Context, in I) (O, error), opts ...TaskOption) (*Task[I, O], error) {
	if fn == nil {
		return nil, fmt.Errorf("hatchetflow: NewTask %q: nil function", name)
	}
	return register[I, O](c, name, redisstore.KindTask, opts, func(hctx hatchet.Context, in I) (any, error) {
		return fn(hctx, in)
	})
}

// register is the one registration of a task of any kind: it checks the types, makes
// the schemas and adds the task to c. call runs the user function (nil for a workflow
// of several tasks, which hatchetflow runs no main step of).
func register[I, O any](c *Client, name, kind string, opts []TaskOption, call func(hatchet.Context, I) (any, error)) (*Task[I, O], error) {
	if name == "" {
		return nil, fmt.Errorf("hatchetflow: register: empty task name")
	}
	var cfg taskConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.adoptHatchetSettings(name); err != nil {
		return nil, err
	}
	inType := reflect.TypeFor[I]()
	if !decodesObject(inType) {
		return nil, fmt.Errorf("%w: task %q takes %s (use a struct, a map with string keys, or any)", ErrInputNotObject, name, inType)
	}
	schema, err := inject.SchemaOf(inType)
	if err != nil {
		return nil, wrap(err, "register %q: input schema", name)
	}
	outType := reflect.TypeFor[O]()
	if err := c.checkStanding(&cfg, name, schema); err != nil {
		return nil, err
	}
	// A return type with no JSON Schema (say, with a func field) leaves the output
	// unknown: callbacks are then not checked against it.
	output, _ := inject.SchemaOf(outType)
	def := &taskDef{
		name:    name,
		kind:    kind,
		cfg:     cfg,
		fields:  inject.FieldsOf(inType),
		schema:  schema,
		output:  output,
		inType:  inType.String(),
		outType: outType.String(),
	}
	if call != nil {
		def.call = func(hctx hatchet.Context, msg map[string]any) (any, error) {
			in, err := inject.Decode[I](msg)
			if err != nil {
				return nil, err
			}
			return call(hctx, in)
		}
	}
	if err := c.addTask(def); err != nil {
		return nil, err
	}
	return &Task[I, O]{def: def, c: c}, nil
}

// addTask adds def to the tasks registered on c.
func (c *Client) addTask(def *taskDef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.workerBuilt {
		return fmt.Errorf("%w: task %q", ErrRegistrationClosed, def.name)
	}
	if _, dup := c.tasks[def.name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateTask, def.name)
	}
	c.tasks[def.name] = def
	c.order = append(c.order, def.name)
	return nil
}

// RegisterTasks checks the Redis layout (redisstore.Layout: a Redis written by a newer
// release gives an error matching redisstore.ErrLayoutTooNew, and nothing is written),
// writes the registry entries of every task registered on c (name → input schema,
// return field, retries) to Redis in one command, so producers elsewhere can sign them
// by name, loads the store's Lua scripts, and checks the standing
// signatures ([WithStandingSignature]) as Save would check them, writing nothing: a
// callback of an unknown task, or one that does not fit, is a
// [*StandingSignatureError]. [Client.NewWorker] calls it.
func (c *Client) RegisterTasks(ctx context.Context) error {
	if _, err := c.store.CheckLayout(ctx); err != nil {
		return err // a newer release's Redis: this worker must not write to it
	}
	defs := c.registeredTasks()
	entries := make([]redisstore.TaskDef, len(defs))
	for i, d := range defs {
		entries[i] = d.registryEntry()
	}
	if err := c.store.RegisterTasks(ctx, entries); err != nil {
		return err
	}
	if err := c.store.LoadScripts(ctx); err != nil {
		return err
	}
	return c.checkStandingTrees(ctx)
}

// adoptHatchetSettings makes the retries and timeouts given through
// WithHatchetTaskOptions the task's own, so the registry and flowtest agree with the
// engine, and refuses values that disagree with hatchetflow's own options.
func (c *taskConfig) adoptHatchetSettings(task string) error {
	set := sdkprobe.Task(c.hatchetTask)
	if r := set.Retries; r != nil {
		if c.retriesSet && *r != c.retries {
			return &ConflictingOptionError{Task: task, Option: "retries",
				Detail: fmt.Sprintf("WithRetries(%d) and hatchet.WithRetries(%d)", c.retries, *r)}
		}
		c.retries, c.retriesSet = *r, true
	}
	for _, d := range []struct {
		name string
		got  *time.Duration
		own  *time.Duration
	}{{"execution timeout", set.ExecutionTimeout, &c.executionTimeout}, {"schedule timeout", set.ScheduleTimeout, &c.scheduleTimeout}} {
		if d.got == nil {
			continue
		}
		if *d.own != 0 && *d.own != *d.got {
			return &ConflictingOptionError{Task: task, Option: d.name,
				Detail: fmt.Sprintf("hatchetflow's %s and hatchet's %s", *d.own, *d.got)}
		}
		*d.own = *d.got
	}
	return nil
}

// decodesObject reports whether a JSON object can decode into t: structs, maps with
// string (or text-like) keys, interfaces, and pointers to those.
func decodesObject(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Interface:
		return true
	case reflect.Map:
		k := t.Key().Kind()
		return k == reflect.String || (k >= reflect.Int && k <= reflect.Uint64) ||
			reflect.PointerTo(t.Key()).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
	}
	return reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]())
}
