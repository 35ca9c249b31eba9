package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// ErrCannotWait is returned by [Handle.Wait] when the dispatcher cannot report results.
var ErrCannotWait = errors.New("hatchetflow: the dispatcher cannot wait for runs")

// RunSignature dispatches a signature or a chain with input (a JSON object: a map or a
// struct). A [dsl.Builder] or [dsl.ChainBuilder] is saved first; a [dsl.Ref] or
// [dsl.Saved] runs a stored one, which must be pending (never started): otherwise a
// [*NotPendingError] is returned and nothing is dispatched. The message the task (a
// chain's first step) receives is input with its bound kwargs merged over it (bound
// kwargs win); it is checked against the task's schema before anything is written.
// It implements [dsl.Backend]; call it as b.Run(ctx, client, input).
func (c *Client) RunSignature(ctx context.Context, spec dsl.Spec, input any) (dsl.Handle, error) {
	return c.run(ctx, spec, input, runCall{})
}

// runCall is what distinguishes the two callers of the one run path: a run from
// outside a task (the [Client]: new ids, per-run options, a root run) and a run made by
// a running task (a [TaskBackend]: deterministic ids, a child run de-duplicated by the
// engine across the task's retries).
type runCall struct {
	// opts are the per-run options (outside a task only).
	opts *RunOptions
	// hctx is the running task a [TaskBackend] run is made from; nil outside a task.
	hctx hatchet.Context
	// seed makes the ids of a compiled tree deterministic (see TaskBackend.seed).
	seed string
	// release is set by the wait task's step when the event a signature waited for
	// came: the signature's own task runs now, as a child of the wait run (hctx).
	release bool
}

// run is the one run path: it resolves spec (compiling a builder, or reading a stored
// signature, chain or swarm), checks the message against the root's schema before
// anything is written, writes what was compiled, dispatches the root run and returns
// the handle that follows it to its end.
func (c *Client) run(ctx context.Context, spec dsl.Spec, input any, call runCall) (dsl.Handle, error) {
	if err := c.checkOptions(call.opts); err != nil {
		return nil, err // before anything is written
	}
	if call.hctx != nil {
		if _, ok := c.dispatcher.(engine.ChildDispatcher); !ok {
			return nil, fmt.Errorf("%w: the dispatcher cannot trigger child runs", ErrUnsupportedOption)
		}
	}
	msg, err := toObject(input)
	if err != nil {
		return nil, err
	}
	p, root, err := c.resolve(ctx, spec, call)
	if err != nil {
		return nil, err
	}
	if err := c.checkMessage(ctx, root.entry.rec, msg); err != nil {
		return nil, err
	}
	entry := root.entry.rec
	if entry.Wait != nil && call.opts.routed() {
		return nil, fmt.Errorf("%w: Priority, Sticky or DesiredWorkerLabels on a signature that waits for an event (they would apply to the wait, not to the task's run)",
			ErrUnsupportedOption)
	}
	// The message stays with the signature (Record.Input): a cancel before or while it
	// runs hands it to the error callbacks.
	in, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: encode input: %w", err)
	}
	if p != nil {
		if entry.Kind == redisstore.KindSignature {
			entry.Input = in
		}
		if err := c.write(ctx, p); err != nil {
			return nil, err
		}
	} else if entry.Kind == redisstore.KindSignature {
		if err := c.store.KeepInput(ctx, entry.ID, in); err != nil {
			return nil, err
		}
	}
	meta := map[string]string{engine.MetaSignature: entry.ID}
	if call.hctx != nil {
		meta[engine.MetaParent] = call.hctx.AdditionalMetadata()[engine.MetaSignature]
	}
	runID, scheduleID, err := c.startRun(ctx, entry, msg, meta, call)
	if err != nil {
		return nil, err
	}
	h := &Handle{c: c, sigID: root.id, runID: runID, task: entry.Task, swarm: root.swarm,
		scheduleID: scheduleID, entry: entry.ID}
	if entry.Wait != nil { // the task's run exists once the event came
		h.runID, h.waitRunID = "", runID
	}
	if root.chain {
		h.leaves = root.leaves
	}
	return h, nil
}

