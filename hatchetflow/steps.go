package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"runtime/debug"
	"slices"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// steps returns the step functions of the registered task name.
func (c *Client) steps(name string) (engine.Steps, bool) {
	def, ok := c.localTask(name)
	if !ok {
		return engine.Steps{}, false
	}
	if def.signed != nil { // a workflow of several tasks has no main step
		return c.workflowSteps(def), true
	}
	s := engine.Steps{Task: def.name, Retries: def.cfg.retries, ExecutionTimeout: def.cfg.executionTimeout}
	if def.steps != nil {
		s.Main, s.OnFailure = def.steps(def)
	} else {
		s.Main, s.OnFailure = c.mainStep(def), c.onFailureStep(def)
	}
	if !def.cfg.onFailureStep {
		s.OnFailure = nil // the lean shape: the last attempt and the reconciler end failures
	}
	return s, true
}

// skippedOutput is the on-failure step's output when it had nothing to do.
var skippedOutput = json.RawMessage(`{"skipped":true}`)

// dispatchedOutput is the on-failure step's output after it dispatched callbacks.
var dispatchedOutput = json.RawMessage(`{"dispatched":true}`)

func (c *Client) mainStep(def *taskDef) engine.StepFunc {
	return c.traced(def, "hatchetflow.run", true, func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		meta := hctx.AdditionalMetadata()
		sigID, standing := runSignature(hctx, def)
		if sigID == "" { // a plain Hatchet run: no Redis at all
			out, err := invoke(hctx, def, input)
			if err != nil {
				return nil, err
			}
			raw, err := encodeResult(def, out)
			if err != nil {
				return nil, err
			}
			return def.stepOutput(raw), nil
		}
		if !redisstore.ValidID(sigID) {
			return nil, NonRetryable(fmt.Errorf("%w: %q in run metadata %s", ErrInvalidSignatureID, sigID, engine.MetaSignature))
		}
		runID := hctx.WorkflowRunId()
		if standing { // a run with no signature of its own: save the task's standing one
			if err := c.saveStanding(ctx, def, runID); err != nil {
				return nil, err
			}
		}
		var (
			outcome redisstore.StartOutcome
			rec     *redisstore.Record
		)
		held, _ := json.Marshal(input) // kept only if the signature is suspended
		maxCalls := def.cfg.retries + 1
		if def.kind == redisstore.KindDurable && hctx.DurableTaskInvocationCount() > 1 {
			maxCalls = 0 // a restored durable task replays the same attempt (durable.go)
		}
		applied := false // Start applied on the master but not on the replicas (WithReplicaAcks)
		err := c.retrying(ctx, "start", func() (err error) {
			if applied { // running Start again would count one more call: wait instead
				return c.store.AwaitReplicas(ctx, sigID)
			}
			outcome, rec, err = c.store.StartWithInput(ctx, sigID, runID, hctx.RetryCount()+1, held, maxCalls)
			applied = errors.Is(err, redisstore.ErrReplication) && rec != nil
			return err
		})
		switch {
		case errors.Is(err, redisstore.ErrNotFound):
			nf := &SignatureNotFoundError{ID: sigID, Callback: meta[engine.MetaParent] != ""}
			c.log.Warn("hatchetflow: signature not found; user code not called",
				"signature", sigID, "parent", meta[engine.MetaParent], "task", def.name, "run", runID)
			return nil, NonRetryable(nf)
		case err != nil:
			return nil, err
		}
		switch {
		case outcome == redisstore.Exhausted:
			// The engine's over-retry, or a lost worker's reassigned attempt
			// (docs/reliability.md): the user function ran 1 + retries times for this
			// run already. The error is not retried; this attempt ends the signature
			// through the failure path (with an on-failure step, that step does, once).
			c.log.Warn("hatchetflow: attempt beyond the task's retries; user code not called",
				"signature", sigID, "run", runID, "attempt", hctx.RetryCount()+1, "retries", def.cfg.retries)
			err := &RetriesExhaustedError{Task: def.name, Attempt: hctx.RetryCount() + 1, Retries: def.cfg.retries}
			c.endLastAttempt(ctx, def, sigID, runID, input, err.Error())
			return nil, NonRetryable(err)
		case outcome == redisstore.Held:
			c.log.Info("hatchetflow: signature suspended; run held for Resume, user code not called",
				"signature", sigID, "run", runID)
			return nil, NonRetryable(&SuspendedError{ID: sigID})
		case outcome == redisstore.AlreadyDone && rec.RunID == runID:
			// A retry after this run finished the signature (its worker died, or the
			// dispatch could not complete): dispatch what is left and return the stored
			// result without calling user code again.
			if err := c.retrying(ctx, "finish", func() error { return c.succeed(ctx, rec, runID, rec.Result, input) }); err != nil {
				return nil, err
			}
			return def.stepOutput(rec.Result), nil
		case outcome == redisstore.AlreadyFailed && rec.RunID == runID && !def.cfg.onFailureStep:
			// A retry (or a lost worker's reassignment) after this run's last attempt
			// failed the signature: dispatch what its failure path left undone.
			bg := context.WithoutCancel(ctx)
			if err := c.retrying(bg, "fail", func() error { return c.failRecord(bg, sigID, runID, rec.Error, input, inject.TaskError{}) }); err != nil {
				c.log.Warn("hatchetflow: cannot complete a failed signature's error path; the reconciler will",
					"signature", sigID, "run", runID, "error", err)
			}
			return nil, NonRetryable(&NotPendingError{ID: sigID, Status: rec.Status, RunID: rec.RunID})
		case outcome != redisstore.Started && outcome != redisstore.Resumed:
			c.log.Info("hatchetflow: signature not runnable; user code not called",
				"signature", sigID, "status", rec.Status, "owner_run", rec.RunID, "run", runID)
			return nil, NonRetryable(&NotPendingError{ID: sigID, Status: rec.Status, RunID: rec.RunID})
		}
		if outcome == redisstore.Started && rec.FirstLeaf && len(rec.Containers) > 0 {
			// A chain's first step starts the chain: its record says active (one more
			// round trip, once per chain; the chain's later moves ride on the markers).
			ups := make([]redisstore.ContainerUpdate, len(rec.Containers))
			for i, chain := range rec.Containers {
				ups[i] = redisstore.ContainerUpdate{ID: chain, Status: StatusActive}
			}
			if err := c.retrying(ctx, "start chain", func() error { return c.store.UpdateContainers(ctx, ups) }); err != nil {
				return nil, err
			}
		}
		timeout := def.cfg.executionTimeout
		if timeout <= 0 {
			timeout = 60 * time.Second // Hatchet's default
		}
		started := time.Now()
		// The attempt's own deadline: the engine's cancel for a timed-out attempt can
		// reach the next attempt instead (the SDK keys cancels by step run id, which
		// attempts share; the attempt guard keeps such a cancel from ending the next
		// attempt), so the user context ends at this attempt's timeout whatever the
		// SDK does, and an attempt past it never finishes the signature (the next
		// attempt has the same run id, so the start CAS cannot tell them apart).
		uctx, cancel := context.WithDeadline(ctx, started.Add(timeout))
		hctx.SetContext(uctx)
		out, err := invoke(hctx, def, inject.Merge(input, rec.Kwargs))
		// If the SDK cancelled the attempt, wait for the engine's word on it (guard.go):
		// after this, ctx has ended exactly when this attempt must not finish.
		guardOf(ctx).settle()
		timedOut := errors.Is(uctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		hctx.SetContext(ctx)
		cancel()
		// last: this attempt is the run's last (its error is not retried, or user code
		// ran 1 + retries times for the run, counted on the record).
		last := func(err error) bool { return IsNonRetryable(err) || rec.Calls >= def.cfg.retries+1 }
		if timedOut {
			// The engine's verdict stands when it comes (its timeout sweep runs about
			// once a second); without it, the attempt still fails, without finishing.
			select {
			case <-ctx.Done():
			case <-time.After(engineVerdictGrace):
				if last(nil) {
					c.endLastAttempt(ctx, def, sigID, runID, input, engine.TimeoutMessage(timeout))
				}
				return nil, fmt.Errorf("hatchetflow: attempt %d of %q exceeded its execution timeout of %v; its result is dropped",
					hctx.RetryCount()+1, def.name, timeout)
			}
		}
		if err != nil && ctx.Err() == nil {
			if last(err) {
				c.endLastAttempt(ctx, def, sigID, runID, input, err.Error())
			}
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			if time.Since(started) >= timeout-200*time.Millisecond {
				// The engine timed this attempt out.
				if last(nil) {
					c.endLastAttempt(ctx, def, sigID, runID, input, engine.TimeoutMessage(timeout))
				}
				return nil, err
			}
			// The engine cancelled or timed out this attempt and drops what it returns:
			// the signature must not be marked done behind the engine's back. A
			// cancelled run gets no on-failure step: settle it here.
			// In the background, so the attempt returns at once: a timed-out attempt is
			// the engine's to retry or fail. (Once, while this blocked the step for up to
			// 5 s, a timed-out task with no retries ran its main step twice; the cause
			// was not confirmed.)
			// Only when the attempt ended before its timeout: a timed-out attempt is
			// the engine's to retry or fail, and is left exactly as before.
			if _, ok := c.dispatcher.(engine.Canceller); ok && c.hatchet != nil && time.Since(started) < timeout-200*time.Millisecond {
				go c.settleExternalCancel(context.WithoutCancel(ctx), sigID, runID)
			}
			return nil, err
		}
		raw, err := encodeResult(def, out)
		if err != nil {
			return nil, err
		}
		// Finish and dispatch the success callbacks now, retrying through short
		// outages. If that cannot complete, the attempt fails: the engine's retry (or,
		// with none left, the reconciler once the engine failed the run, and the
		// on-failure step of a task that has one) finishes the success path from the
		// stored result when Finish had applied.
		// The task's execution timeout bounds the user function, not this: while the
		// finish is slow (Redis unreachable), the attempt's engine timeout is extended.
		stop := c.keepAlive(hctx, def, started, sigID)
		defer stop()
		finish := func() error { return c.succeed(ctx, rec, runID, raw, input) }
		if err := c.retrying(ctx, "finish", finish); err != nil {
			if errors.Is(err, redisstore.ErrNotFound) || errors.Is(err, redisstore.ErrTransition) {
				// Deleted or changed by someone else while the function ran.
				c.log.Warn("hatchetflow: signature changed while its run was active; no callbacks",
					"signature", sigID, "run", runID, "error", err)
				return def.stepOutput(raw), nil
			}
			return nil, err
		}
		return def.stepOutput(raw), nil
	})
}

