package hatchetflow

import (
	"context"
	"fmt"
	"slices"

	"github.com/hatchetflow/go/redisstore"
)

// Delete removes signature, chain or swarm id with everything under it at once
// (MageFlow's remove): a signature's callbacks and theirs, a chain's steps and
// callbacks, a swarm's items and callbacks, nested containers too. It returns how many
// records it removed. A run that later starts a deleted signature calls no user code
// (it finds no signature and says so in the worker's log); a run that is active when
// its signature is deleted finishes without dispatching anything. Deleting does not
// cancel engine runs: use [Client.Cancel] first to stop work. The tree is read level
// by level (one round trip per level) and removed in one pipeline.
func (c *Client) Delete(ctx context.Context, id string) (int, error) {
	if !redisstore.ValidID(id) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	seen := map[string]bool{id: true}
	// Entries of callbacks and swarm items: a chain used as either is reached through
	// its first step, whose outermost chain (and that chain's error callbacks) belong to
	// the tree.
	entry := map[string]bool{}
	level := []string{id}
	var all []string
	for len(level) > 0 {
		recs, err := c.store.GetMany(ctx, level)
		if err != nil {
			return 0, err
		}
		if len(all) == 0 && recs[id] == nil {
			return 0, &SignatureNotFoundError{ID: id}
		}
		var next []string
		add := func(ids ...string) {
			for _, x := range ids {
				if x != "" && !seen[x] {
					seen[x] = true
					next = append(next, x)
				}
			}
		}
		for _, lid := range level {
			r := recs[lid]
			if r == nil {
				continue // expired or never saved: nothing to remove
			}
			all = append(all, lid)
			for _, cb := range slices.Concat(callbackIDs(r.OnSuccess), callbackIDs(r.OnError), callbackIDs(r.Finally)) {
				entry[cb] = true
				add(cb)
			}
			add(r.Steps...)
			add(r.Leaves...)
			for _, cb := range slices.Concat(r.ChainErrors, r.ChainFinally) {
				// A chain's error and finally callbacks belong to the chain: removed
				// with it only.
				if seen[cb.ContainerID] {
					add(cb.ID)
				}
			}
			if r.Kind == redisstore.KindSwarm {
				items, err := c.store.SwarmItems(ctx, lid)
				if err != nil {
					return 0, err
				}
				for _, it := range items {
					entry[it.Ref.ID] = true
					add(it.Ref.ID)
				}
			}
			if entry[lid] && r.FirstLeaf && len(r.Containers) > 0 {
				add(r.Containers[len(r.Containers)-1]) // a chain callback or item: its chain
			}
		}
		level = next
	}
	if err := c.store.DeleteMany(ctx, all); err != nil {
		return 0, err
	}
	return len(all), nil
}