// startRun triggers the run that starts entry (a signature, a chain's first step, a
// swarm) with msg and meta (its metadata so far): a run of its task, with the task's
// run mode (runModes: kwargs merged and the engine's verdict watched for a task no
// hatchetflow step runs), at once or as a schedule ([RunOptions.StartAfter]) for a run
// from outside a task, or as a child of the running task call.hctx, de-duplicated by
// the engine across that task's retries and replays. When entry waits for an event
// (Record.Wait) and call is not its release, the run is one of [WaitTask] instead,
// which runs entry's task through startRun once the event came (eventwait.go).
func (c *Client) startRun(ctx context.Context, entry *redisstore.Record, msg map[string]any, meta map[string]string, call runCall) (runID, scheduleID string, err error) {
	task := entry.Task
	var mode runMode
	switch {
	case entry.Wait != nil && !call.release:
		task = WaitTask
		// The wait begins when its run starts: at once, or when its schedule fires.
		meta[engine.MetaWaitSince] = strconv.FormatInt(time.Now().Add(call.opts.startAfter()).UnixMilli(), 10)
	case entry.Kind == redisstore.KindSignature:
		mode = c.runModes(ctx, []redisstore.CallbackRef{{Task: entry.Task}})[entry.Task]
	}
	if mode.byEngine {
		meta[engine.MetaSettle] = engine.SettleByEngine
	}
	if mode.mergeKwargs && len(entry.Kwargs) > 0 {
		msg = inject.Merge(msg, entry.Kwargs) // no hatchetflow step will merge them
	}
	if call.hctx == nil {
		runID, scheduleID, err = c.dispatchRoot(ctx, entry.ID, task, msg, meta, call.opts)
	} else if child, ok := c.dispatcher.(engine.ChildDispatcher); !ok {
		err = fmt.Errorf("%w: the dispatcher cannot trigger child runs", ErrUnsupportedOption)
	} else {
		// The key names its target: the engine's child key ignores which workflow runs.
		runID, err = child.DispatchChild(call.hctx, task, msg, meta, task+":"+entry.ID)
	}
	if err != nil {
		return "", "", &DispatchError{Task: entry.Task, Err: err}
	}
	if mode.byEngine {
		if err := c.watchEngineSettled(ctx, entry.ID); err != nil {
			return "", "", err
		}
	}
	return runID, scheduleID, nil
}

// resolve is the one spec resolver of a run: a builder is compiled (the plan to write
// is returned), a [dsl.Ref] or [dsl.Saved] is read from the store. Outside a task a
// stored root must be pending (never started): a run would skip user code and report
// nothing useful. Inside a task it may have started already: on a retried attempt the
// engine returns the first attempt's child run for the same key.
func (c *Client) resolve(ctx context.Context, spec dsl.Spec, call runCall) (*plan, node, error) {
	if id, ok := storedID(spec); ok {
		n, err := c.storedNode(ctx, id)
		if err != nil {
			return nil, node{}, err
		}
		if call.hctx == nil && n.status != StatusPending {
			return nil, node{}, &NotPendingError{ID: id, Status: n.status, RunID: n.owner}
		}
		return nil, n, nil
	}
	p, err := c.compile(ctx, spec, call.seed)
	if err != nil {
		return nil, node{}, err
	}
	return p, p.root, nil
}

// storedNode reads a saved signature or chain to run, with its status.
func (c *Client) storedNode(ctx context.Context, id string) (node, error) {
	if !redisstore.ValidID(id) {
		return node{}, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return node{}, err
	}
	if rec.Kind == redisstore.KindSwarm {
		return node{id: id, swarm: true, entry: shape{rec: rec}, leaves: []string{id}, status: rec.Status, owner: rec.RunID}, nil
	}
	if rec.Kind != redisstore.KindChain {
		return node{id: id, entry: shape{rec: rec}, leaves: []string{id}, status: rec.Status, owner: rec.RunID}, nil
	}
	st, err := c.chainState(ctx, rec)
	if err != nil {
		return node{}, err
	}
	return node{id: id, chain: true, entry: shape{rec: st.leaves[0]}, leaves: rec.Leaves, status: st.Status}, nil
}

