package hatchetflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// Node is one node of a tree read by [Client.Tree]: a signature, chain or swarm, with
// what hangs under it.
type Node struct {
	// ID is the record id; Kind "signature", "chain" or "swarm"; Task its task
	// (a container's: its internal name).
	ID, Kind, Task string
	// Status is the record's status (for a chain, its record's: see [ChainState]).
	Status Status
	// Kwargs are the bound kwargs; Result and Error what it ended with.
	Kwargs map[string]any  `json:",omitempty"`
	Result json.RawMessage `json:",omitempty"`
	Error  string          `json:",omitempty"`
	RunID  string          `json:",omitempty"`
	// Attempt is the owner run's latest attempt.
	Attempt int `json:",omitempty"`
	// Wait is the event a signature waits for before its task runs
	// (dsl.Builder.After); it stays pending until then.
	Wait *WaitState `json:",omitempty"`
	// CreatedAt is when it was saved; StartedAt and EndedAt when its run first
	// started and when it ended (nil until then; a chain's are its steps').
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time `json:",omitempty"`
	// Steps are a chain's direct steps, Items a swarm's items (in order), OnSuccess,
	// OnError and Finally the callbacks. A chain step's next step is in Steps of its
	// chain, not in its OnSuccess.
	Steps     []*Node `json:",omitempty"`
	Items     []*Node `json:",omitempty"`
	OnSuccess []*Node `json:",omitempty"`
	OnError   []*Node `json:",omitempty"`
	Finally   []*Node `json:",omitempty"`
	// Missing is true for a node that is referenced but gone (expired or deleted).
	Missing bool `json:",omitempty"`
}

// Tree reads the whole tree under id (callbacks, chain steps, swarm items, nested
// containers), one pipelined round trip per level of the tree (plus one per swarm for
// its item list). Nodes referenced but gone are marked Missing.
func (c *Client) Tree(ctx context.Context, id string) (*Node, error) {
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	nodes := map[string]*Node{}
	recs := map[string]*redisstore.Record{}
	swarmItems := map[string][]redisstore.SwarmItem{} // read once, while walking
	level := []string{id}
	for len(level) > 0 {
		got, err := c.store.GetMany(ctx, level)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 && got[id] == nil {
			return nil, &SignatureNotFoundError{ID: id}
		}
		var next []string
		want := func(ids ...string) {
			for _, x := range ids {
				if _, ok := nodes[x]; !ok && x != "" {
					nodes[x] = &Node{ID: x, Missing: true}
					next = append(next, x)
				}
			}
		}
		for _, lid := range level {
			r := got[lid]
			if r == nil {
				if nodes[lid] == nil {
					nodes[lid] = &Node{ID: lid, Missing: true}
				}
				continue
			}
			recs[lid] = r
			if r.Item == nil && len(r.Containers) > 0 {
				want(r.Containers[len(r.Containers)-1]) // a chain item's chain (items name its first step)
			}
			n := &Node{ID: lid, Kind: kindName(r.Kind), Task: r.Task, Status: r.Status, Kwargs: r.Kwargs,
				Result: r.Result, Error: r.Error, RunID: r.RunID, Attempt: r.Attempt, Wait: waitStateOf(r), CreatedAt: r.CreatedAt,
				StartedAt: timePtr(r.StartedAt), EndedAt: timePtr(r.EndedAt)}
			nodes[lid] = n
			want(callbackIDs(r.OnSuccess)...)
			want(callbackIDs(r.OnError)...)
			want(callbackIDs(r.Finally)...)
			want(r.Steps...)
			if r.Kind == redisstore.KindSwarm {
				items, err := c.store.SwarmItems(ctx, lid)
				if err != nil {
					return nil, err
				}
				swarmItems[lid] = items
				for _, it := range items {
					want(it.Ref.ID)
				}
			}
		}
		level = next
	}
	// Link children, and derive chain statuses.
	for nid, r := range recs {
		n := nodes[nid]
		steps := map[string]bool{}
		for _, s := range r.Steps {
			steps[s] = true
		}
		switch r.Kind {
		case redisstore.KindChain:
			for _, s := range r.Steps {
				n.Steps = append(n.Steps, nodes[s])
			}
			if st, err := chainStateOf(r, recs); err == nil { // every leaf is in the tree
				n.Status, n.Result, n.Error = st.Status, st.Result, st.Error
				n.StartedAt = timePtr(st.leaves[0].StartedAt)
				if st.Status.Ended() {
					n.EndedAt = timePtr(st.leaves[st.Current].EndedAt)
				}
			}
		case redisstore.KindSwarm:
			for _, it := range swarmItems[nid] {
				item := nodes[it.Ref.ID]
				if e := recs[it.Ref.ID]; e != nil && e.Item == nil && len(e.Containers) > 0 {
					item = nodes[e.Containers[len(e.Containers)-1]] // a chain item: the chain
				}
				n.Items = append(n.Items, item)
			}
		}
		for _, cb := range r.OnSuccess {
			if !isChainSuccessor(r, cb.ID, recs) {
				n.OnSuccess = append(n.OnSuccess, shownAs(r, cb.ID, nodes, recs))
			}
		}
		for _, cb := range r.OnError {
			n.OnError = append(n.OnError, shownAs(r, cb.ID, nodes, recs))
		}
		for _, cb := range r.Finally {
			n.Finally = append(n.Finally, shownAs(r, cb.ID, nodes, recs))
		}
	}
	return nodes[id], nil
}

// shownAs returns the node that callback cb of r stands for: a callback that is a
// chain is referenced by its first step, and shown as the chain (the outermost one
// that does not hold r itself).
func shownAs(r *redisstore.Record, cb string, nodes map[string]*Node, recs map[string]*redisstore.Record) *Node {
	e := recs[cb]
	if e == nil || e.Item != nil {
		return nodes[cb]
	}
	for i := len(e.Containers) - 1; i >= 0; i-- {
		if cid := e.Containers[i]; !slices.Contains(r.Containers, cid) && nodes[cid] != nil {
			return nodes[cid]
		}
	}
	return nodes[cb]
}

// isChainSuccessor reports whether callback cb of r is r's next chain step (it is
// shown under the chain, not as r's callback).
func isChainSuccessor(r *redisstore.Record, cb string, recs map[string]*redisstore.Record) bool {
	for _, chain := range r.Containers {
		if cr := recs[chain]; cr != nil {
			for _, l := range cr.Leaves {
				if l == cb {
					return true
				}
			}
			for _, s := range cr.OnSuccess {
				if s.ID == cb {
					return true // the chain's own success callback, fired after its last step
				}
			}
		}
	}
	return false
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func kindName(k string) string {
	if k == redisstore.KindSignature {
		return "signature"
	}
	return k
}