// endLastAttempt ends signature sigID, owned by run runID, through the failure path
// with message msg and the run's input, when the task has no on-failure step (the lean
// shape): the run's last attempt failed, panicked or timed out, and no step will run
// after it. It retries through a short Redis outage; past that, the reconciler ends
// the signature from the engine's verdict. A task with an on-failure step leaves it
// to that step.
func (c *Client) endLastAttempt(ctx context.Context, def *taskDef, sigID, runID string, input map[string]any, msg string) {
	if def.cfg.onFailureStep {
		return
	}
	bg := context.WithoutCancel(ctx) // the engine may have cancelled the attempt
	err := c.retrying(bg, "fail", func() error { return c.failRecord(bg, sigID, runID, msg, input, inject.TaskError{}) })
	if err != nil {
		c.log.Warn("hatchetflow: cannot end the signature after its last attempt; the reconciler will",
			"signature", sigID, "run", runID, "error", err)
		return
	}
	c.tel.ended(ctx, def.name, outcomeFailure)
}

// engineVerdictGrace is how long an attempt that reached its own execution timeout
// waits for the engine's timeout (which cancels its context) before it fails on its
// own: the engine's timeout sweep runs about once a second.
const engineVerdictGrace = 2 * time.Second

// keepAlive extends the engine timeout of the attempt that started its user function
// at started, once its finish takes longer than half a second (or at once when the
// attempt has under 1.5 s left), by the step retry time plus 5 s: one refresh covers
// every retry of the finish. The finish of a healthy Redis takes milliseconds, so
// normally no refresh is sent. stop cancels it.
func (c *Client) keepAlive(hctx hatchet.Context, def *taskDef, started time.Time, sigID string) (stop func()) {
	timeout := def.cfg.executionTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second // Hatchet's default
	}
	delay := min(500*time.Millisecond, max(timeout-time.Since(started)-time.Second, 0))
	t := time.AfterFunc(delay, func() {
		by := fmt.Sprintf("%ds", int(c.cfg.StepRetryTime.Seconds())+5)
		if err := hctx.RefreshTimeout(by); err != nil {
			c.log.Warn("hatchetflow: cannot extend the attempt's timeout", "signature", sigID, "error", err)
		}
	})
	return func() { t.Stop() }
}