// checkMessage validates the complete message (input with kwargs merged) against the
// signature's schema.
func (c *Client) checkMessage(ctx context.Context, rec *redisstore.Record, msg map[string]any) error {
	schema, err := c.schemaOf(ctx, rec)
	if err != nil {
		return err
	}
	s, err := c.compiled(schema)
	if err != nil || s == nil {
		return err
	}
	return withTask(s.Validate(inject.Merge(msg, normalize(rec.Kwargs))), rec.Task)
}

// Handle follows a dispatched signature or chain run. It implements [dsl.Handle].
type Handle struct {
	c                  *Client
	sigID, runID, task string
	leaves             []string // a chain's steps
	swarm              bool
	// scheduleID is the engine schedule of a run started with StartAfter (runID is ""
	// until it fires); entry the signature its run starts (a chain's first step).
	scheduleID, entry string
	// waitRunID is the run of the wait task when entry waits for an event (runID is ""
	// until the event came).
	waitRunID string
}

// SignatureID returns the id of the signature that runs.
func (h *Handle) SignatureID() string { return h.sigID }

// RunID returns the engine's run id (for a chain, its first step's run). For a run
// started with [RunOptions.StartAfter] it is "": the engine creates the run only when
// its schedule fires ([Handle.ScheduleID] names the schedule; once the run started the
// signature, [Client.Signature] reports it). So it is for a signature that waits for
// an event (dsl.Builder.After): its task's run exists once the event came
// ([Handle.WaitRunID] names the run that waits). Wait does not need it.
func (h *Handle) RunID() string { return h.runID }

// Wait blocks until the task's main step ends or ctx is done. It returns the task's
// return value as JSON, or a [*RunError] when the run failed or was cancelled (which
// unwraps to a [*NotPendingError] when the run was a duplicate that hatchetflow
// refused). Callbacks run on their own; Wait does not wait for them.
//
// For a chain, Wait blocks until the chain ended and returns its last step's return
// value, or the [*RunError] of the step that failed. For a swarm, it blocks until the
// swarm ended and returns its results (a list in item order), or a
// [*SwarmFailedError].
//
// For a run started with [RunOptions.StartAfter], or of a signature that waits for an
// event, Wait first waits for the schedule to fire (the event to come) and its run to
// start the signature (a chain's first step), then for that run, as above. A wait
// that timed out gives a [*RunError] with no RunID that matches [ErrRunFailed]. If the signature ends before any run started it (a cancel before the
// schedule fired), Wait returns a [*RunError] with no RunID that matches
// [ErrCancelled] (or [ErrRunFailed]).
func (h *Handle) Wait(ctx context.Context) (json.RawMessage, error) {
	if h.swarm {
		return h.c.waitSwarm(ctx, h.sigID)
	}
	run := h.runID
	if run == "" && (h.scheduleID != "" || h.waitRunID != "") {
		var err error
		if run, err = h.c.ownerRun(ctx, h.entry, ""); err != nil {
			return nil, err
		}
	}
	if h.leaves != nil {
		return h.c.waitChain(ctx, h.sigID, h.leaves, run, h.task)
	}
	out, err := h.c.waitRun(ctx, h.sigID, run, h.task)
	if err != nil {
		return nil, err
	}
	return inject.UnwrapOutput(out)
}

