package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"slices"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// SwarmState is a swarm as stored: its status, configuration and items.
type SwarmState struct {
	// ID is the swarm id.
	ID string
	// Status is pending until the swarm's run starts it, active while items run,
	// done once it was closed and every item ended (below StopAfter), failed once
	// StopAfter items failed.
	Status Status
	// Closed is true when no item may be added.
	Closed bool
	// MaxConcurrency, StopAfter and MaxItems are the swarm's options (0: none).
	MaxConcurrency, StopAfter, MaxItems int
	// Queued, Running, Done and Failed count the items in each state.
	Queued, Running, Done, Failed int
	// Items are the items in order.
	Items []SwarmItemState
	// Result is the list of the items' results once the swarm is done; Error the
	// reason it failed.
	Result json.RawMessage
	Error  string
}

// SwarmItemState is one item of a swarm.
type SwarmItemState struct {
	// Index is the item's position; ID and Task its entry signature (a chain's first
	// step; a nested swarm's own id and SwarmTask).
	Index    int
	ID, Task string
	// State is "queued", "claimed" (about to be dispatched), "running", "done" or
	// "failed"; RunID the run it was dispatched as.
	State string
	RunID string
	// Result is a done item's return value; Error a failed item's error.
	Result json.RawMessage
	Error  string
}

// SwarmItem is an item to add to an open swarm with [Client.AddItems]: a spec (a
// builder, chain, swarm, or a saved pending signature) and its own input, merged
// under the swarm's and the spec's kwargs (nil: the swarm's input only).
type SwarmItem struct {
	Spec  dsl.Spec
	Input any
}

// swarmRecord reads the record of swarm id.
func (c *Client) swarmRecord(ctx context.Context, id string) (*redisstore.Record, error) {
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.Kind != redisstore.KindSwarm {
		return nil, fmt.Errorf("%w: %q", ErrNotASwarm, id)
	}
	return rec, nil
}

// Swarm reads swarm id with its items, in three round trips (the record, the items,
// the running items' signatures).
func (c *Client) Swarm(ctx context.Context, id string) (*SwarmState, error) {
	rec, err := c.swarmRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	items, err := c.store.SwarmItems(ctx, id)
	if err != nil {
		return nil, err
	}
	entries, err := c.store.GetMany(ctx, claimedEntries(items))
	if err != nil {
		return nil, err
	}
	st := &SwarmState{ID: id, Status: rec.Status, Closed: rec.Swarm.Closed, MaxConcurrency: rec.Swarm.MaxConcurrency,
		StopAfter: rec.Swarm.StopAfter, MaxItems: rec.Swarm.MaxItems, Result: rec.Result, Error: rec.Error}
	for _, it := range items {
		is := SwarmItemState{Index: it.Index, ID: it.Ref.ID, Task: it.Ref.Task,
			State: string(it.State), RunID: it.RunID, Result: it.Result, Error: it.Error}
		switch it.State {
		case redisstore.ItemQueued:
			st.Queued++
		case redisstore.ItemClaimed:
			st.Running++
			is.State = "running"
			if e := entries[it.Ref.ID]; e != nil {
				is.RunID = e.RunID
			}
		case redisstore.ItemDone:
			st.Done++
		case redisstore.ItemFailed:
			st.Failed++
		}
		st.Items = append(st.Items, is)
	}
	return st, nil
}

// claimedEntries returns the entry ids of the claimed (running) items.
func claimedEntries(items []redisstore.SwarmItem) []string {
	var ids []string
	for _, it := range items {
		if it.State == redisstore.ItemClaimed {
			ids = append(ids, it.Ref.ID)
		}
	}
	return ids
}

// AddItems appends items to the open swarm id and returns the index of the first.
// Their records are saved first; in an active swarm they start as soon as the
// concurrency bound allows. A closed swarm gives [ErrSwarmClosed]; an ended one a
// [*NotPendingError]; one that would exceed its MaxItems a [*SwarmFullError]. Nothing
// is added on error.
func (c *Client) AddItems(ctx context.Context, id string, items ...SwarmItem) (int, error) {
	return c.addItems(ctx, id, items, false)
}

