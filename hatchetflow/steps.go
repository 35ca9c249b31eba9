package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// FollowUpStep is the name of the step that dispatches success callbacks when the
// main step could not.
const FollowUpStep = "hatchetflow-follow-up"

// StepFunc is the shape of every step hatchetflow registers: input and output are JSON
// objects.
type StepFunc func(hctx hatchet.Context, input map[string]any) (map[string]any, error)

// Steps are the step functions of one registered task. The Hatchet wiring registers
// exactly these; the flowtest harness runs them in memory with a fake context. An
// engine must run Main; then FollowUp after Main succeeded, unless Main's output has
// "dispatched": true; and OnFailure once after any step failed for good. Errors made
// with [NonRetryable] must not be retried.
type Steps struct {
	// Task is the task name, also the main step's name.
	Task string
	// Retries is how many times the engine retries a failed main attempt.
	Retries int
	// ExecutionTimeout limits one main attempt; 0 means the engine's default.
	ExecutionTimeout time.Duration
	// Main runs the user function.
	Main StepFunc
	// FollowUp reads Main's output with hctx.StepOutput(Task, ...) and dispatches
	// success callbacks the main step could not.
	FollowUp StepFunc
	// OnFailure marks the signature failed and dispatches error callbacks; it reads
	// hctx.StepRunErrors().
	OnFailure StepFunc
}

// Steps returns the step functions of the registered task name.
func (c *Client) Steps(name string) (Steps, bool) {
	def, ok := c.localTask(name)
	if !ok {
		return Steps{}, false
	}
	return Steps{
		Task:             def.name,
		Retries:          def.cfg.retries,
		ExecutionTimeout: def.cfg.executionTimeout,
		Main:             c.mainStep(def),
		FollowUp:         c.followUpStep(def),
		OnFailure:        c.onFailureStep(def),
	}, true
}

// skipped is the main step's output when it must not run user code: nothing to
// dispatch, so the follow-up step is skipped too.
func skipped(reason string) map[string]any {
	out := inject.Envelope(nil, true)
	out["skipped"] = reason
	return out
}

func (c *Client) mainStep(def *taskDef) StepFunc {
	return func(hctx hatchet.Context, input map[string]any) (map[string]any, error) {
		ctx := hctx.GetContext()
		meta := hctx.AdditionalMetadata()
		sigID := meta[MetaSignature]
		if sigID == "" { // a plain Hatchet run: no Redis at all
			out, err := invoke(hctx, def, input)
			if err != nil {
				return nil, err
			}
			return inject.Envelope(out, true), nil
		}
		if !redisstore.ValidID(sigID) {
			return nil, NonRetryable(fmt.Errorf("%w: %q in run metadata %s", ErrInvalidSignatureID, sigID, MetaSignature))
		}
		runID := hctx.WorkflowRunId()
		var (
			outcome redisstore.StartOutcome
			rec     *redisstore.Record
		)
		err := c.retrying(ctx, "start", func() (err error) {
			outcome, rec, err = c.store.Start(ctx, sigID, runID, hctx.RetryCount()+1)
			return err
		})
		switch {
		case errors.Is(err, redisstore.ErrNotFound) && meta[MetaParent] != "":
			c.log.Warn("hatchetflow: callback signature expired or deleted; skipped",
				"signature", sigID, "parent", meta[MetaParent], "task", def.name)
			return skipped("signature not found"), nil
		case errors.Is(err, redisstore.ErrNotFound):
			return nil, NonRetryable(notFound(err))
		case err != nil:
			return nil, err
		}
		switch outcome {
		case redisstore.Busy, redisstore.AlreadyFailed:
			c.log.Info("hatchetflow: signature not runnable; user code not called",
				"signature", sigID, "status", rec.Status, "owner_run", rec.RunID, "run", runID)
			return skipped("signature " + string(rec.Status)), nil
		case redisstore.AlreadyDone:
			if rec.RunID != runID {
				return skipped("signature done"), nil
			}
			// A retry after this run finished: return the stored result, and let the
			// follow-up step dispatch whatever is left.
			return inject.Envelope(rec.Result, allDispatched(rec, redisstore.OutcomeSuccess)), nil
		}
		out, err := invoke(hctx, def, inject.Merge(input, rec.Kwargs))
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			// The engine cancelled or timed out this attempt and drops what it returns:
			// the signature must not be marked done behind the engine's back.
			return nil, err
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, NonRetryable(fmt.Errorf("hatchetflow: encode result of %q: %w", def.name, err))
		}
		// Fast path: dispatch success callbacks now; the follow-up step is the
		// engine-driven backstop when this does not complete.
		dispatched := true
		if err := c.succeed(ctx, sigID, runID, raw); err != nil {
			c.log.Warn("hatchetflow: fast-path dispatch incomplete; the follow-up step will finish it",
				"signature", sigID, "error", err)
			dispatched = false
		}
		return inject.Envelope(json.RawMessage(raw), dispatched), nil
	}
}

// CallObserver may be implemented by the hatchet.Context an engine passes to the main
// step (the flowtest harness does). Right before the user function is called,
// BeforeCall receives the message it will get: the input with bound kwargs merged. A
// non-nil error (or a panic) from BeforeCall is the attempt's outcome instead of the
// call, which is how a harness injects failures.
type CallObserver interface {
	BeforeCall(msg map[string]any) error
}