// waitRun waits for run runID of signature sigID through the dispatcher's [engine.Waiter].
// When the run did not complete, its [*RunError] gets the typed refusal, if
// hatchetflow refused the run, from the signature's record (see refusal). When it
// completed but the signature is still pending (no hatchetflow step ran for it), it
// returns an [*UnsettledError].
func (c *Client) waitRun(ctx context.Context, sigID, runID, task string) (json.RawMessage, error) {
	w, ok := c.dispatcher.(engine.Waiter)
	if !ok {
		return nil, ErrCannotWait
	}
	workflow := c.isWorkflow(ctx, task)
	waitFor := task
	if workflow {
		waitFor = EndTask // a workflow of several tasks completes with hatchetflow's end task
	}
	out, err := w.Wait(ctx, runID, waitFor)
	if err == nil {
		if err := c.waitSettled(ctx, sigID, runID, task); err != nil {
			return nil, err
		}
		if !workflow {
			return out, nil
		}
		rec, err := c.store.Get(ctx, sigID) // the workflow's result: its final tasks' outputs
		if err != nil {
			return nil, err
		}
		return inject.WrapOutput(rec.Result), nil
	}
	var re *RunError
	if errors.As(err, &re) && re.Cause == nil {
		if rerr := c.setRefusal(ctx, sigID, re); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
	}
	return out, err
}

// isWorkflow reports whether task is a registered workflow of several tasks
// ([RegisterWorkflow]); an unknown task is not.
func (c *Client) isWorkflow(ctx context.Context, task string) bool {
	defs, err := c.lookupTasks(ctx, []string{task})
	return err == nil && defs[task].Kind == redisstore.KindWorkflow
}

// waitSettled returns once signature sigID, whose run runID completed, has left
// pending: at once when a hatchetflow step ran it, within the reconciler's interval
// when its task is one no hatchetflow step runs. A signature still pending after
// settleWait gives an [*UnsettledError] (no worker hosts a reconciler); one that is
// gone is not waited for.
func (c *Client) waitSettled(ctx context.Context, sigID, runID, task string) error {
	deadline := time.Now().Add(c.settleWait())
	pause := poll.New(10*time.Millisecond, 250*time.Millisecond)
	for {
		rec, err := c.store.Get(ctx, sigID)
		switch {
		case errors.Is(err, redisstore.ErrNotFound):
			return nil
		case err != nil:
			return err
		case rec.Status != StatusPending:
			return nil
		case time.Now().After(deadline):
			return &UnsettledError{ID: sigID, Task: task, RunID: runID}
		}
		if err := pause.Wait(ctx); err != nil {
			return fmt.Errorf("hatchetflow: wait for signature %s to settle: %w", sigID, err)
		}
	}
}

// settleWait is how long waiting for a completed run waits for a reconciler to settle
// its signature: five of the client's reconcile intervals, at least 2 s (5 s by
// default; a client with no reconciler of its own assumes the default interval).
func (c *Client) settleWait() time.Duration {
	interval := c.cfg.ReconcileInterval
	if interval <= 0 {
		interval = DefaultReconcileInterval
	}
	return max(5*interval, 2*time.Second)
}

// setRefusal sets re.Cause to why hatchetflow refused run re.RunID of signature sigID
// without calling user code, read from the record as it is after the run ended: the
// signature is gone ([*SignatureNotFoundError]); the run was held while it was
// suspended ([*SuspendedError]); or another run owns it, or it ended before this run
// started ([*NotPendingError]). Cause stays nil when the run owned the signature (its
// own failure or cancel) or the signature is still pending (the run failed before it
// could start). It returns the store's error when the record cannot be read.
func (c *Client) setRefusal(ctx context.Context, sigID string, re *RunError) error {
	rec, err := c.store.Get(ctx, sigID)
	var nf *redisstore.NotFoundError
	switch {
	case errors.As(err, &nf):
		re.Cause = &SignatureNotFoundError{ID: sigID}
	case err != nil:
		return err
	case rec.HeldRunID == re.RunID:
		re.Cause = &SuspendedError{ID: sigID}
	case rec.RunID != re.RunID && rec.Status != StatusPending:
		re.Cause = &NotPendingError{ID: sigID, Status: rec.Status, RunID: rec.RunID}
	}
	return nil
}

// WaitResult waits for h and decodes the task's return value into O.
func WaitResult[O any](ctx context.Context, h dsl.Handle) (O, error) {
	var out O
	raw, err := h.Wait(ctx)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("hatchetflow: decode result of run %s: %w", h.RunID(), err)
	}
	return out, nil
}
