package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"strings"
	"time"

	"github.com/google/uuid"
	//lint:ignore SA1019 the SDK's event client takes these push options
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	"github.com/hatchet-dev/hatchet/pkg/worker"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/hatchetflow/go/internal/await"
	"github.com/hatchetflow/go/internal/sdkprobe"
	"github.com/hatchetflow/go/redisstore"
)

// ErrNoHatchet is returned by [Client.NewWorker] on a client made without a Hatchet
// client.
var ErrNoHatchet = errors.New("hatchetflow: no Hatchet client")

// WorkerOptions configures [Client.NewWorker]. A nil *WorkerOptions means defaults.
type WorkerOptions struct {
	// Workflows are other Hatchet workflows to register on the same worker (Hatchet
	// registers all of a worker's workflows in one call). Default none.
	Workflows []hatchet.WorkflowBase
	// Options are passed to hatchet.Client.NewWorker (slots, labels, logger...).
	// Default none. hatchet.WithWorkflows is refused here with a
	// [*ConflictingOptionError]: it replaces the worker's whole list; use Workflows.
	Options []hatchet.WorkerOption
}

// NewWorker writes the task registry to Redis and returns a Hatchet worker that runs
// every task registered on c (each a workflow with its main step, plus an on-failure
// step for a task registered with [WithOnFailureStep]), plus opts.Workflows. Start it
// with Start or StartBlocking.
//
// It also starts the client's reconciler (see [WithReconcileInterval]), which runs
// until ctx ends: pass a context that lives as long as the worker.
func (c *Client) NewWorker(ctx context.Context, name string, opts *WorkerOptions) (*hatchet.Worker, error) {
	if c.hatchet == nil {
		return nil, ErrNoHatchet
	}
	if opts == nil {
		opts = &WorkerOptions{}
	}
	if sdkprobe.WorkerSetsWorkflows(opts.Options) {
		return nil, &ConflictingOptionError{Task: name, Option: "workflows",
			Detail: "hatchet.WithWorkflows in WorkerOptions.Options would replace hatchetflow's workflows; pass them in WorkerOptions.Workflows"}
	}
	wfs, err := c.Workflows()
	if err != nil {
		return nil, err
	}
	if err := c.RegisterTasks(ctx); err != nil {
		return nil, err
	}
	wfs = append(wfs, opts.Workflows...)
	w, err := c.hatchet.NewWorker(name, append(opts.Options, hatchet.WithWorkflows(wfs...))...)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: new worker %q: %w", name, err)
	}
	if c.cfg.ReconcileInterval > 0 || c.cfg.SwarmWatch > 0 {
		c.reconciler.once.Do(func() { go c.reconcileLoop(ctx) })
	}
	return w, nil
}

// Workflows returns the Hatchet workflows of every task registered on c (each with its
// main step, plus an on-failure step for a task registered with [WithOnFailureStep]),
// for a worker the application builds itself next to its
// plain Hatchet workflows:
//
//	wfs, err := flow.Workflows()
//	err = flow.RegisterTasks(ctx) // the registry producers sign against
//	w, err := hc.NewWorker("app", hatchet.WithWorkflows(append(wfs, myWorkflow)...))
//
// After Workflows (or [Client.NewWorker]), [NewTask] returns [ErrRegistrationClosed]:
// a task registered later would be served by no worker. It returns [ErrNoHatchet] on a
// client made without a Hatchet client.
func (c *Client) Workflows() ([]hatchet.WorkflowBase, error) {
	if c.hatchet == nil {
		return nil, ErrNoHatchet
	}
	c.mu.Lock()
	c.workerBuilt = true
	c.mu.Unlock()
	var wfs []hatchet.WorkflowBase
	for _, def := range c.registeredTasks() {
		wf, err := c.workflow(def)
		if err != nil {
			return nil, err
		}
		wfs = append(wfs, wf)
	}
	return wfs, nil
}

