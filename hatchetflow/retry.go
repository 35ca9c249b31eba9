package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// ErrNotRetryable is matched by [*NotRetryableError].
var ErrNotRetryable = errors.New("hatchetflow: cannot retry")

// NotRetryableError is [Client.Retry]'s refusal: the node did not fail and was not
// cancelled (Status says what it is), or Reason says why it cannot run again.
type NotRetryableError struct {
	// ID is the node asked for; Status its status.
	ID     string
	Status Status
	// Reason is why it cannot be retried.
	Reason string
}

func (e *NotRetryableError) Error() string {
	return fmt.Sprintf("hatchetflow: cannot retry %s (%s): %s", e.ID, e.Status, e.Reason)
}

// Is reports ErrNotRetryable.
func (e *NotRetryableError) Is(target error) bool { return target == ErrNotRetryable }

// RetryOptions are the options of [Client.Retry]. A nil *RetryOptions means defaults.
type RetryOptions struct {
	// Kwargs are merged over the retried signature's bound kwargs (these win), checked
	// as UpdateKwargs checks them. Default none: the stored kwargs.
	Kwargs dsl.KW
}

// Retry runs a failed or cancelled node again from the signature that failed, with
// the input it ran with (its stored message) and its bound kwargs (with opts.Kwargs
// merged over them), and the callbacks of the original tree:
//
//   - a signature runs again; once it succeeds, its success callbacks run;
//   - a chain (or the id its parent lists for it) resumes at the step that failed or
//     was cancelled: the steps before it are not run again, the steps after it and the
//     chain's success callbacks follow as usual;
//   - a chain step given by its own id resumes its chain the same way;
//   - a failed swarm runs again its failed items only (signatures; a failed item that
//     is a chain or a swarm is refused): its done items keep their results, and once
//     its items all ended it completes or stops as usual.
//
// It is exactly once: the signature moves back to pending in one Redis transition
// (a concurrent Retry of the same node gets a [*NotRetryableError] for a pending
// one), then its run is dispatched. Callbacks that ran for the first end (its error
// callbacks, the chain's) never run again; their dispatch markers stay. Retry refuses
// with a [*NotRetryableError] a node that is pending, running, done or suspended, a
// cancelled swarm, a swarm's item given by its own id (retry the swarm), and a
// signature whose message was never stored (cancelled before it ever started, as a
// callback). If the dispatch fails, the signature stays pending: run it with
// dsl.Ref(id).Run.
//
// The returned handle follows the retried signature, or, for a chain, the chain from
// the retried step to its end.
func (c *Client) Retry(ctx context.Context, id string, opts *RetryOptions) (dsl.Handle, error) {
	if opts == nil {
		opts = &RetryOptions{}
	}
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if chain, err := c.chainStartedBy(ctx, rec); err != nil {
		return nil, err
	} else if chain != nil {
		rec = chain // the id a parent lists for a chain callback
	}
	if rec.Kind == redisstore.KindSwarm {
		return c.retrySwarm(ctx, rec)
	}
	target, chain, err := c.retryTarget(ctx, rec)
	if err != nil {
		return nil, err
	}
	input, err := c.retryInput(ctx, target, chain)
	if err != nil {
		return nil, err
	}
	if len(opts.Kwargs) > 0 {
		if err := c.checkRetryKwargs(ctx, target, input, opts.Kwargs); err != nil {
			return nil, err
		}
	}
	retried, err := c.store.Retry(ctx, target.ID)
	var te *redisstore.TransitionError
	if errors.As(err, &te) {
		return nil, &NotRetryableError{ID: id, Status: te.From, Reason: "another Retry or run moved it first"}
	}
	if err != nil {
		return nil, err
	}
	if len(opts.Kwargs) > 0 {
		if err := c.UpdateKwargs(ctx, target.ID, opts.Kwargs); err != nil {
			return nil, err
		}
	}
	if err := c.reviveBranch(ctx, retried); err != nil {
		return nil, err
	}
	h, err := c.run(ctx, dsl.Ref(target.ID), input, runCall{})
	if err != nil {
		return nil, err
	}
	if chain == nil {
		return h, nil
	}
	hh := h.(*Handle)
	i := max(indexOf(chain.Leaves, target.ID), 0)
	return &Handle{c: c, sigID: chain.ID, runID: hh.runID, task: hh.task, leaves: chain.Leaves[i:]}, nil
}

// retryTarget returns the signature to run again for rec, and the chain it resumes
// (nil for a plain signature).
func (c *Client) retryTarget(ctx context.Context, rec *redisstore.Record) (target, chain *redisstore.Record, err error) {
	refuse := func(st Status, reason string) error {
		return &NotRetryableError{ID: rec.ID, Status: st, Reason: reason}
	}
	switch rec.Kind {
	case redisstore.KindChain:
		st, err := c.chainState(ctx, rec)
		if err != nil {
			return nil, nil, err
		}
		if st.Status != StatusFailed && st.Status != StatusCancelled {
			return nil, nil, refuse(st.Status, "only a failed or cancelled chain runs again")
		}
		target, chain = st.leaves[st.Current], rec
	default:
		target = rec
		if len(rec.Containers) > 0 { // a chain step resumes its outermost chain
			chains, err := c.store.GetMany(ctx, rec.Containers)
			if err != nil {
				return nil, nil, err
			}
			chain = chains[rec.Containers[len(rec.Containers)-1]]
		}
	}
	if target.Status != StatusFailed && target.Status != StatusCancelled {
		return nil, nil, refuse(target.Status, "only a failed or cancelled signature runs again")
	}
	if target.Item != nil || (chain != nil && chain.Item != nil) {
		return nil, nil, refuse(target.Status, "a swarm's item runs again with its swarm: retry the swarm")
	}
	return target, chain, nil
}