// stepOutput is the main step's output for return value raw. A workflow with an
// on-failure step is a DAG, whose task outputs the engine takes only as JSON objects
// or null: a value of another kind is wrapped (inject.WrapOutput). A lean workflow's
// one task passes any JSON value raw, so a plain Hatchet caller reads a string task's
// output as a string.
func (def *taskDef) stepOutput(raw json.RawMessage) json.RawMessage {
	if def.cfg.onFailureStep {
		return inject.WrapOutput(raw)
	}
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// encodeResult encodes a user function's return value.
func encodeResult(def *taskDef, out any) (json.RawMessage, error) {
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, NonRetryable(fmt.Errorf("hatchetflow: encode result of %q: %w", def.name, err))
	}
	return raw, nil
}

// invoke calls the user function, turning a decode failure into a non-retryable error
// and a panic into a [*PanicError].
func invoke(hctx hatchet.Context, def *taskDef, msg map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	if o, ok := hctx.(engine.CallObserver); ok {
		if err := o.BeforeCall(msg); err != nil {
			return nil, err
		}
	}
	out, err = def.call(hctx, msg)
	var de *inject.DecodeError
	if errors.As(err, &de) {
		de.Task = def.name
		return nil, NonRetryable(err)
	}
	return out, err
}

// succeed marks the signature rec done for runID with result and dispatches the
// success callbacks that have no marker yet: its own, and, when it is a chain step, the
// next step (or, after a chain's last step, the chain's success callbacks); and with
// them the finally callbacks, its own and those of the chains that end here, each with
// the outcome done. A chain's first step keeps its run input, the chain's input.
// Advancing a chain costs what any finish costs: one round trip for Finish (which also
// reads the chains' step lists), one for the markers and TTLs (plus one to read the
// chain's input, when a chain that ends here has finally callbacks). In that second
// one the chains' later steps and error and finally callbacks get the active TTL
// again, so a long chain never loses them mid-run, and a chain that ends gets the done
// TTL. input is the message rec's run was dispatched with (nil: its stored Input).
func (c *Client) succeed(ctx context.Context, rec *redisstore.Record, runID string, result json.RawMessage, input map[string]any) error {
	opts := &redisstore.FinishOptions{Containers: rec.Containers}
	if rec.FirstLeaf {
		opts.Input, _ = json.Marshal(input)
	}
	tr, err := c.store.Finish(ctx, rec.ID, runID, result, opts)
	if err != nil {
		return err
	}
	if tr.Record.Held {
		return nil // suspended while it ran: Resume dispatches the callbacks
	}
	br := branch{outcome: OutcomeSuccess, callbacks: tr.Record.OnSuccess, dead: callbackIDs(tr.Record.OnError),
		input: func(cb redisstore.CallbackRef) map[string]any {
			return inject.SuccessInput(inject.Fields{Return: cb.ReturnField}, result)
		}}
	done := &inject.Outcome{Status: inject.OutcomeDone, Result: result}
	if len(tr.Record.Finally) > 0 {
		if input == nil {
			input = inputOf(tr.Record)
		}
		original := inject.Merge(input, rec.Kwargs)
		for _, cb := range tr.Record.Finally {
			br.addFinally(cb, original, done)
		}
	}
	var items []redisstore.SwarmItemRef // chains that end here and are swarm items
	var ended []string                  // chains that end here
	for _, chain := range tr.Record.Containers {
		later, known := tr.Later[chain]
		errs := chainCallbackIDs(tr.Record.ChainErrors, chain)
		fins := chainCallbackIDs(tr.Record.ChainFinally, chain)
		if known && len(later) == 0 { // the chain's last step: the chain is done
			br.chains = append(br.chains, redisstore.ContainerUpdate{ID: chain, Status: StatusDone})
			br.dead = append(append(br.dead, chain), errs...)
			ended = append(ended, chain)
			if ref, ok := tr.Items[chain]; ok {
				items = append(items, ref)
			}
			continue
		}
		br.chains = append(br.chains, redisstore.ContainerUpdate{ID: chain, Status: StatusActive})
		br.keepAlive = slices.Concat(br.keepAlive, []string{chain}, later, errs, fins)
	}
	if err := c.chainFinally(ctx, tr.Record, &br, ended, input, done); err != nil {
		return err
	}
	if err := c.fire(ctx, tr.Record, br); err != nil {
		return err
	}
	// As a swarm item (or the last step of a chain that is one), the item is done.
	if ref := tr.Record.Item; ref != nil {
		if err := c.endItem(ctx, *ref, rec.ID, runID, false, string(result)); err != nil {
			return err
		}
	}
	for _, ref := range items {
		if err := c.endItem(ctx, ref, "", runID, false, string(result)); err != nil {
			return err
		}
	}
	return nil
}

