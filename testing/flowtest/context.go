package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// stepContext is the hatchet.Context the harness passes to steps. It implements the
// methods hatchetflow's steps and typical task code use; the embedded nil interface
// makes any other method panic with a nil-pointer error naming it.
type stepContext struct {
	hatchet.Context
	ctx     context.Context
	h       *Harness
	run     *Run
	step    string
	attempt int
	errs    map[string]string
	outputs map[string]map[string]any
}

func (c *stepContext) Deadline() (time.Time, bool)           { return c.ctx.Deadline() }
func (c *stepContext) Done() <-chan struct{}                 { return c.ctx.Done() }
func (c *stepContext) Err() error                            { return c.ctx.Err() }
func (c *stepContext) Value(key any) any                     { return c.ctx.Value(key) }
func (c *stepContext) GetContext() context.Context           { return c.ctx }
func (c *stepContext) SetContext(ctx context.Context)        { c.ctx = ctx }
func (c *stepContext) AdditionalMetadata() map[string]string { return maps.Clone(c.run.Meta) }
func (c *stepContext) WorkflowRunId() string                 { return c.run.ID }
func (c *stepContext) StepRunId() string                     { return fmt.Sprintf("%s/%s/%d", c.run.ID, c.step, c.attempt) }
func (c *stepContext) StepName() string                      { return c.step }
func (c *stepContext) ActionId() string                      { return c.run.Task + ":" + c.step }
func (c *stepContext) RetryCount() int                       { return c.attempt }
func (c *stepContext) StepRunErrors() map[string]string      { return maps.Clone(c.errs) }
func (c *stepContext) TenantId() string                      { return "flowtest" }
func (c *stepContext) WorkerId() string                      { return "flowtest" }
func (c *stepContext) Log(msg string)                        { c.h.logf("%s %s: %s", c.run.Task, c.step, msg) }
func (c *stepContext) RefreshTimeout(string) error           { return nil }
func (c *stepContext) ReleaseSlot() error                    { return nil }
func (c *stepContext) Priority() int32                       { return 1 }
func (c *stepContext) PutStream(string)                      {}
func (c *stepContext) StreamEvent([]byte)                    {}

// WorkflowInput decodes the run's input into target.
func (c *stepContext) WorkflowInput(target any) error { return into(c.run.Input, target) }

// StepOutput decodes the output of an earlier step of the run into target.
func (c *stepContext) StepOutput(step string, target any) error {
	out, ok := c.outputs[step]
	if !ok {
		return fmt.Errorf("flowtest: step %q has no output in run %s", step, c.run.ID)
	}
	return into(out, target)
}

// BeforeCall implements hatchetflow.CallObserver: it records what the user function
// receives and applies an injected fault.
func (c *stepContext) BeforeCall(msg map[string]any) error {
	c.h.mu.Lock()
	c.run.Received = cloneJSON(msg)
	f, ok := c.h.faults[faultKey{c.run.Task, c.attempt}]
	c.h.mu.Unlock()
	if !ok {
		return nil
	}
	return f.apply()
}

func into(v any, target any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, target)
}