// AddItemsAndClose is [Client.AddItems] that also closes the swarm, atomically.
func (c *Client) AddItemsAndClose(ctx context.Context, id string, items ...SwarmItem) (int, error) {
	return c.addItems(ctx, id, items, true)
}

func (c *Client) addItems(ctx context.Context, id string, items []SwarmItem, closeAfter bool) (int, error) {
	if len(items) == 0 && !closeAfter {
		return 0, fmt.Errorf("hatchetflow: AddItems to swarm %s: no items", id)
	}
	specs := make([]dsl.Spec, len(items))
	inputs := make([]map[string]any, len(items))
	for i, it := range items {
		if err := partsOf(it.Spec).err; err != nil {
			return 0, fmt.Errorf("swarm item %d: %w", i, err)
		}
		specs[i] = it.Spec
		if it.Input != nil {
			m, err := toObject(it.Input)
			if err != nil {
				return 0, fmt.Errorf("swarm item %d input: %w", i, err)
			}
			inputs[i] = m
		}
	}
	for attempt := 0; ; attempt++ {
		rec, err := c.swarmRecord(ctx, id)
		if err != nil {
			return 0, err
		}
		if err := addable(rec, len(items)); err != nil {
			return 0, err
		}
		first := rec.Counts.Items
		t, err := c.newTree(ctx, "", specs...)
		if err != nil {
			return 0, err
		}
		refs := make([]redisstore.CallbackRef, len(specs))
		for i, s := range specs {
			defaults := withDefaults(rec.Kwargs, inputs[i])
			n, err := t.compile(s, frame{defaults: defaults, item: &redisstore.SwarmItemRef{SwarmID: id, Index: first + i}})
			if err != nil {
				return 0, fmt.Errorf("swarm item %d: %w", i, err)
			}
			refs[i] = n.entry.ref()
		}
		if err := c.write(ctx, t.plan); err != nil {
			return 0, err
		}
		at, end, err := c.store.SwarmAdd(ctx, id, refs, first, closeAfter, nowMS())
		var moved *redisstore.SwarmMovedError
		if errors.As(err, &moved) && len(t.plan.links) == 0 && attempt < 5 {
			c.discard(ctx, t.plan)
			continue // another add came first: compile for the new indices
		}
		if err != nil {
			c.discard(ctx, t.plan)
			return 0, err
		}
		return at, c.retrying(ctx, "swarm add", func() error { return c.advance(ctx, id, end, "") })
	}
}

// addable refuses adding n items to rec before anything is written.
func addable(rec *redisstore.Record, n int) error {
	switch {
	case rec.Status != StatusPending && rec.Status != StatusActive && rec.Status != StatusSuspended:
		return &NotPendingError{ID: rec.ID, Status: rec.Status, RunID: rec.RunID}
	case rec.Swarm.Closed:
		return fmt.Errorf("%w: %q", ErrSwarmClosed, rec.ID)
	case rec.Swarm.MaxItems > 0 && rec.Counts.Items+n > rec.Swarm.MaxItems:
		return &SwarmFullError{ID: rec.ID, Items: rec.Counts.Items, Adding: n, Max: rec.Swarm.MaxItems}
	}
	return nil
}

// discard deletes the records a failed add saved (best effort: they expire anyway).
func (c *Client) discard(ctx context.Context, p *plan) {
	for _, r := range p.recs {
		_ = c.store.Delete(ctx, r.ID)
	}
}

// CloseSwarm closes swarm id: no item may be added, and the swarm ends once every
// item ended (at once, when they all have). Closing a closed swarm changes nothing; an
// ended swarm gives a [*NotPendingError].
func (c *Client) CloseSwarm(ctx context.Context, id string) error {
	if _, err := c.swarmRecord(ctx, id); err != nil {
		return err
	}
	complete, err := c.store.SwarmClose(ctx, id)
	if err != nil {
		return err
	}
	if complete {
		return c.retrying(ctx, "swarm close", func() error { return c.completeSwarm(ctx, id) })
	}
	return nil
}