// workflow builds the Hatchet workflow of one task: its main step (a durable task for
// NewDurableTask) and, only when the task asked for one (WithOnFailureStep, or the
// internal swarm task), Hatchet's on-failure step. A workflow of several tasks
// (RegisterWorkflow) is the user's, with hatchetflow's end and on-failure tasks added.
func (c *Client) workflow(def *taskDef) (*hatchet.Workflow, error) {
	if def.signed != nil {
		return c.signedHatchetWorkflow(def)
	}
	steps, _ := c.steps(def.name)
	wf := c.hatchet.NewWorkflow(def.name, def.cfg.hatchetWorkflow...)
	opts := []hatchet.TaskOption{hatchet.WithRetries(def.cfg.retries)}
	if def.cfg.executionTimeout > 0 {
		opts = append(opts, hatchet.WithExecutionTimeout(def.cfg.executionTimeout))
	}
	if def.cfg.scheduleTimeout > 0 {
		opts = append(opts, hatchet.WithScheduleTimeout(def.cfg.scheduleTimeout))
	}
	opts = append(opts, def.cfg.hatchetTask...)
	main := c.forHatchet(steps.Main, true)
	if def.kind == redisstore.KindDurable {
		wf.NewDurableTask(def.name, func(dctx hatchet.DurableContext, in map[string]any) (json.RawMessage, error) {
			return main(dctx, in)
		}, opts...)
	} else {
		wf.NewTask(def.name, main, opts...)
	}
	if steps.OnFailure != nil {
		wf.OnFailure(c.forHatchet(steps.OnFailure, false))
	}
	return wf, nil
}

// forHatchet adapts a step to the SDK: non-retryable errors become the SDK's, and a
// main step (guarded) runs under an attempt guard (guard.go), which checks the SDK's
// cancel with the engine before the attempt obeys it. The step leaves the guarded
// context in the SDK's context: it has ended exactly when the cancel was confirmed,
// so the SDK drops the result of a cancelled attempt and reports the result of an
// attempt that a stale cancel reached.
func (c *Client) forHatchet(fn engine.StepFunc, guarded bool) func(hatchet.Context, map[string]any) (json.RawMessage, error) {
	rc, _ := c.dispatcher.(engine.RunChecker)
	return func(hctx hatchet.Context, in map[string]any) (json.RawMessage, error) {
		c.running.start()
		defer c.running.done()
		if guarded {
			gctx, g := guardAttempt(hctx.GetContext(), rc, c.log, hctx.WorkflowRunId())
			hctx.SetContext(gctx)
			defer g.release()
		}
		out, err := fn(hctx, in)
		if err != nil && IsNonRetryable(err) {
			//lint:ignore SA1019 the SDK's only non-retryable marker; its own examples use it
			return nil, worker.NewNonRetryableError(err)
		}
		return out, err
	}
}

// hatchetDispatcher triggers independent runs by name on a Hatchet
// The engine contract the Hatchet adapter implements.
var (
	_ engine.Dispatcher       = (*hatchetDispatcher)(nil)
	_ engine.ChildDispatcher  = (*hatchetDispatcher)(nil)
	_ engine.OptionDispatcher = (*hatchetDispatcher)(nil)
	_ engine.Waiter           = (*hatchetDispatcher)(nil)
	_ engine.RunChecker       = (*hatchetDispatcher)(nil)
	_ engine.Canceller        = (*hatchetDispatcher)(nil)
	_ engine.RunInputReader   = (*hatchetDispatcher)(nil)
	_ engine.RunLister        = (*hatchetDispatcher)(nil)
	_ engine.Signaller        = (*hatchetDispatcher)(nil)
)

type hatchetDispatcher struct {
	h *hatchet.Client
	// setRefusal sets a RunError's Cause from the record of the run's signature (see
	// Client.setRefusal).
	setRefusal func(ctx context.Context, sigID string, re *RunError) error
}

// Dispatch implements [engine.Dispatcher]. The SDK's trigger call ignores ctx, so the wait
// for it honours ctx here (the trigger may still land after ctx ended).
func (d *hatchetDispatcher) Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	return await.Do(ctx, func() (string, error) {
		// A plain context: a hatchet.Context would make the run a child of the caller.
		ref, err := d.h.RunNoWait(context.WithoutCancel(ctx), task, input, hatchet.WithRunMetadata(meta))
		if err != nil {
			return "", err
		}
		return ref.RunId, nil
	})
}