// chainCallbackIDs returns the ids of the callbacks of chain among refs (a step's
// ChainErrors or ChainFinally).
func chainCallbackIDs(refs []redisstore.ContainerCallbackRef, chain string) []string {
	var out []string
	for _, cb := range refs {
		if cb.ContainerID == chain {
			out = append(out, cb.ID)
		}
	}
	return out
}

// chainFinally adds to br the finally callbacks of the chains in ended (chains that
// ended done with step rec, their last), each to be sent its chain's input (its first
// step's run input, read in one round trip for them all) with outcome o injected.
func (c *Client) chainFinally(ctx context.Context, rec *redisstore.Record, br *branch, ended []string, input map[string]any, o *inject.Outcome) error {
	var refs []redisstore.ContainerCallbackRef
	var firsts []string
	for _, cb := range rec.ChainFinally {
		if !slices.Contains(ended, cb.ContainerID) {
			continue
		}
		refs = append(refs, cb)
		if cb.FirstLeafID != rec.ID {
			firsts = append(firsts, cb.FirstLeafID)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	got, err := c.store.GetMany(ctx, firsts)
	if err != nil {
		return err
	}
	for _, cb := range refs {
		br.addFinally(cb.CallbackRef, chainInput(rec, cb, input, got), o)
	}
	return nil
}

// chainInput is the input of the chain of ref, a callback of a chain that step rec is
// a step of: input, when rec is the chain's first step, else the stored input of that
// step (in got, by id; nil when it is gone).
func chainInput(rec *redisstore.Record, ref redisstore.ContainerCallbackRef, input map[string]any, got map[string]*redisstore.Record) map[string]any {
	if ref.FirstLeafID == rec.ID {
		return input
	}
	if first := got[ref.FirstLeafID]; first != nil {
		return inputOf(first)
	}
	return nil
}

// finishSuccess completes the success path of rec from the on-failure step, retrying
// through short outages.
func (c *Client) finishSuccess(hctx hatchet.Context, rec *redisstore.Record, input map[string]any) (json.RawMessage, error) {
	ctx := hctx.GetContext()
	sigID := rec.ID
	err := c.retrying(ctx, "on-failure finish", func() error {
		return c.succeed(ctx, rec, hctx.WorkflowRunId(), rec.Result, input)
	})
	if errors.Is(err, redisstore.ErrNotFound) || errors.Is(err, redisstore.ErrTransition) {
		c.log.Warn("hatchetflow: nothing to dispatch", "signature", sigID, "error", err)
		return skippedOutput, nil
	}
	if err != nil {
		return nil, err
	}
	c.tel.ended(ctx, rec.Task, outcomeSuccess)
	return dispatchedOutput, nil
}

func (c *Client) onFailureStep(def *taskDef) engine.StepFunc {
	return c.traced(def, "hatchetflow.on_failure", false, func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		sigID, _ := runSignature(hctx, def)
		if sigID == "" || !redisstore.ValidID(sigID) {
			return skippedOutput, nil
		}
		runID := hctx.WorkflowRunId()
		stepErrs := hctx.StepRunErrors()
		mainErr, mainFailed := stepErrs[def.name]
		if !mainFailed {
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
			return skippedOutput, nil
		case errors.As(err, &te) && te.From == StatusDone && te.OwnerRunID == runID:
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
				return skippedOutput, nil
			} else if err != nil {
				return nil, err
			}
			return c.finishSuccess(hctx, rec, input)
		case errors.As(err, &te):
			c.log.Info("hatchetflow: failure of a run that does not own the signature; ignored",
				"signature", sigID, "status", te.From, "owner_run", te.OwnerRunID, "run", runID)
			return skippedOutput, nil
		case err != nil:
			return nil, err
		}
		if !tr.Repeated {
			c.tel.ended(ctx, def.name, outcomeFailure)
		}
		if tr.Record.Held {
			return skippedOutput, nil // suspended while it ran: Resume dispatches the error callbacks
		}
		detail := errorDetail(tr.Record, runID, msg)
		err = c.retrying(ctx, "on-failure dispatch", func() error {
			return c.endPath(ctx, tr.Record, input, detail, endLoud)
		})
		if err != nil {
			return nil, err
		}
		return dispatchedOutput, nil
	})
}

