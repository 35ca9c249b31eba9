//lint:file-ignore SA1019 the durable context the SDK defines names these types, and an offline client takes these options

package flowtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	"github.com/hatchet-dev/hatchet/pkg/client/create"
	"github.com/hatchet-dev/hatchet/pkg/worker"
	"github.com/hatchet-dev/hatchet/pkg/worker/condition"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
)

// Hatchet returns a Hatchet client that never connects to an engine, for building the
// workflows a test registers with hatchetflow.RegisterWorkflow
// (h.Hatchet().NewWorkflow(name), then its tasks) exactly as the application builds
// them for a real worker. The harness runs such workflows in memory; nothing is ever
// sent through this client.
func (h *Harness) Hatchet() *hatchet.Client {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hatchet != nil {
		return h.hatchet
	}
	// The SDK reads its tenant from the token's claims and dials lazily: an unsigned
	// token on an unused port builds a client that never connects.
	enc := base64.RawURLEncoding.EncodeToString
	token := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(
		`{"sub":"00000000-0000-4000-8000-000000000000","server_url":"http://127.0.0.1:9","grpc_broadcast_address":"127.0.0.1:9","exp":4102444800}`)) + "."
	hc, err := hatchet.NewClient(v0client.WithToken(token), v0client.WithHostPort("127.0.0.1", 9), v0client.WithLogLevel("error"))
	if err != nil {
		h.t.Fatalf("flowtest: Hatchet: %v", err)
		return nil
	}
	h.hatchet = hc
	return hc
}

// errConditional is a workflow run's failure when one of its tasks has a condition.
var errConditional = errors.New("flowtest: the task has a condition (skip or wait), which only the engine evaluates; test such a workflow on the engine")

// executeWorkflow runs r, a run of a workflow of several tasks (RegisterWorkflow), as
// the engine would: each task after its parents, up to 1 + its retries attempts (fewer
// on a non-retryable error), each given its parents' outputs; then hatchetflow's end
// step; or, once a task failed for good, the on-failure step with that task's error.
// A task with a condition fails the run (only the engine evaluates conditions).
func (h *Harness) executeWorkflow(ctx context.Context, r *Run, steps engine.Steps) {
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	h.mu.Lock()
	r.stop = stop
	h.mu.Unlock()
	outputs := map[string]json.RawMessage{}
	failed, msg := "", ""
	for _, task := range steps.Tasks {
		for attempt := 0; ; attempt++ {
			h.setAttempts(r, attempt+1)
			var out any
			err := errConditional
			if !task.Conditional {
				tctx := h.context(rctx, r, task.Name, attempt, nil)
				tctx.outputs = outputs
				out, err = callTask(task, tctx)
			}
			if h.endIfCancelled(ctx, r, attempt) {
				return
			}
			if err == nil {
				raw, merr := json.Marshal(out)
				if merr == nil {
					outputs[task.Name] = raw
					break
				}
				err = hatchetflow.NonRetryable(merr)
			}
			h.mu.Lock()
			r.Errors = append(r.Errors, task.Name+": "+err.Error())
			h.mu.Unlock()
			h.logf("%s run %s: task %s attempt %d failed: %v", r.Task, r.ID, task.Name, attempt, err)
			if hatchetflow.IsNonRetryable(err) || errors.Is(err, errConditional) || attempt >= task.Retries {
				failed, msg = task.Name, err.Error()
				break
			}
		}
		if failed != "" {
			break
		}
	}
	if failed == "" {
		ectx := h.context(rctx, r, hatchetflow.EndTask, 0, nil)
		ectx.outputs = outputs
		out, err := steps.End(ectx, cloneJSON(r.Input))
		if h.endIfCancelled(ctx, r, 0) {
			return
		}
		if err == nil {
			h.finishMain(r, out)
			return
		}
		failed, msg = hatchetflow.EndTask, err.Error()
		h.mu.Lock()
		r.Errors = append(r.Errors, failed+": "+msg)
		h.mu.Unlock()
	}
	h.mu.Lock()
	r.Status = StatusFailed
	r.OnFailureRan = true
	r.stop = nil
	h.mu.Unlock()
	sc := h.context(rctx, r, "on-failure", 0, map[string]string{failed: msg})
	if _, err := steps.OnFailure(sc, cloneJSON(r.Input)); err != nil {
		h.logf("%s run %s: on-failure step failed: %v", r.Task, r.ID, err)
	}
	if failed == hatchetflow.EndTask {
		h.reconcile(ctx, r) // the end step's failure is not the workflow's: the reconciler settles it
	}
}

// callTask calls one task of a workflow, turning a panic into an error as the SDK does.
func callTask(task engine.WorkflowTask, tctx *Context) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("flowtest: task %s panicked: %v", task.Name, p)
		}
	}()
	if task.Durable {
		return nil, hatchetflow.NonRetryable(fmt.Errorf("flowtest: task %s is a durable task inside a workflow; test it on the engine", task.Name))
	}
	return task.Run(tctx)
}

// ParentOutput decodes the output of parent, a task of the same workflow run that
// completed, into target.
func (c *Context) ParentOutput(parent create.NamedTask, target any) error {
	return c.StepOutput(parent.GetName(), target)
}

// WasSkipped reports whether parent was skipped: never in the harness, which runs no
// conditional task.
func (c *Context) WasSkipped(create.NamedTask) bool { return false }

// SleepFor implements the durable context's sleep: in the harness it returns at once
// (time in a test is the harness's; see [Harness.FastForward]) unless ctx ended.
func (c *Context) SleepFor(time.Duration) (*worker.SingleWaitResult, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	return &worker.SingleWaitResult{}, nil
}

// SleepUntil is [Context.SleepFor] until t.
func (c *Context) SleepUntil(t time.Time) (*worker.SingleWaitResult, error) {
	return c.SleepFor(time.Until(t))
}

// ErrEngineOnly is returned by the durable context's event waits in the harness: only
// the engine delivers events to a durable task; test such a task on the engine.
var ErrEngineOnly = errors.New("flowtest: only the engine delivers events to a durable task's waits")

// WaitForEvent implements the durable context's event wait: [ErrEngineOnly].
func (c *Context) WaitForEvent(string, string, ...condition.UserEventConditionOpt) (*worker.SingleWaitResult, error) {
	return nil, ErrEngineOnly
}

// WaitFor implements the durable context's condition wait: [ErrEngineOnly].
func (c *Context) WaitFor(condition.Condition) (*worker.WaitResult, error) { return nil, ErrEngineOnly }

// Memo implements the durable context's memo: in the harness, which never replays a
// task, it calls fn and returns its result as JSON.
func (c *Context) Memo(_ string, fn func() (any, error)) (json.RawMessage, error) {
	v, err := fn()
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Now implements the durable context's clock: the wall clock.
func (c *Context) Now() (time.Time, error) { return time.Now(), nil }

// DurableTaskInvocationCount implements the context's replay count: 1, as the harness
// never evicts a task.
func (c *Context) DurableTaskInvocationCount() int32 { return 1 }

// InvocationCount implements the durable context's replay count: 1, as the harness
// never evicts a task.
func (c *Context) InvocationCount() int32 { return 1 }

var _ hatchet.DurableContext = (*Context)(nil)
