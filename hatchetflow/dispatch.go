package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// branch is one dispatch of fire: the callbacks of an outcome, the finally callbacks
// that go out with it (whatever the outcome), the signatures that will never run
// because of it (their TTL is lowered to the done TTL) and those that must live on (a
// chain's later steps: their TTL is raised back to the active TTL).
type branch struct {
	outcome         Outcome
	callbacks       []redisstore.CallbackRef
	dead, keepAlive []string
	input           func(cb redisstore.CallbackRef) map[string]any
	// finally are finally callbacks dispatched with this branch (their markers are
	// OutcomeFinally's), each with the message in finallyMsgs (see addFinally).
	finally     []redisstore.CallbackRef
	finallyMsgs map[string]map[string]any
	// chains are the enclosing chains' records to move along (active, done, failed,
	// cancelled), in the same pipeline as the markers.
	chains []redisstore.ContainerUpdate
}

// addFinally adds the finally callback cb to br, to be sent original (the message of
// what ended) with the outcome o injected into its outcome field.
func (br *branch) addFinally(cb redisstore.CallbackRef, original map[string]any, o *inject.Outcome) {
	if br.finallyMsgs == nil {
		br.finallyMsgs = map[string]map[string]any{}
	}
	br.finally = append(br.finally, cb)
	br.finallyMsgs[cb.ID] = inject.FinallyInput(original, inject.Fields{Outcome: cb.OutcomeField}, o)
}