// invoke calls the user function, turning a decode failure into a non-retryable error
// and a panic into a [*PanicError].
func invoke(hctx hatchet.Context, def *taskDef, msg map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	if o, ok := hctx.(CallObserver); ok {
		if err := o.BeforeCall(msg); err != nil {
			return nil, err
		}
	}
	out, err = def.call(hctx, msg)
	var de *inject.DecodeError
	if errors.As(err, &de) {
		return nil, NonRetryable(fmt.Errorf("hatchetflow: task %q: %w", def.name, err))
	}
	return out, err
}

// succeed marks the signature done for runID with result and dispatches the success
// callbacks that have no marker yet.
func (c *Client) succeed(ctx context.Context, sigID, runID string, result json.RawMessage) error {
	tr, err := c.store.Finish(ctx, sigID, runID, result)
	if err != nil {
		return err
	}
	return c.fire(ctx, tr.Record, redisstore.OutcomeSuccess, func(cb redisstore.CallbackRef) map[string]any {
		return inject.SuccessInput(inject.Fields{Return: cb.ReturnField}, json.RawMessage(result))
	})
}

func (c *Client) followUpStep(def *taskDef) StepFunc {
	return func(hctx hatchet.Context, _ map[string]any) (map[string]any, error) {
		sigID := hctx.AdditionalMetadata()[MetaSignature]
		if sigID == "" || !redisstore.ValidID(sigID) {
			return map[string]any{}, nil
		}
		var out map[string]any
		if err := hctx.StepOutput(def.name, &out); err != nil {
			return nil, fmt.Errorf("hatchetflow: read output of %q: %w", def.name, err)
		}
		if d, _ := out[inject.DispatchedKey].(bool); d {
			return map[string]any{"skipped": true}, nil
		}
		raw, err := inject.Unenvelope(out)
		if err != nil {
			return nil, NonRetryable(err)
		}
		return c.finishSuccess(hctx, sigID, raw)
	}
}

// finishSuccess completes the success path from an engine step, retrying through
// short outages.
func (c *Client) finishSuccess(hctx hatchet.Context, sigID string, raw json.RawMessage) (map[string]any, error) {
	ctx := hctx.GetContext()
	err := c.retrying(ctx, "follow-up", func() error { return c.succeed(ctx, sigID, hctx.WorkflowRunId(), raw) })
	if errors.Is(err, redisstore.ErrNotFound) || errors.Is(err, redisstore.ErrTransition) {
		c.log.Warn("hatchetflow: nothing to dispatch", "signature", sigID, "error", err)
		return map[string]any{"skipped": true}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{inject.DispatchedKey: true}, nil
}

func (c *Client) onFailureStep(def *taskDef) StepFunc {
	return func(hctx hatchet.Context, input map[string]any) (map[string]any, error) {
		ctx := hctx.GetContext()
		sigID := hctx.AdditionalMetadata()[MetaSignature]
		if sigID == "" || !redisstore.ValidID(sigID) {
			return map[string]any{}, nil
		}
		runID := hctx.WorkflowRunId()
		stepErrs := hctx.StepRunErrors()
		mainErr, mainFailed := stepErrs[def.name]
		if !mainFailed {
			// The main step succeeded and the follow-up step failed for good: finish
			// the success path instead of reporting a failure.
			var out map[string]any
			if err := hctx.StepOutput(def.name, &out); err == nil {
				if raw, err := inject.Unenvelope(out); err == nil {
					return c.finishSuccess(hctx, sigID, raw)
				}
			}
			for _, e := range stepErrs {
				mainErr = e
			}
		}
		msg := cleanError(mainErr)
		var tr *redisstore.Transition
		err := c.retrying(ctx, "on-failure", func() (err error) {
			tr, err = c.store.Fail(ctx, sigID, runID, msg)
			return err
		})
		var te *redisstore.TransitionError
		switch {
		case errors.Is(err, redisstore.ErrNotFound):
			c.log.Warn("hatchetflow: failed signature expired or deleted; no error callbacks", "signature", sigID)
			return map[string]any{"skipped": true}, nil
		case errors.As(err, &te) && te.From == redisstore.StatusDone && te.OwnerRunID == runID:
			// This run's user function returned and the signature holds its result, but
			// the worker died before the engine heard of it and no retry was left, so the
			// engine failed the attempt: finish the success path, not the error one.
			c.log.Warn("hatchetflow: failed run had finished the signature; dispatching success callbacks",
				"signature", sigID, "run", runID, "error", msg)
			var rec *redisstore.Record
			if err := c.retrying(ctx, "on-failure read", func() (err error) {
				rec, err = c.store.Get(ctx, sigID)
				return err
			}); errors.Is(err, redisstore.ErrNotFound) {
				return map[string]any{"skipped": true}, nil
			} else if err != nil {
				return nil, err
			}
			return c.finishSuccess(hctx, sigID, rec.Result)
		case errors.As(err, &te):
			c.log.Info("hatchetflow: failure of a run that does not own the signature; ignored",
				"signature", sigID, "status", te.From, "owner_run", te.OwnerRunID, "run", runID)
			return map[string]any{"skipped": true}, nil
		case err != nil:
			return nil, err
		}
		original := inject.Merge(input, tr.Record.Kwargs)
		detail := &inject.TaskError{Task: def.name, SignatureID: sigID, RunID: runID,
			Attempt: max(tr.Record.Attempt, 1), Message: msg}
		err = c.retrying(ctx, "on-failure dispatch", func() error {
			return c.fire(ctx, tr.Record, redisstore.OutcomeError, func(cb redisstore.CallbackRef) map[string]any {
				return inject.ErrorInput(original, inject.Fields{Error: cb.ErrorField}, detail)
			})
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{inject.DispatchedKey: true}, nil
	}
}
