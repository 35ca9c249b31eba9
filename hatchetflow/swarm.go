package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"maps"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// SwarmTask is the internal task every worker registers next to the user's: a swarm
// is started by a run of it (its signature is the swarm's record), and watched by the
// reconciler a worker hosts until it ends (see docs/swarms.md).
const SwarmTask = "hatchetflow-swarm"

// DefaultSwarmWatchInterval is how often the reconciler checks each running swarm's
// items against their runs (see [WithSwarmWatchInterval]).
const DefaultSwarmWatchInterval = 5 * time.Second

// staleClaim is how long an item may stay claimed without a recorded run before the
// reconciler dispatches it again (its first dispatch was lost with its worker).
const staleClaim = 10 * time.Second

// objectSchema accepts any JSON object.
var objectSchema = json.RawMessage(`{"type":"object"}`)

// registerInternal adds the internal tasks to c: the swarm task, and the wait task
// of signatures that wait for an event (eventwait.go).
func (c *Client) registerInternal() {
	for _, def := range []*taskDef{
		{name: SwarmTask, cfg: taskConfig{retries: 3, retriesSet: true, onFailureStep: true}, schema: objectSchema, output: swarmOutput,
			fields: inject.Fields{Return: inject.DefaultReturnField}, inType: "map[string]any", outType: swarmDef.OutputType,
			steps: func(def *taskDef) (engine.StepFunc, engine.StepFunc) {
				return c.swarmStartStep(def), c.onFailureStep(def)
			}},
		c.waitDef(c.store.ActiveTTL()),
	} {
		c.tasks[def.name] = def
		c.order = append(c.order, def.name)
	}
}

func nowMS() int64 { return time.Now().UnixMilli() }

// swarmStartStep is the main step of SwarmTask: it starts the swarm named by the
// run's signature metadata (pending → active for this run), keeps the run input as the
// swarm's input and dispatches its first items.
func (c *Client) swarmStartStep(def *taskDef) engine.StepFunc {
	return c.traced(def, "hatchetflow.swarm", true, func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		ctx := hctx.GetContext()
		id := hctx.AdditionalMetadata()[engine.MetaSignature]
		if !redisstore.ValidID(id) {
			return nil, NonRetryable(fmt.Errorf("%w: %q in run metadata %s", ErrInvalidSignatureID, id, engine.MetaSignature))
		}
		runID := hctx.WorkflowRunId()
		var (
			outcome redisstore.StartOutcome
			rec     *redisstore.Record
		)
		err := c.retrying(ctx, "swarm start", func() (err error) {
			outcome, rec, err = c.store.Start(ctx, id, runID, hctx.RetryCount()+1)
			return err
		})
		switch {
		case errors.Is(err, redisstore.ErrNotFound):
			return nil, NonRetryable(&SignatureNotFoundError{ID: id})
		case err != nil:
			return nil, err
		case outcome != redisstore.Started && outcome != redisstore.Resumed:
			return nil, NonRetryable(&NotPendingError{ID: id, Status: rec.Status, RunID: rec.RunID})
		case rec.Kind != redisstore.KindSwarm:
			return nil, NonRetryable(fmt.Errorf("%w: %q runs task %q", ErrNotASwarm, id, rec.Task))
		}
		raw, err := json.Marshal(input)
		if err != nil {
			return nil, NonRetryable(fmt.Errorf("hatchetflow: swarm %s input: %w", id, err))
		}
		var end *redisstore.ItemEnd
		if err := c.retrying(ctx, "swarm claim", func() (err error) {
			end, err = c.store.SwarmClaim(ctx, id, nowMS(), raw)
			return err
		}); err != nil {
			return nil, err
		}
		started := len(end.Claimed)
		if err := c.retrying(ctx, "swarm dispatch", func() error { return c.advance(ctx, id, end, "") }); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"swarm": id, "started": started})
	})
}

// advance acts on what an item transition reported: it dispatches the claimed items,
// or ends the swarm. Items it dispatched are removed from end, so a retry dispatches
// only the rest. lastErr is the failure that stopped the swarm, if any.
func (c *Client) advance(ctx context.Context, id string, end *redisstore.ItemEnd, lastErr string) error {
	switch {
	case end.Complete:
		return c.completeSwarm(ctx, id)
	case end.Stopped:
		return c.stopSwarm(ctx, id, end.Failures, lastErr)
	}
	return c.dispatchItems(ctx, id, end)
}

