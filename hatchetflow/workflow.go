package hatchetflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// EndTask is the name of the task hatchetflow adds to a workflow registered with
// [RegisterWorkflow]: its parents are the workflow's final tasks (those no other task
// depends on), and it ends the run's signature with their outputs. A workflow may not
// have a task of its own with this name.
const EndTask = "hatchetflow-end"

// endTaskRetries is how many times the engine retries the end task: it only writes to
// Redis and dispatches, each idempotent, so a retry after a lost worker or an outage
// longer than the step retry time completes what the attempt before left.
const endTaskRetries = 5

// ErrWorkflowShape is returned by [RegisterWorkflow] (or, for what only the complete
// workflow shows, by [Client.Workflows] and [Client.NewWorker]) for a workflow that
// cannot be signed: nil, no tasks, or a task named [EndTask].
var ErrWorkflowShape = errors.New("hatchetflow: the workflow cannot be signed")

// signedWorkflow is the user's Hatchet workflow of a task registered with
// RegisterWorkflow, and the steps hatchetflow adds to it, once.
type signedWorkflow struct {
	wf   *hatchet.Workflow
	once sync.Once
	err  error
}

// RegisterWorkflow registers wf, a Hatchet workflow of several tasks built with the
// SDK's workflow builder (parents, conditions and durable tasks included), so it can
// be signed like a task: by the name it was built with (without the client's
// namespace, which wf.GetName includes), or dsl.Sign(t) with the returned task, which
// also runs it typed (Task.Run).
//
// I is the workflow's input type (every task of wf receives the message: the input
// with the signature's bound kwargs merged over it, as the dispatch sends it). O is
// the type of the workflow's result: a JSON object with one field per final task (a
// task no other task depends on), named by the task and holding its output; a final
// task that was skipped (a skip condition held) is left out. Success callbacks get
// that object in their return field, so a callback can take it typed with
// inject.ReturnValue[O].
//
// The engine drives both ends. hatchetflow adds to wf a task named [EndTask] whose
// parents are wf's final tasks: once they all completed (or were skipped), it ends the
// signature with their outputs and dispatches the success callbacks, on whichever
// worker the engine gives it, retried by the engine if that worker is lost. It also
// sets wf's on-failure task: when a task of wf fails for good, it fails the signature
// and dispatches the error callbacks, whose [inject.TaskError] names the failed task
// in Step. An on-failure task the application set on wf before it was registered
// still runs, after hatchetflow's. A run cancelled on the engine cancels the
// signature through the reconciler, as for any task.
//
// The steps are added when the worker is built ([Client.NewWorker] or
// [Client.Workflows]); add every task to wf before that. A workflow of several tasks
// is a signature's task like any other: a root, a callback, a chain step, a swarm
// item. A run of wf that carries no signature (a plain Hatchet caller) runs as
// before; hatchetflow's end task then does nothing.
func RegisterWorkflow[I, O any](c *Client, wf *hatchet.Workflow) (*Task[I, O], error) {
	if wf == nil {
		return nil, fmt.Errorf("%w: nil workflow", ErrWorkflowShape)
	}
	req, _, _, _ := wf.Dump()
	if len(req.Tasks) == 0 {
		return nil, fmt.Errorf("%w: workflow %q has no tasks", ErrWorkflowShape, wf.GetName())
	}
	t, err := register[I, O](c, c.unqualified(wf.GetName()), redisstore.KindWorkflow, nil, nil)
	if err != nil {
		return nil, err
	}
	t.def.signed = &signedWorkflow{wf: wf}
	return t, nil
}

// unqualified returns a workflow's name without the Hatchet client's namespace, which
// GetName includes: tasks are signed and dispatched by the name they were given (the
// SDK adds the namespace when it triggers a run).
func (c *Client) unqualified(name string) string {
	return strings.TrimPrefix(name, c.namespace())
}

// namespace returns the Hatchet client's namespace, the prefix the SDK puts on
// workflow names and event keys ("" without a Hatchet client).
func (c *Client) namespace() string {
	if c.hatchet == nil {
		return ""
	}
	const probe = "x"
	return strings.TrimSuffix(c.hatchet.NewWorkflow(probe).GetName(), probe)
}

// workflowSteps returns the steps of a registered workflow for harnesses that run it
// in memory (engine.Steps.Tasks): the user's tasks as the workflow declares them
// (hatchetflow's end task left out), the end step and the on-failure step.
func (c *Client) workflowSteps(def *taskDef) engine.Steps {
	req, regular, durable, _ := def.signed.wf.Dump()
	s := engine.Steps{Task: def.name, End: c.endStep(def, finalTasks(def.signed.wf)), OnFailure: c.workflowFailureStep(def)}
	for i, opts := range req.Tasks {
		if opts.ReadableId == EndTask {
			continue
		}
		t := engine.WorkflowTask{Name: opts.ReadableId, Parents: opts.Parents, Retries: int(opts.GetRetries()),
			Conditional: hasConditions(opts.GetConditions().GetParentOverrideConditions(),
				opts.GetConditions().GetSleepConditions(), opts.GetConditions().GetUserEventConditions())}
		if i < len(regular) {
			t.Run = regular[i].Fn
		} else {
			t.Run, t.Durable = durable[i-len(regular)].Fn, true
		}
		s.Tasks = append(s.Tasks, t)
	}
	return s
}

// hasConditions reports whether a task's condition lists hold any condition.
func hasConditions[A, B, C any](a []A, b []B, c []C) bool { return len(a)+len(b)+len(c) > 0 }

