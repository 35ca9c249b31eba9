package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	//lint:ignore SA1019 the durable context's WaitFor takes exactly these conditions
	"github.com/hatchet-dev/hatchet/pkg/worker/condition"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// A signature that waits for an outside event (dsl.Builder.After) is not dispatched
// as its task: whichever path starts it (Run, a callback dispatch, a chain moving on)
// dispatches a run of WaitTask in its place, with the message the task would have got
// and the same metadata (startRun, dispatchEach). That run is a Hatchet durable task:
// it waits durably (holding no worker slot) for the Hatchet event named by the wait,
// scoped by its key, or for the timeout, whichever comes first. The signature stays
// pending meanwhile; its record names the wait (Record.Wait) and the run that waits
// (Record.WaitRunID), which Cancel cancels. On the event the run dispatches the task's
// run through startRun, as its child (the engine's child key makes it one run however
// often the durable task replays), with the signal's payload in the task's signal
// field; on the timeout it fails the signature through failRecord, the one failure
// path (error callbacks once).

// WaitTask is the internal durable task every worker registers next to the user's: a
// signature that waits for an event (dsl.Builder.After) runs as a run of it until the
// event comes or its wait times out (see docs/workflows.md, "Waiting for an event").
const WaitTask = "hatchetflow-wait"

// waitRetries is how many times the engine retries a failed attempt of the wait task
// (a worker lost while the wait was in memory, Redis unreachable at the release): a
// retry waits again, for what is left of the timeout, and a signal pushed since the
// wait began still counts.
const waitRetries = 3

// waitEviction is the eviction policy of WaitTask, the SDK's default for durable
// tasks: a run that has waited 15 minutes (or less, when the worker's durable slots run
// short) leaves its worker, and the engine restores it, replaying its step, once its
// event or timeout came. Tests shorten it (export_test.go).
var waitEviction = *hatchet.DefaultDurableTaskEvictionPolicy

// waitDef is the task definition of WaitTask for a client whose signatures live
// activeTTL: its attempts may last as long as a wait may (under half of it), and more.
func (c *Client) waitDef(activeTTL time.Duration) *taskDef {
	eviction := waitEviction
	return &taskDef{name: WaitTask, kind: redisstore.KindDurable, schema: objectSchema,
		cfg: taskConfig{retries: waitRetries, retriesSet: true, executionTimeout: activeTTL,
			hatchetTask: []hatchet.TaskOption{hatchet.WithEvictionPolicy(&eviction)}},
		fields: inject.Fields{Return: inject.DefaultReturnField}, inType: "map[string]any", outType: "map[string]any",
		steps: func(def *taskDef) (engine.StepFunc, engine.StepFunc) { return c.waitStep(def), nil }}
}