// ReconcileSwarm checks the items of swarm id against their signatures and runs, and
// settles what an event lost on the way left open: an item whose signature (chain,
// swarm) ended but whose end the swarm did not record; an item whose run ended
// (failed, timed out, cancelled) without its failure being recorded, checked against
// the engine when the dispatcher is a [engine.RunChecker]; an item claimed but never
// dispatched. A swarm whose completion or stop was recorded but not acted on is ended.
// It reports whether the swarm has ended. The reconciler a worker hosts does the same
// every [WithSwarmWatchInterval], except that it leaves an item whose signature or run
// ended less than 3 s before to that item's run, which normally completes it; a test
// or an operator may call ReconcileSwarm to settle at once.
func (c *Client) ReconcileSwarm(ctx context.Context, id string) (ended bool, err error) {
	return c.reconcileSwarm(ctx, id, false)
}

// reconcileSwarm is ReconcileSwarm; with grace, items that ended (or whose runs failed)
// under endedGrace ago are left for a later pass.
func (c *Client) reconcileSwarm(ctx context.Context, id string, grace bool) (ended bool, err error) {
	rec, err := c.swarmRecord(ctx, id)
	if err != nil {
		return false, err
	}
	switch {
	case rec.Status.Ended():
		return true, nil
	case rec.Status == StatusPending:
		return false, nil
	}
	if rec.Counts.Complete {
		return false, c.completeSwarm(ctx, id)
	}
	if rec.Counts.Stopped {
		return false, c.stopSwarm(ctx, id, stopFailures(rec), "")
	}
	items, err := c.store.SwarmItems(ctx, id)
	if err != nil {
		return false, err
	}
	entries, err := c.store.GetMany(ctx, claimedEntries(items))
	if err != nil {
		return false, err
	}
	var errs []error
	var stale []redisstore.SwarmItem
	now := nowMS()
	for _, it := range items {
		if it.State != redisstore.ItemClaimed {
			continue
		}
		entry := entries[it.Ref.ID]
		if entry != nil && entry.Status == StatusPending {
			// Claimed, and its run never started it: the dispatch may be lost.
			if now-it.ClaimedAt > staleClaim.Milliseconds() {
				stale = append(stale, it)
			}
			continue
		}
		ref := redisstore.SwarmItemRef{SwarmID: id, Index: it.Index}
		if err := c.reconcileItem(ctx, ref, it, entry, rec.Input, grace); err != nil {
			errs = append(errs, err)
		}
	}
	if len(stale) > 0 {
		// A task no hatchetflow step runs leaves its signature pending while its run
		// goes on: the reconciler settles it from the run, so it is not lost.
		ids := make([]string, len(stale))
		for i, it := range stale {
			ids[i] = it.Ref.ID
		}
		inFlight, err := c.store.EngineSettledAmong(ctx, ids...)
		if err != nil {
			return false, errors.Join(append(errs, err)...)
		}
		stale = slices.DeleteFunc(stale, func(it redisstore.SwarmItem) bool { return inFlight[it.Ref.ID] })
	}
	if len(stale) > 0 {
		c.log.Warn("hatchetflow: swarm items claimed but not started; dispatching them again", "swarm", id, "items", len(stale))
		if err := c.dispatchItems(ctx, id, &redisstore.ItemEnd{Claimed: stale, Input: rec.Input}); err != nil {
			errs = append(errs, err)
		}
	}
	return false, errors.Join(errs...)
}

