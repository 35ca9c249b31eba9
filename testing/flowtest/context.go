package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/internal/engine"
)

// ContextOptions configures a [Context] made by [NewContext]. A nil *ContextOptions
// means defaults.
type ContextOptions struct {
	// Task is the task (and step) name the context reports. Default "task".
	Task string
	// RunID is the workflow run id. Default "flowtest-run".
	RunID string
	// RetryCount is the 0-based attempt number. Default 0.
	RetryCount int
	// Metadata is the run's additional metadata. Default none.
	Metadata map[string]string
	// Input is what WorkflowInput decodes. Default none.
	Input map[string]any
	// StepErrors is what StepRunErrors returns. Default none.
	StepErrors map[string]string
}

// Context is a fake hatchet.Context: the one the harness passes to steps, and, made
// with [NewContext], one a test passes to a single handler to call it directly. It
// implements the methods listed in the package documentation; any other method panics
// with a nil-pointer error naming it.
type Context struct {
	hatchet.Context
	ctx     context.Context
	task    string
	runID   string
	step    string
	attempt int
	meta    map[string]string
	input   map[string]any
	errs    map[string]string
	outputs map[string]json.RawMessage
	logf    func(format string, args ...any)
	// before is the harness's hook for a main step's call of the user function; wait
	// its answer to the wait task's event waits (eventwait.go).
	before func(msg map[string]any) error
	wait   func(w engine.EventWait) (map[string]any, bool, error)
}

var _ hatchet.Context = (*Context)(nil)

// NewContext returns a fake hatchet.Context on ctx, for calling a task's handler
// directly in a test: out, err := handler(flowtest.NewContext(ctx, nil), input).
func NewContext(ctx context.Context, opts *ContextOptions) *Context {
	if opts == nil {
		opts = &ContextOptions{}
	}
	c := &Context{ctx: ctx, task: opts.Task, runID: opts.RunID, attempt: opts.RetryCount,
		meta: maps.Clone(opts.Metadata), input: cloneJSON(opts.Input), errs: maps.Clone(opts.StepErrors),
		logf: func(string, ...any) {}}
	if c.task == "" {
		c.task = "task"
	}
	if c.runID == "" {
		c.runID = "flowtest-run"
	}
	c.step = c.task
	if c.meta == nil {
		c.meta = map[string]string{}
	}
	return c
}

func (c *Context) Deadline() (time.Time, bool)           { return c.ctx.Deadline() }
func (c *Context) Done() <-chan struct{}                 { return c.ctx.Done() }
func (c *Context) Err() error                            { return c.ctx.Err() }
func (c *Context) Value(key any) any                     { return c.ctx.Value(key) }
func (c *Context) GetContext() context.Context           { return c.ctx }
func (c *Context) SetContext(ctx context.Context)        { c.ctx = ctx }
func (c *Context) AdditionalMetadata() map[string]string { return maps.Clone(c.meta) }
func (c *Context) WorkflowRunId() string                 { return c.runID }
func (c *Context) StepRunId() string                     { return fmt.Sprintf("%s/%s/%d", c.runID, c.step, c.attempt) }
func (c *Context) StepName() string                      { return c.step }
func (c *Context) ActionId() string                      { return c.task + ":" + c.step }
func (c *Context) RetryCount() int                       { return c.attempt }
func (c *Context) StepRunErrors() map[string]string      { return maps.Clone(c.errs) }
func (c *Context) TenantId() string                      { return "flowtest" }
func (c *Context) WorkerId() string                      { return "flowtest" }
func (c *Context) Log(msg string)                        { c.logf("%s %s: %s", c.task, c.step, msg) }
func (c *Context) RefreshTimeout(string) error           { return nil }
func (c *Context) ReleaseSlot() error                    { return nil }
func (c *Context) Priority() int32                       { return 1 }
func (c *Context) PutStream(string)                      {}
func (c *Context) StreamEvent([]byte)                    {}

// WorkflowInput decodes the run's input into target.
func (c *Context) WorkflowInput(target any) error { return into(c.input, target) }

// StepOutput decodes the output of an earlier step of the run into target.
func (c *Context) StepOutput(step string, target any) error {
	out, ok := c.outputs[step]
	if !ok {
		return fmt.Errorf("flowtest: step %q has no output in run %s", step, c.runID)
	}
	return json.Unmarshal(out, target)
}

// BeforeCall implements the engine contract's CallObserver: in the harness it records what the
// user function receives and applies an injected fault; on a context from
// [NewContext] it does nothing.
func (c *Context) BeforeCall(msg map[string]any) error {
	if c.before == nil {
		return nil
	}
	return c.before(msg)
}

func into(v any, target any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, target)
}