// waitStep is the main step of WaitTask: it records itself as the run that waits for
// the signature its metadata names, waits for the event or the timeout, and then
// releases the signature (its task's run, with the signal's payload) or fails it.
func (c *Client) waitStep(def *taskDef) engine.StepFunc {
	return c.traced(def, "hatchetflow.wait", true, func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		meta := hctx.AdditionalMetadata()
		sigID := meta[engine.MetaSignature]
		if !redisstore.ValidID(sigID) {
			return nil, NonRetryable(fmt.Errorf("%w: %q in run metadata %s", ErrInvalidSignatureID, sigID, engine.MetaSignature))
		}
		runID := hctx.WorkflowRunId()
		var rec *redisstore.Record
		err := c.retrying(ctx, "wait", func() (err error) {
			rec, err = c.store.MarkWaiting(ctx, sigID, runID)
			return err
		})
		switch {
		case errors.Is(err, redisstore.ErrNotFound):
			c.log.Warn("hatchetflow: signature not found; nothing to wait for", "signature", sigID, "run", runID)
			return nil, NonRetryable(&SignatureNotFoundError{ID: sigID, Callback: meta[engine.MetaParent] != ""})
		case errors.Is(err, redisstore.ErrTransition):
			// Cancelled, or started by the task's run this wait released already (a
			// replay after the release): nothing to wait for.
			c.log.Info("hatchetflow: signature no longer waits; nothing to do", "signature", sigID, "run", runID, "error", err)
			return skippedOutput, nil
		case err != nil:
			return nil, c.waitFailed(ctx, def, hctx, sigID, input, err)
		case rec.Wait == nil:
			return nil, NonRetryable(fmt.Errorf("hatchetflow: signature %s waits for no event", sigID))
		}
		w := engine.EventWait{Event: rec.Wait.Event, Key: rec.Wait.Key, Timeout: rec.Wait.Timeout, Since: waitSince(meta)}
		payload, released, err := c.awaitEvent(hctx, w)
		switch {
		case errors.Is(err, engine.ErrWaitParked):
			return nil, err // a harness runs the run again once it can answer
		case err != nil && ctx.Err() != nil:
			// Cancelled on the engine (Client.Cancel did so and cancelled the signature
			// too; from the dashboard, the signature is cancelled here).
			if _, ok := c.dispatcher.(engine.Canceller); ok {
				go c.settleExternalCancel(context.WithoutCancel(ctx), sigID, runID)
			}
			return nil, err
		case err != nil:
			return nil, c.waitFailed(ctx, def, hctx, sigID, input, err)
		case !released:
			return c.waitTimedOut(ctx, def, hctx, rec, input)
		}
		// Released: the task's run, a child of this one (once, however often this
		// durable run replays), with the run's metadata (the parent, the caller's keys).
		own := maps.Clone(meta)
		for _, k := range []string{engine.MetaWaitSince, "traceparent", "tracestate"} {
			delete(own, k)
		}
		msg := inject.SignalInput(input, inject.Fields{Signal: rec.Wait.Field}, payload)
		var run string
		err = c.retrying(ctx, "release", func() (err error) {
			run, _, err = c.startRun(ctx, rec, msg, own, runCall{hctx: hctx, release: true})
			return err
		})
		if err != nil {
			return nil, c.waitFailed(ctx, def, hctx, sigID, input, err)
		}
		return json.Marshal(map[string]any{"released": true, "run": run})
	})
}

// waitTimedOut fails signature rec, whose wait timed out, through the one failure
// path: error callbacks once, with the message it was run with and a TaskError saying
// which event it waited for. The failure names no run (the task never ran), so a
// handle that waits for the signature's run ends with it.
func (c *Client) waitTimedOut(ctx context.Context, def *taskDef, hctx hatchet.Context, rec *redisstore.Record, input map[string]any) (json.RawMessage, error) {
	msg := fmt.Sprintf("timed out after %v waiting for event %q (key %q)", rec.Wait.Timeout, rec.Wait.Event, rec.Wait.Key)
	bg := context.WithoutCancel(ctx)
	err := c.retrying(bg, "wait timeout", func() error { return c.failRecord(bg, rec.ID, "", msg, input, inject.TaskError{}) })
	switch {
	case errors.Is(err, redisstore.ErrNotFound): // deleted while it waited, as a replay finds it
		c.log.Warn("hatchetflow: signature not found; nothing to fail at its wait's timeout", "signature", rec.ID)
		return nil, NonRetryable(&SignatureNotFoundError{ID: rec.ID})
	case err != nil:
		return nil, c.waitFailed(ctx, def, hctx, rec.ID, input, err)
	}
	c.tel.ended(ctx, rec.Task, outcomeFailure)
	return json.Marshal(map[string]any{"timed_out": true})
}

// waitFailed is the error of an attempt of the wait task that could not complete:
// the engine retries it; the last attempt fails the signature through the failure
// path first (as a task's last attempt does), or leaves it to the reconciler.
func (c *Client) waitFailed(ctx context.Context, def *taskDef, hctx hatchet.Context, sigID string, input map[string]any, err error) error {
	if IsNonRetryable(err) || hctx.RetryCount() >= def.cfg.retries {
		c.endLastAttempt(ctx, def, sigID, hctx.WorkflowRunId(), input, err.Error())
	}
	return err
}

// waitSince is when the wait of the run with metadata meta began ([engine.MetaWaitSince]),
// or now when the metadata does not say.
func waitSince(meta map[string]string) time.Time {
	if ms, err := strconv.ParseInt(meta[engine.MetaWaitSince], 10, 64); err == nil {
		return time.UnixMilli(ms)
	}
	return time.Now()
}