// fire dispatches the callbacks of br, then its finally callbacks, that have no
// dispatch marker on rec yet (see dispatchEach), then records markers for those that
// were dispatched and adjusts the TTLs, in one pipeline. It returns the dispatch
// errors joined.
func (c *Client) fire(ctx context.Context, rec *redisstore.Record, br branch) error {
	sets := []struct {
		outcome Outcome
		refs    []redisstore.CallbackRef
		input   func(cb redisstore.CallbackRef) map[string]any
	}{{br.outcome, br.callbacks, br.input},
		{OutcomeFinally, br.finally, func(cb redisstore.CallbackRef) map[string]any { return br.finallyMsgs[cb.ID] }}}
	todo := make([][]redisstore.CallbackRef, len(sets))
	var all []redisstore.CallbackRef
	for i, set := range sets {
		for _, cb := range set.refs {
			if _, done := rec.Dispatched[redisstore.DispatchKey(set.outcome, cb.ID)]; !done {
				todo[i] = append(todo[i], cb)
			}
		}
		all = append(all, todo[i]...)
	}
	known := c.dispatchedEarlier(ctx, rec, all)
	// Remember in memory too, so a retry with this record skips what went out.
	if rec.Dispatched == nil {
		rec.Dispatched = map[string]string{}
	}
	var errs []error
	runs := map[Outcome]map[string]string{}
	inputs := map[string]json.RawMessage{}
	for i, set := range sets {
		if len(todo[i]) == 0 {
			continue
		}
		d := c.dispatchEach(ctx, rec.ID, set.outcome, todo[i], set.input, known)
		errs = append(errs, d.err)
		runs[set.outcome] = d.runs
		maps.Copy(inputs, d.inputs)
		for cb, run := range d.runs {
			rec.Dispatched[redisstore.DispatchKey(set.outcome, cb)] = run
		}
	}
	if err := c.store.MarkDispatchedMany(ctx, rec.ID, runs, inputs, br.dead, br.keepAlive, br.chains...); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dispatched is what one dispatchEach produced.
type dispatched struct {
	// runs maps each signature that was dispatched to its run; inputs to the message
	// it was dispatched with.
	runs   map[string]string
	inputs map[string]json.RawMessage
	// err joins the dispatches that failed.
	err error
}

// recheckAfter is how long after a record ended a dispatch of its callbacks first asks
// the engine which of them an earlier attempt already triggered (see
// dispatchedEarlier).
const recheckAfter = 2 * time.Second

// dispatchedEarlier returns, for a dispatch of todo (callbacks of rec with no marker)
// that comes more than recheckAfter after rec ended, the runs the engine already has
// for them (signature → run): an attempt that triggered them and died before it wrote
// the markers (a worker killed mid-dispatch, whose retry, on-failure step or reconciler
// completes the path) triggered them already. Those are recorded, not triggered again.
// A dispatch right after the transition (the normal path, and its retries within the
// attempt) asks nothing: the engine's run list can lag its triggers by a moment, so
// it would not know. It returns nil when the engine cannot be asked.
func (c *Client) dispatchedEarlier(ctx context.Context, rec *redisstore.Record, todo []redisstore.CallbackRef) map[string]string {
	rf, ok := c.dispatcher.(engine.RunFinder)
	if !ok || len(todo) == 0 || rec.EndedAt.IsZero() || time.Since(rec.EndedAt) < recheckAfter {
		return nil
	}
	runs, err := rf.RunsOf(ctx, rec.EndedAt.Add(-time.Minute), rec.ID)
	if err != nil {
		c.log.Warn("hatchetflow: cannot list the runs an earlier attempt dispatched; dispatching", "signature", rec.ID, "error", err)
		return nil
	}
	if len(runs) > 0 {
		c.log.Info("hatchetflow: callbacks an earlier attempt triggered are recorded, not triggered again",
			"signature", rec.ID, "runs", len(runs))
	}
	return runs
}

// dispatchEach is the one dispatch loop, for callbacks and swarm items alike: it
// triggers a run of each ref, with the message input builds for it and the metadata
// naming the signature and parent, the signature whose callbacks or items they are (a
// ref that waits for an event, a run of the wait task: see startRun).
// A ref that known names a run for (signature → run) is recorded with that run and
// not triggered.
// With an engine that takes batches (engine.BatchDispatcher), two refs or more go in
// one engine call per maxBatch refs (batch.go); otherwise, and for what a batch could
// not dispatch, each ref is triggered on its own, concurrently, so one failure never
// blocks the others.
func (c *Client) dispatchEach(ctx context.Context, parent string, outcome Outcome, refs []redisstore.CallbackRef, input func(redisstore.CallbackRef) map[string]any, known map[string]string) dispatched {
	d := dispatched{runs: map[string]string{}, inputs: map[string]json.RawMessage{}}
	modes := c.runModes(ctx, refs)
	// A ref that waits for an event runs the wait task now, which dispatches its task
	// with that task's run mode once the event came (startRun).
	mode := func(ref redisstore.CallbackRef) runMode {
		if ref.Wait {
			return runMode{}
		}
		return modes[ref.Task]
	}
	kwargs, err := c.boundKwargs(ctx, refs, mode)
	if err != nil {
		d.err = err
		return d
	}
	since := strconv.FormatInt(time.Now().UnixMilli(), 10)
	jobs := make([]*dispatchJob, len(refs))
	for i, ref := range refs {
		meta := map[string]string{engine.MetaSignature: ref.ID, engine.MetaParent: parent}
		if mode(ref).byEngine {
			meta[engine.MetaSettle] = engine.SettleByEngine
		}
		task := ref.Task
		if ref.Wait {
			task, meta[engine.MetaWaitSince] = WaitTask, since
		}
		dctx, done := c.tel.startDispatch(ctx, parent, ref, outcome, meta)
		msg := input(ref)
		if kw := kwargs[ref.ID]; len(kw) > 0 {
			msg = inject.Merge(msg, kw) // no hatchetflow step will merge them
		}
		jobs[i] = &dispatchJob{ref: ref, ctx: dctx, done: done, run: engine.Run{Task: task, Input: msg, Meta: meta},
			runID: known[ref.ID]}
	}
	var single []*dispatchJob
	for _, j := range jobs {
		if j.runID != "" {
			j.done(j.runID, nil) // recorded, not triggered
			continue
		}
		single = append(single, j)
	}
	if bd, ok := c.dispatcher.(engine.BatchDispatcher); ok && len(single) > 1 {
		sent := single
		single = c.dispatchBatches(ctx, bd, parent, single)
		for _, j := range sent {
			if j.runID != "" {
				j.done(j.runID, nil) // each span ends when its batch returned
			}
		}
	}
	var wg sync.WaitGroup
	for _, j := range single {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.runID, j.err = c.dispatcher.Dispatch(j.ctx, j.run.Task, j.run.Input, j.run.Meta)
			j.done(j.runID, j.err)
		}()
	}
	wg.Wait()
	var errs []error
	var watch []string
	for _, j := range jobs {
		if j.err != nil {
			c.log.Warn("hatchetflow: dispatch failed", "parent", parent,
				"signature", j.ref.ID, "task", j.ref.Task, "outcome", outcome, "error", j.err)
			errs = append(errs, j.err)
			continue
		}
		d.runs[j.ref.ID] = j.runID
		d.inputs[j.ref.ID], _ = json.Marshal(j.run.Input)
		if mode(j.ref).byEngine {
			watch = append(watch, j.ref.ID)
		}
	}
	if err := c.watchEngineSettled(ctx, watch...); err != nil {
		errs = append(errs, err)
	}
	d.err = errors.Join(errs...)
	return d
}