// finalTasks returns the names of the tasks of a workflow that no other task lists as
// a parent (hatchetflow's end task aside), sorted.
func finalTasks(wf *hatchet.Workflow) []string {
	req, _, _, _ := wf.Dump()
	parent := map[string]bool{}
	for _, t := range req.Tasks {
		if t.ReadableId == EndTask {
			continue // added by hatchetflow, after the final tasks
		}
		for _, p := range t.Parents {
			parent[p] = true
		}
	}
	var out []string
	for _, t := range req.Tasks {
		if !parent[t.ReadableId] && t.ReadableId != EndTask {
			out = append(out, t.ReadableId)
		}
	}
	sort.Strings(out)
	return out
}

// signedHatchetWorkflow adds hatchetflow's end and on-failure tasks to the workflow of
// def (once) and returns it.
func (c *Client) signedHatchetWorkflow(def *taskDef) (*hatchet.Workflow, error) {
	s := def.signed
	s.once.Do(func() {
		req, _, _, theirs := s.wf.Dump()
		for _, t := range req.Tasks {
			if t.ReadableId == EndTask {
				s.err = fmt.Errorf("%w: workflow %q has a task named %q, which hatchetflow adds", ErrWorkflowShape, def.name, EndTask)
				return
			}
		}
		finals := finalTasks(s.wf)
		// The SDK names a parent by a *hatchet.Task, which only a workflow's NewTask
		// makes: a scratch workflow, never registered, makes the references.
		scratch := c.hatchet.NewWorkflow(def.name + "/parents")
		parents := make([]*hatchet.Task, len(finals))
		for i, name := range finals {
			parents[i] = scratch.NewTask(name, func(hatchet.Context, any) (any, error) { return nil, nil })
		}
		s.wf.NewTask(EndTask, c.forHatchet(c.endStep(def, finals), false),
			hatchet.WithParents(parents...), hatchet.WithRetries(endTaskRetries))
		failure := c.forHatchet(c.workflowFailureStep(def), false)
		s.wf.OnFailure(func(hctx hatchet.Context, input map[string]any) (any, error) {
			out, err := failure(hctx, input)
			if theirs == nil {
				return out, err
			}
			theirOut, theirErr := theirs(hctx)
			return theirOut, errors.Join(err, theirErr)
		})
	})
	return s.wf, s.err
}

// taskName names a task of the running workflow, for the SDK's parent lookups.
type taskName string

// GetName implements the SDK's named task.
func (n taskName) GetName() string { return string(n) }

// endStep is the step of [EndTask]: it collects the outputs of the final tasks that
// ran (keyed by task name) and ends the signature with them, starting it when no step
// did (see Client.endByRun).
func (c *Client) endStep(def *taskDef, finals []string) engine.StepFunc {
	return c.traced(def, "hatchetflow.end", false, func(hctx hatchet.Context, _ map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		sigID := hctx.AdditionalMetadata()[engine.MetaSignature]
		if sigID == "" {
			return skippedOutput, nil // a run with no signature: nothing to end
		}
		if !redisstore.ValidID(sigID) {
			return nil, NonRetryable(fmt.Errorf("%w: %q in run metadata %s", ErrInvalidSignatureID, sigID, engine.MetaSignature))
		}
		outputs := make(map[string]json.RawMessage, len(finals))
		for _, name := range finals {
			if hctx.WasSkipped(taskName(name)) {
				continue
			}
			var out json.RawMessage
			if err := hctx.ParentOutput(taskName(name), &out); err != nil {
				return nil, NonRetryable(fmt.Errorf("hatchetflow: output of task %q of workflow %q: %w", name, def.name, err))
			}
			outputs[name] = out
		}
		result, err := json.Marshal(outputs)
		if err != nil {
			return nil, NonRetryable(fmt.Errorf("hatchetflow: encode the result of workflow %q: %w", def.name, err))
		}
		runID := hctx.WorkflowRunId()
		err = c.retrying(ctx, "end", func() error {
			rec, err := c.store.Get(ctx, sigID)
			if err != nil {
				return err
			}
			return c.endByRun(ctx, rec, runID, result)
		})
		if errors.Is(err, redisstore.ErrNotFound) {
			c.log.Warn("hatchetflow: signature not found; no callbacks", "signature", sigID, "task", def.name, "run", runID)
			return skippedOutput, nil
		}
		if err != nil {
			return nil, err
		}
		return dispatchedOutput, nil
	})
}

// workflowFailureStep is the on-failure step of a registered workflow: it fails the
// signature with the first failed task's error (by task name) and dispatches the error
// callbacks, whose detail names that task in Step. A failure of hatchetflow's own end
// task (its retries spent: Redis unreachable for minutes) is not the workflow's: the
// signature is left for the reconciler, which fails it with the run's error.
func (c *Client) workflowFailureStep(def *taskDef) engine.StepFunc {
	return c.traced(def, "hatchetflow.on_failure", false, func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		sigID := hctx.AdditionalMetadata()[engine.MetaSignature]
		if sigID == "" || !redisstore.ValidID(sigID) {
			return skippedOutput, nil
		}
		stepErrs := hctx.StepRunErrors()
		names := make([]string, 0, len(stepErrs))
		for name := range stepErrs {
			if name != EndTask {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return skippedOutput, nil
		}
		slices.Sort(names)
		step := names[0]
		msg := cleanError(stepErrs[step])
		runID := hctx.WorkflowRunId()
		bg := ctx
		err := c.retrying(bg, "on-failure", func() error {
			return c.failRecord(bg, sigID, runID, msg, input, inject.TaskError{Step: step})
		})
		if errors.Is(err, redisstore.ErrNotFound) {
			c.log.Warn("hatchetflow: failed signature expired or deleted; no error callbacks", "signature", sigID)
			return skippedOutput, nil
		}
		if err != nil {
			return nil, err
		}
		c.tel.ended(ctx, def.name, outcomeFailure)
		return dispatchedOutput, nil
	})
}