// DispatchChild implements [engine.ChildDispatcher]: a run triggered with the task's context
// is its child, and the engine returns the first child's id for a key it saw from the
// same parent task, on any attempt.
func (d *hatchetDispatcher) DispatchChild(hctx hatchet.Context, task string, input map[string]any, meta map[string]string, key string) (string, error) {
	return await.Do(hctx.GetContext(), func() (string, error) {
		ref, err := d.h.RunNoWait(hctx, task, input, hatchet.WithRunMetadata(meta), hatchet.WithRunKey(key))
		if err != nil {
			return "", err
		}
		return ref.RunId, nil
	})
}

// DispatchWith implements [engine.OptionDispatcher] with the SDK's run options.
func (d *hatchetDispatcher) DispatchWith(ctx context.Context, task string, input map[string]any, meta map[string]string, opts *engine.RunOptions) (string, error) {
	ro := []hatchet.RunOptFunc{hatchet.WithRunMetadata(meta)}
	if opts.Priority > 0 {
		ro = append(ro, hatchet.WithRunPriority(hatchet.RunPriority(opts.Priority)))
	}
	if opts.Sticky {
		ro = append(ro, hatchet.WithRunSticky(true))
	}
	if len(opts.DesiredWorkerLabels) > 0 {
		ro = append(ro, hatchet.WithDesiredWorkerLabels(opts.DesiredWorkerLabels))
	}
	return await.Do(ctx, func() (string, error) {
		ref, err := d.h.RunNoWait(context.WithoutCancel(ctx), task, input, ro...)
		if err != nil {
			return "", err
		}
		return ref.RunId, nil
	})
}

// runError sets re's Cause from the record of the signature the run's metadata names,
// if any, and returns re (joined with the store's error when the record cannot be
// read).
func (d *hatchetDispatcher) runError(ctx context.Context, meta json.RawMessage, re *RunError) error {
	var m map[string]any
	if d.setRefusal == nil || json.Unmarshal(meta, &m) != nil {
		return re
	}
	sigID, _ := m[engine.MetaSignature].(string)
	if !redisstore.ValidID(sigID) {
		return re
	}
	if err := d.setRefusal(ctx, sigID, re); err != nil {
		return errors.Join(re, err)
	}
	return re
}

// Wait implements [engine.Waiter] by polling the run's details (the SDK's Result ignores
// ctx), from 10 ms up to 250 ms between polls.
func (d *hatchetDispatcher) Wait(ctx context.Context, runID, task string) (json.RawMessage, error) {
	id, err := uuid.Parse(runID)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: run id %q: %w", runID, err)
	}
	pause := poll.New(10*time.Millisecond, 250*time.Millisecond)
	for {
		det, err := d.h.Runs().GetDetails(ctx, id)
		if err == nil {
			for name, tr := range det.TaskRuns {
				if tr == nil || !strings.EqualFold(name, task) {
					continue
				}
				switch tr.Status {
				case rest.V1TaskStatusCOMPLETED:
					return json.RawMessage(tr.Output), nil
				case rest.V1TaskStatusFAILED, rest.V1TaskStatusCANCELLED:
					msg := string(tr.Status)
					if tr.Error != nil {
						msg = *tr.Error
					}
					return nil, d.runError(ctx, det.AdditionalMetadata, newRunError(runID, task, msg, tr.Status == rest.V1TaskStatusCANCELLED))
				}
			}
			if det.Done && det.Status != rest.V1TaskStatusCOMPLETED {
				// The task never ran (a workflow of several tasks failed before it): the
				// run's error is the error of the task that failed.
				msg, failed := string(det.Status), task
				for name, tr := range det.TaskRuns {
					if tr != nil && tr.Error != nil && *tr.Error != "" {
						msg, failed = *tr.Error, name
						break
					}
				}
				return nil, d.runError(ctx, det.AdditionalMetadata, newRunError(runID, failed, msg, det.Status == rest.V1TaskStatusCANCELLED))
			}
		}
		if err := pause.Wait(ctx); err != nil {
			return nil, fmt.Errorf("hatchetflow: wait for run %s: %w", runID, err)
		}
	}
}