// dispatchItems dispatches end's claimed items of swarm id with the swarm's input,
// through the dispatch loop (two items or more in one batch). It writes nothing: an
// item's run is recorded by its own start.
func (c *Client) dispatchItems(ctx context.Context, id string, end *redisstore.ItemEnd) error {
	if len(end.Claimed) == 0 {
		return nil
	}
	base := map[string]any{}
	if len(end.Input) > 0 {
		if err := json.Unmarshal(end.Input, &base); err != nil {
			return fmt.Errorf("hatchetflow: swarm %s input: %w", id, err)
		}
	}
	refs := make([]redisstore.CallbackRef, len(end.Claimed))
	for i, it := range end.Claimed {
		refs[i] = it.Ref
	}
	d := c.dispatchEach(ctx, id, OutcomeSuccess, refs,
		func(ref redisstore.CallbackRef) map[string]any { return itemInput(base, ref) }, nil)
	rest := end.Claimed[:0]
	for _, it := range end.Claimed {
		if _, ok := d.runs[it.Ref.ID]; !ok {
			rest = append(rest, it)
		}
	}
	end.Claimed = rest
	return d.err
}

// endItem records that the swarm item ref ended in run runID (done with payload as its
// result, or failed with payload as its error) and acts on it. entry is the item's
// entry id, checked against the swarm's, or "" for a chain item.
func (c *Client) endItem(ctx context.Context, ref redisstore.SwarmItemRef, entry, runID string, failed bool, payload string) error {
	if !failed && payload == "" {
		payload = "null"
	}
	end, err := c.store.SwarmItemEnd(ctx, ref, entry, runID, failed, payload, nowMS())
	switch {
	case errors.Is(err, redisstore.ErrNotFound):
		c.log.Warn("hatchetflow: swarm expired or deleted; item end not recorded", "swarm", ref.SwarmID, "item", ref.Index)
		return nil
	case err != nil:
		return err
	case end.Duplicate:
		return nil
	}
	return c.advance(ctx, ref.SwarmID, end, payload)
}

// completeSwarm ends swarm id done: its result is its items' results in item order,
// and it finishes through the same path as a signature (its success callbacks, the
// next step of its chain, the item it is of an outer swarm).
func (c *Client) completeSwarm(ctx context.Context, id string) error {
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if rec.Status != StatusActive {
		return nil // ended already (a repeated completion)
	}
	items, err := c.store.SwarmItems(ctx, id)
	if err != nil {
		return err
	}
	if err := c.succeed(ctx, rec, rec.RunID, redisstore.SwarmResults(items), inputOf(rec)); err != nil {
		return err
	}
	return c.store.SwarmEnded(ctx, id)
}

// stopSwarm ends swarm id failed after failures failed items (the count the
// transition that stopped it recorded; 0: read it from the record), through the same
// path as a failed signature: its error callbacks with its input, its chains' error
// callbacks, the item it is of an outer swarm. lastErr is the failure that stopped it,
// "" when not known (the reconciler ends a stop that was recorded but not acted on).
func (c *Client) stopSwarm(ctx context.Context, id string, failures int, lastErr string) error {
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if rec.Status != StatusActive {
		return nil
	}
	if failures == 0 {
		failures = stopFailures(rec)
	}
	limit := 0
	if rec.Swarm != nil {
		limit = rec.Swarm.StopAfter
	}
	msg := fmt.Sprintf("swarm stopped: %d items failed (stop after %d)", failures, limit)
	if lastErr != "" {
		msg += "; last error: " + lastErr
	}
	if err := c.failRecord(ctx, id, rec.RunID, msg, nil, inject.TaskError{Failures: failures}); err != nil {
		return err
	}
	return c.store.SwarmEnded(ctx, id)
}

// stopFailures is how many items of the stopped swarm rec had failed when it stopped:
// the count its stopping transition recorded (items failing later do not change it),
// or its failure count now for a swarm stopped before that count was recorded.
func stopFailures(rec *redisstore.Record) int {
	if n := rec.Counts.StopFailures; n > 0 {
		return n
	}
	return rec.Counts.Failed
}

// itemInput is the input an item is dispatched with: the swarm's input, where a value
// injected into the swarm (it is a callback or a chain step) moves from the swarm's
// return field to the item's own.
func itemInput(base map[string]any, ref redisstore.CallbackRef) map[string]any {
	in := maps.Clone(base)
	if v, ok := in[swarmDef.ReturnField]; ok && ref.ReturnField != "" && ref.ReturnField != swarmDef.ReturnField {
		delete(in, swarmDef.ReturnField)
		if _, own := in[ref.ReturnField]; !own {
			in[ref.ReturnField] = v
		}
	}
	return in
}