// errorDetail is the one error detail (inject.TaskError) of record rec, ended by run
// runID with message msg: its task, id, run, attempt and message. Callers add what
// only they know (Cancelled, a swarm's Failures).
func errorDetail(rec *redisstore.Record, runID, msg string) inject.TaskError {
	return inject.TaskError{Task: rec.Task, SignatureID: rec.ID, RunID: runID, Attempt: max(rec.Attempt, 1), Message: msg}
}

// failRecord is the failure of record id by run runID with message msg: the
// transition, then its end path with input (nil: the record's own Input) and what
// note adds to the error detail (a swarm's failure count, a workflow's failed task).
// A record that another run owns or that ended already is left alone.
func (c *Client) failRecord(ctx context.Context, id, runID, msg string, input map[string]any, note inject.TaskError) error {
	tr, err := c.store.Fail(ctx, id, runID, msg)
	if errors.Is(err, redisstore.ErrTransition) {
		return nil
	}
	if err != nil {
		return err
	}
	if input == nil {
		input = inputOf(tr.Record)
	}
	detail := errorDetail(tr.Record, runID, msg)
	detail.Failures, detail.Step = note.Failures, note.Step
	return c.endPath(ctx, tr.Record, input, detail, endLoud)
}

// endMode says what an end path dispatches of the ended record's own callbacks and
// its chains'.
type endMode int