// awaitEvent waits for w under hctx: through the harness's [engine.EventWaiter] when
// hctx is one, else durably, through the Hatchet durable context: one wait for either
// the event (name w.Event in the client's namespace, scope w.Key, pushed since
// w.Since: one pushed before the wait registered counts too) or a sleep for what is
// left of the timeout. A replay of the durable run gets the same answer at once.
func (c *Client) awaitEvent(hctx hatchet.Context, w engine.EventWait) (payload map[string]any, released bool, err error) {
	if ew, ok := hctx.(engine.EventWaiter); ok {
		return ew.WaitEvent(w)
	}
	dctx, ok := hctx.(hatchet.DurableContext)
	if !ok {
		return nil, false, NonRetryable(fmt.Errorf("%w: task %q", ErrNotDurable, WaitTask))
	}
	now, err := dctx.Now() // memoized: a replay computes the same sleep
	if err != nil {
		return nil, false, err
	}
	left := min(max(w.Since.Add(w.Timeout).Sub(now), time.Millisecond), w.Timeout)
	key := c.namespace() + w.Event // the SDK's Push adds the namespace; WaitFor does not
	res, err := dctx.WaitFor(condition.Or(
		condition.SleepCondition(left),
		condition.UserEventCondition(key, "", condition.WithEventScope(w.Key), condition.WithConsiderEventsSince(w.Since)),
	))
	if err != nil {
		return nil, false, err
	}
	//lint:ignore SA1019 the durable context's wait result; its keys name what was satisfied
	if !slices.Contains(res.Keys(), key) {
		return nil, false, nil // the sleep ended first
	}
	//lint:ignore SA1019 as above: the event's payload
	if err := res.Unmarshal(key, &payload); err != nil {
		return nil, false, NonRetryable(fmt.Errorf("hatchetflow: payload of event %q: %w", w.Event, err))
	}
	if payload == nil {
		payload = map[string]any{}
	}
	return payload, true, nil
}

// Signal pushes the outside event ev (its name and key) with payload, a JSON object
// (a map or a struct; nil is {}): every signature waiting for ev (dsl.Builder.After)
// whose wait began before the push runs now, its task receiving payload in its signal
// field (inject.Signal). On Hatchet it is an event push (hatchetClient.Events().Push
// of ev's name, with ev's key as its scope), so a push of that name and scope from
// anywhere (another language's SDK, Hatchet's webhooks) releases the same waits; a
// signal nothing waits for is kept by the engine and changes nothing. ev's timeout is
// not used. An invalid ev gives a [*dsl.EventError]; a payload that is not an object
// [ErrNotObject]; a dispatcher that cannot push events [ErrUnsupportedOption].
func (c *Client) Signal(ctx context.Context, ev dsl.EventWait, payload any) error {
	if err := ev.Err(); err != nil {
		return err
	}
	msg, err := toObject(payload)
	if err != nil {
		return err
	}
	s, ok := c.dispatcher.(engine.Signaller)
	if !ok {
		return fmt.Errorf("%w: the dispatcher cannot push events", ErrUnsupportedOption)
	}
	if err := s.Signal(ctx, ev.Name(), ev.Key(), msg); err != nil {
		return fmt.Errorf("hatchetflow: signal event %q key %q: %w", ev.Name(), ev.Key(), err)
	}
	return nil
}

// WaitState is what a waiting signature waits for, as [Client.Signature] and
// [Client.Tree] report it: while it is pending, its task has not run because the
// event has not come.
type WaitState struct {
	// Event is the event's name and Key its key.
	Event, Key string
	// Timeout is how long the wait lasts from when it began.
	Timeout time.Duration
	// RunID is the run of the wait task that waits ("" until it started).
	RunID string `json:",omitempty"`
}

// waitStateOf returns the wait of r, or nil.
func waitStateOf(r *redisstore.Record) *WaitState {
	if r.Wait == nil {
		return nil
	}
	return &WaitState{Event: r.Wait.Event, Key: r.Wait.Key, Timeout: r.Wait.Timeout, RunID: r.WaitRunID}
}