// reconcileItem settles one claimed item whose entry record is entry (nil: gone).
func (c *Client) reconcileItem(ctx context.Context, ref redisstore.SwarmItemRef, it redisstore.SwarmItem, entry *redisstore.Record, input json.RawMessage, grace bool) error {
	if entry == nil {
		c.log.Warn("hatchetflow: swarm item's signature is gone; item failed", "swarm", ref.SwarmID, "item", ref.Index, "signature", it.Ref.ID)
		return c.endItem(ctx, ref, it.Ref.ID, "", true, "signature not found: expired or deleted")
	}
	if entry.Item == nil && len(entry.Containers) > 0 {
		// A chain item: its state is derived from its steps.
		chainID := entry.Containers[len(entry.Containers)-1]
		chain, err := c.store.Get(ctx, chainID)
		if err != nil {
			return err
		}
		st, err := c.chainState(ctx, chain)
		if err != nil {
			return err
		}
		switch st.Status {
		case StatusDone:
			return c.endItem(ctx, ref, "", st.Steps[len(st.Steps)-1].RunID, false, string(st.Result))
		case StatusFailed:
			return c.endItem(ctx, ref, "", st.Steps[st.Current].RunID, true, st.Error)
		}
		return nil
	}
	if grace && (entry.Status == StatusDone || entry.Status == StatusFailed) && time.Since(entry.EndedAt) < endedGrace {
		// Its run may still be completing its path (the markers, the item's end):
		// doing it beside that run could trigger a callback twice. Next pass.
		return nil
	}
	switch entry.Status {
	case StatusDone:
		if entry.Kind == redisstore.KindSwarm {
			return c.endItem(ctx, ref, it.Ref.ID, entry.RunID, false, string(entry.Result))
		}
		// Finish applied but the success path did not complete, or its end never
		// reached the swarm: run the success path again (what went out is skipped) and
		// record the end (a duplicate end changes nothing).
		var in map[string]any
		_ = json.Unmarshal(input, &in)
		if err := c.succeed(ctx, entry, entry.RunID, entry.Result, inject.Merge(in, nil)); err != nil {
			return err
		}
		return c.endItem(ctx, ref, it.Ref.ID, entry.RunID, false, string(entry.Result))
	case StatusFailed:
		return c.endItem(ctx, ref, it.Ref.ID, entry.RunID, true, entry.Error)
	}
	rc, ok := c.dispatcher.(engine.RunChecker)
	if !ok || entry.RunID == "" || entry.Kind == redisstore.KindSwarm {
		return nil
	}
	rs, err := rc.RunStatus(ctx, entry.RunID)
	if err != nil || !rs.Ended || rs.Succeeded {
		return err
	}
	if grace && !rs.Cancelled && !c.settleAfterGrace(entry.ID) {
		return nil // the run's last attempt ends it, normally at once: look again next pass
	}
	// The run ended without the signature's failure path (a cancelled run has no
	// on-failure step): run it now.
	msg := rs.Message
	if rs.Cancelled {
		msg = "run cancelled: " + msg
	}
	var in map[string]any
	_ = json.Unmarshal(input, &in)
	return c.failRecord(ctx, it.Ref.ID, entry.RunID, msg, in, inject.TaskError{})
}

// swarmFailed is the error of the failed swarm rec: the failure count it stopped at,
// or 0 when it failed without stopping (its own run failed).
func swarmFailed(rec *redisstore.Record) *SwarmFailedError {
	e := &SwarmFailedError{ID: rec.ID, Message: rec.Error}
	if rec.Counts.Stopped {
		e.Failures = stopFailures(rec)
	}
	return e
}

// waitSwarm waits until swarm id ended and returns its result list, or a
// [*SwarmFailedError]. An in-memory dispatcher ([engine.Stepper]) is stepped meanwhile.
func (c *Client) waitSwarm(ctx context.Context, id string) (json.RawMessage, error) {
	stepper, _ := c.dispatcher.(engine.Stepper)
	pause := poll.New(5*time.Millisecond, 250*time.Millisecond)
	for {
		rec, err := c.store.Get(ctx, id)
		if err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
			return nil, err
		}
		if rec != nil {
			switch rec.Status {
			case StatusDone:
				return rec.Result, nil
			case StatusFailed:
				return nil, swarmFailed(rec)
			case StatusCancelled:
				return nil, &RunError{RunID: rec.RunID, Task: SwarmTask, Message: rec.Error, Cancelled: true}
			}
		}
		if stepper != nil {
			if !stepper.Step(ctx) {
				if rec != nil && rec.Status == StatusActive && !rec.Swarm.Closed {
					return nil, fmt.Errorf("hatchetflow: swarm %s is open and has nothing left to run: close it first", id)
				}
				return nil, fmt.Errorf("hatchetflow: swarm %s has not ended and nothing is queued", id)
			}
			continue
		}
		if err := pause.Wait(ctx); err != nil {
			return nil, fmt.Errorf("hatchetflow: wait for swarm %s: %w", id, err)
		}
	}
}