const (
	// endLoud: error and finally callbacks (a failure, a cancel).
	endLoud endMode = iota
	// endSilent: finally callbacks only (a silent cancel: finally is cleanup, so it
	// still runs).
	endSilent
	// endSkipped: none (a later step of a chain cancelled with it: it never ran, and
	// the chain's own callbacks go out from the step that was current).
	endSkipped
)

// endedOutcome is the outcome finally callbacks get for record rec, ended failed or
// cancelled with detail.
func endedOutcome(rec *redisstore.Record, detail inject.TaskError) *inject.Outcome {
	status := inject.OutcomeFailed
	if detail.Cancelled || rec.Status == StatusCancelled {
		status = inject.OutcomeCancelled
	}
	return &inject.Outcome{Status: status, Error: &detail}
}

// endPath is the one way an ended record (failed or cancelled, its transition made)
// sets off what follows: its error and finally callbacks with its message (input with
// its bound kwargs) and detail; the error and finally callbacks of the chains it is a
// step of; the end of the swarm item it is (or whose chain it is a step of). Each part
// is idempotent, so a retry repeats only what did not complete. mode endSilent (a
// silent cancel) dispatches no error callback, and endSkipped no callback at all: they
// give the branches that will not run the done TTL and end the swarm items.
func (c *Client) endPath(ctx context.Context, rec *redisstore.Record, input map[string]any, detail inject.TaskError, mode endMode) error {
	original := inject.Merge(input, rec.Kwargs)
	br := branch{outcome: OutcomeError, callbacks: rec.OnError,
		dead: callbackIDs(rec.OnSuccess),
		input: func(cb redisstore.CallbackRef) map[string]any {
			return inject.ErrorInput(original, inject.Fields{Error: cb.ErrorField}, &detail)
		}}
	if mode != endLoud {
		br.callbacks, br.dead = nil, append(br.dead, callbackIDs(rec.OnError)...)
	}
	if mode == endSkipped {
		br.dead = append(br.dead, callbackIDs(rec.Finally)...)
	} else {
		for _, cb := range rec.Finally {
			br.addFinally(cb, original, endedOutcome(rec, detail))
		}
	}
	if rec.Status == StatusFailed || rec.Status == StatusCancelled {
		for _, chain := range rec.Containers { // a step that ended so ends its chains so
			br.chains = append(br.chains, redisstore.ContainerUpdate{ID: chain, Status: rec.Status})
		}
	}
	if err := c.fire(ctx, rec, br); err != nil {
		return err
	}
	if len(rec.Containers) > 0 {
		if err := c.failChains(ctx, rec, input, detail, mode); err != nil {
			return err
		}
	}
	if ref := rec.Item; ref != nil {
		return c.endItem(ctx, *ref, rec.ID, detail.RunID, true, detail.Message)
	}
	return nil
}