// retryInput returns the message target ran with: its stored input, or, for a chain
// step that never started, the previous step's result as the step would have
// received it.
func (c *Client) retryInput(ctx context.Context, target, chain *redisstore.Record) (map[string]any, error) {
	if len(target.Input) > 0 {
		var in map[string]any
		if err := json.Unmarshal(target.Input, &in); err != nil {
			return nil, fmt.Errorf("hatchetflow: stored input of %s: %w", target.ID, err)
		}
		return in, nil
	}
	if chain != nil {
		if i := indexOf(chain.Leaves, target.ID); i > 0 {
			prev, err := c.store.Get(ctx, chain.Leaves[i-1])
			if err != nil {
				return nil, err
			}
			for _, cb := range prev.OnSuccess {
				if cb.ID == target.ID && prev.Status == StatusDone {
					return inject.SuccessInput(inject.Fields{Return: cb.ReturnField}, prev.Result), nil
				}
			}
		}
	}
	return nil, &NotRetryableError{ID: target.ID, Status: target.Status,
		Reason: "its message was never stored (it never started)"}
}

// checkRetryKwargs checks, before anything changes, that kw fits target: the merged
// kwargs within the client's size limit and the message valid for the task.
func (c *Client) checkRetryKwargs(ctx context.Context, target *redisstore.Record, input map[string]any, kw dsl.KW) error {
	merged := inject.Merge(target.Kwargs, normalize(kw))
	probe := *target
	probe.Kwargs = merged
	return c.checkMessage(ctx, &probe, input)
}

// reviveBranch gives back the active TTL to what the retried signature rec can still
// set off (its callbacks, its chains, their later steps and callbacks) and moves its
// chains back to active, in one pipeline: its end had given them the done TTL.
func (c *Client) reviveBranch(ctx context.Context, rec *redisstore.Record) error {
	alive := append(callbackIDs(rec.OnSuccess), callbackIDs(rec.OnError)...)
	var chains []redisstore.ContainerUpdate
	if len(rec.Containers) > 0 {
		recs, err := c.store.GetMany(ctx, rec.Containers)
		if err != nil {
			return err
		}
		for _, id := range rec.Containers {
			ch := recs[id]
			if ch == nil {
				continue
			}
			chains = append(chains, redisstore.ContainerUpdate{ID: id, Status: redisstore.ContainerReopen})
			alive = append(alive, id)
			alive = append(alive, ch.Leaves[max(indexOf(ch.Leaves, rec.ID)+1, 0):]...)
			alive = append(alive, callbackIDs(ch.OnSuccess)...)
			alive = append(alive, callbackIDs(ch.OnError)...)
		}
	}
	for _, cb := range rec.ChainErrors {
		alive = append(alive, cb.ID)
	}
	return c.store.MarkDispatched(ctx, rec.ID, OutcomeSuccess, nil, nil, nil, alive, chains...)
}

// retrySwarm runs the failed swarm rec again: its failed items are queued again and
// their signatures moved back to pending, the swarm is active again (its chains too),
// and the items it claims now are dispatched; its done items keep their results.
func (c *Client) retrySwarm(ctx context.Context, rec *redisstore.Record) (dsl.Handle, error) {
	refuse := func(reason string) error { return &NotRetryableError{ID: rec.ID, Status: rec.Status, Reason: reason} }
	if rec.Status != StatusFailed {
		return nil, refuse("only a failed swarm runs again")
	}
	if rec.Item != nil {
		return nil, refuse("a swarm that is an item of another swarm runs again with it")
	}
	items, err := c.store.SwarmItems(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	var entries []string
	for _, it := range items {
		if it.State == redisstore.ItemFailed {
			entries = append(entries, it.Ref.ID)
		}
	}
	recs, err := c.store.GetMany(ctx, entries)
	if err != nil {
		return nil, err
	}
	for _, id := range entries {
		if e := recs[id]; e == nil || e.Kind != redisstore.KindSignature || len(e.Containers) > 0 {
			return nil, refuse("a failed item is a chain or a swarm, or is gone; only signature items run again")
		}
	}
	end, again, err := c.store.SwarmRetry(ctx, rec.ID, nowMS())
	var np *redisstore.NotPendingError
	if errors.As(err, &np) {
		return nil, &NotRetryableError{ID: rec.ID, Status: np.Status, Reason: "another Retry moved it first"}
	}
	if err != nil {
		return nil, err
	}
	for _, i := range again {
		if i < 0 || i >= len(items) {
			continue
		}
		item, err := c.store.Retry(ctx, items[i].Ref.ID)
		var te *redisstore.TransitionError
		if errors.As(err, &te) || errors.Is(err, redisstore.ErrNotFound) {
			continue // not failed or cancelled (its start will tell), or gone
		}
		if err != nil {
			return nil, err
		}
		if err := c.reviveBranch(ctx, item); err != nil {
			return nil, err
		}
	}
	if err := c.reviveBranch(ctx, rec); err != nil {
		return nil, err
	}
	if err := c.dispatchItems(ctx, rec.ID, end); err != nil {
		return nil, err
	}
	return &Handle{c: c, sigID: rec.ID, runID: rec.RunID, task: SwarmTask, swarm: true}, nil
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}