// dispatchJob is one ref of a dispatchEach: the run to trigger, its dispatch span's
// context and end, and the outcome.
type dispatchJob struct {
	ref   redisstore.CallbackRef
	ctx   context.Context
	done  func(runID string, err error)
	run   engine.Run
	runID string
	err   error
}

// runMode is how the runs of a task are dispatched.
type runMode struct {
	// mergeKwargs: no hatchetflow main step merges the signature's bound kwargs into
	// its message, so the dispatch does (a task hatchetflow does not run, a workflow
	// of several tasks).
	mergeKwargs bool
	// byEngine: no hatchetflow step settles the signature. Its runs carry
	// [engine.MetaSettle] and it joins the engine-settled set, which the reconciler
	// settles from the engine's verdict.
	byEngine bool
}

// runModes returns the run mode of each task of refs. A task that neither this client
// nor any worker registered (a plain Hatchet task, another language's, signed with a
// validator) is settled by the engine; a registered workflow of several tasks
// ([redisstore.KindWorkflow]) takes its kwargs from the dispatch and is settled by
// hatchetflow's steps added to it. A registry that cannot be read counts as unknown:
// watching a run that a hatchetflow step settles costs a little and changes nothing.
func (c *Client) runModes(ctx context.Context, refs []redisstore.CallbackRef) map[string]runMode {
	out := map[string]runMode{}
	for _, ref := range refs {
		if _, seen := out[ref.Task]; seen {
			continue
		}
		defs, err := c.lookupTasks(ctx, []string{ref.Task})
		switch {
		case err != nil:
			out[ref.Task] = runMode{mergeKwargs: true, byEngine: true}
		case defs[ref.Task].Kind == redisstore.KindWorkflow:
			out[ref.Task] = runMode{mergeKwargs: true}
		default:
			out[ref.Task] = runMode{}
		}
	}
	return out
}

// boundKwargs reads the bound kwargs of the refs whose run mode merges them at
// dispatch, in one round trip when there are any.
func (c *Client) boundKwargs(ctx context.Context, refs []redisstore.CallbackRef, mode func(redisstore.CallbackRef) runMode) (map[string]map[string]any, error) {
	var ids []string
	for _, ref := range refs {
		if mode(ref).mergeKwargs {
			ids = append(ids, ref.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	recs, err := c.store.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]any, len(recs))
	for id, rec := range recs {
		if rec != nil {
			out[id] = rec.Kwargs
		}
	}
	return out, nil
}

// watchEngineSettled adds the signatures ids, whose runs were just dispatched, to the
// engine-settled set, retrying through a short outage: a signature that is not in it
// is never settled by the reconciler.
func (c *Client) watchEngineSettled(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	now := time.Now()
	return c.retrying(ctx, "watch", func() error { return c.store.WatchEngineSettled(ctx, now, ids...) })
}

// retrying runs fn until it succeeds, fails with an error that retrying cannot fix
// (a refused transition, a missing signature), ctx ends, or the step retry time is
// spent, backing off from 50 ms to 2 s. It keeps a step alive through a short Redis
// outage instead of spending the engine's retries.
func (c *Client) retrying(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(c.cfg.StepRetryTime)
	pause := poll.New(50*time.Millisecond, 2*time.Second)
	for {
		err := fn()
		if err != nil {
			c.tel.failedTry(ctx, what, err)
		}
		if err == nil || errors.Is(err, redisstore.ErrTransition) || errors.Is(err, redisstore.ErrNotFound) {
			return err
		}
		if time.Now().Add(pause.Delay()).After(deadline) {
			return err
		}
		c.log.Warn("hatchetflow: retrying", "step", what, "in", pause.Delay(), "error", err)
		c.tel.retry(ctx, what, err)
		if cerr := pause.Wait(ctx); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
}

func callbackIDs(cbs []redisstore.CallbackRef) []string {
	out := make([]string, len(cbs))
	for i, cb := range cbs {
		out[i] = cb.ID
	}
	return out
}