// failChains dispatches the error and finally callbacks of every chain the failed
// step rec is a step of, each with its chain's input (its first step's run input) and
// error details naming the failed step and the chain (for finally callbacks, in the
// outcome). The chains' later steps and success callbacks will never run: they and the
// chains get the done TTL. One round trip to read the chains and their first steps,
// one for the markers and TTLs. mode is endPath's.
func (c *Client) failChains(ctx context.Context, rec *redisstore.Record, input map[string]any, detail inject.TaskError, mode endMode) error {
	ids := append([]string(nil), rec.Containers...)
	for _, cb := range slices.Concat(rec.ChainErrors, rec.ChainFinally) {
		if cb.FirstLeafID != rec.ID {
			ids = append(ids, cb.FirstLeafID)
		}
	}
	got, err := c.store.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	chainOf := map[string]redisstore.ContainerCallbackRef{}
	var cbs []redisstore.CallbackRef
	dead := append([]string(nil), rec.Containers...)
	for _, cb := range rec.ChainErrors {
		chainOf[cb.ID] = cb
		if mode != endLoud {
			dead = append(dead, cb.ID)
			continue
		}
		cbs = append(cbs, cb.CallbackRef)
	}
	var br branch
	for _, cb := range rec.ChainFinally {
		if mode == endSkipped {
			dead = append(dead, cb.ID)
			continue
		}
		d := detail
		d.ChainID = cb.ContainerID
		br.addFinally(cb.CallbackRef, chainInput(rec, cb, input, got), endedOutcome(rec, d))
	}
	for _, chain := range rec.Containers {
		if r := got[chain]; r != nil {
			if i := slices.Index(r.Leaves, rec.ID); i >= 0 {
				dead = append(dead, r.Leaves[i+1:]...)
			}
			dead = append(dead, callbackIDs(r.OnSuccess)...)
		}
	}
	br.outcome, br.callbacks, br.dead = OutcomeError, cbs, dead
	br.input = func(cb redisstore.CallbackRef) map[string]any {
		ref := chainOf[cb.ID]
		d := detail
		d.ChainID = ref.ContainerID
		return inject.ErrorInput(chainInput(rec, ref, input, got), inject.Fields{Error: cb.ErrorField}, &d)
	}
	err = c.fire(ctx, rec, br)
	if err != nil {
		return err
	}
	// A failed step fails the swarm items its chains are.
	for _, chain := range rec.Containers {
		if r := got[chain]; r != nil && r.Item != nil {
			if err := c.endItem(ctx, *r.Item, "", detail.RunID, true, detail.Message); err != nil {
				return err
			}
		}
	}
	return nil
}