// EndedRuns implements [engine.RunLister] with the REST API's run list: the workflow
// runs created since q.Since that failed or were cancelled (and completed, when asked),
// 500 a page, without payloads.
func (d *hatchetDispatcher) EndedRuns(ctx context.Context, q engine.RunQuery) ([]engine.EndedRun, error) {
	statuses := []rest.V1TaskStatus{rest.V1TaskStatusFAILED, rest.V1TaskStatusCANCELLED}
	if q.Completed {
		statuses = append(statuses, rest.V1TaskStatusCOMPLETED)
	}
	noPayloads := false
	limit, offset := int64(500), int64(0)
	params := rest.V1WorkflowRunListParams{Since: q.Since, Statuses: &statuses, IncludePayloads: &noPayloads,
		Limit: &limit, Offset: &offset}
	if q.EngineSettled {
		params.AdditionalMetadata = &[]string{engine.MetaSettle + ":" + engine.SettleByEngine}
	}
	var out []engine.EndedRun
	for {
		page, err := d.h.Runs().List(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rows {
			switch r.Status {
			case rest.V1TaskStatusCOMPLETED, rest.V1TaskStatusFAILED, rest.V1TaskStatusCANCELLED:
			default:
				continue // not ended, whatever the filter asked for
			}
			e := engine.EndedRun{RunID: r.WorkflowRunExternalId.String(),
				Succeeded: r.Status == rest.V1TaskStatusCOMPLETED, Cancelled: r.Status == rest.V1TaskStatusCANCELLED}
			if r.AdditionalMetadata != nil {
				e.SignatureID, _ = (*r.AdditionalMetadata)[engine.MetaSignature].(string)
				settle, _ := (*r.AdditionalMetadata)[engine.MetaSettle].(string)
				e.EngineSettled = settle == engine.SettleByEngine
			}
			if r.ErrorMessage != nil {
				e.Message = *r.ErrorMessage
			}
			if r.FinishedAt != nil {
				e.EndedAt = *r.FinishedAt
			}
			out = append(out, e)
		}
		if int64(len(page.Rows)) < limit {
			return out, nil
		}
		offset += limit
	}
}

// RunStatus implements [engine.RunChecker] with the run's details.
func (d *hatchetDispatcher) RunStatus(ctx context.Context, runID string) (engine.RunStatus, error) {
	id, err := uuid.Parse(runID)
	if err != nil {
		return engine.RunStatus{}, fmt.Errorf("hatchetflow: run id %q: %w", runID, err)
	}
	det, err := d.h.Runs().GetDetails(ctx, id)
	if err != nil {
		return engine.RunStatus{}, err
	}
	st := engine.RunStatus{}
	switch det.Status {
	case rest.V1TaskStatusCOMPLETED:
		st.Ended, st.Succeeded = true, true
	case rest.V1TaskStatusCANCELLED:
		st.Ended, st.Cancelled = true, true
	case rest.V1TaskStatusFAILED:
		st.Ended = true
	}
	if !st.Ended && det.Done {
		st.Ended = true
	}
	for _, tr := range det.TaskRuns {
		if tr != nil && tr.Error != nil && *tr.Error != "" {
			st.Message = *tr.Error
		}
		if tr != nil && tr.IsEvicted {
			st.Evicted = true
		}
	}
	if st.Message == "" {
		st.Message = string(det.Status)
	}
	return st, nil
}

// CancelRuns implements [engine.Canceller] with the REST API's cancel (hatchet-api). The
// engine cancels each run's tasks: a running attempt's ctx is done.
func (d *hatchetDispatcher) CancelRuns(ctx context.Context, runIDs []string) error {
	ids := make([]uuid.UUID, 0, len(runIDs))
	for _, r := range runIDs {
		id, err := uuid.Parse(r)
		if err != nil {
			return fmt.Errorf("hatchetflow: run id %q: %w", r, err)
		}
		ids = append(ids, id)
	}
	_, err := d.h.Runs().Cancel(ctx, rest.V1CancelTaskRequest{ExternalIds: &ids})
	return err
}

// Signal implements [engine.Signaller] with a Hatchet event push: the event's key is
// event (the SDK adds the client's namespace), its scope key and its data payload.
func (d *hatchetDispatcher) Signal(ctx context.Context, event, key string, payload map[string]any) error {
	return d.h.Events().Push(ctx, event, payload, v0client.WithFilterScope(&key))
}

// RunInput implements [engine.RunInputReader] with the run's details.
func (d *hatchetDispatcher) RunInput(ctx context.Context, runID string) (json.RawMessage, error) {
	id, err := uuid.Parse(runID)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: run id %q: %w", runID, err)
	}
	det, err := d.h.Runs().GetDetails(ctx, id)
	if err != nil {
		return nil, err
	}
	return det.Input, nil
}
