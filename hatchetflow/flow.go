package hatchetflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/poll"
	"github.com/hatchetflow/go/redisstore"
)

// ErrFlowFailed is matched by a [*FlowError] of a flow in which a node failed.
var ErrFlowFailed = errors.New("hatchetflow: flow failed")

// Flow is a whole tree as one thing: a root signature, chain or swarm and every
// callback, chain step and swarm item under it. [Handle.Flow] returns the flow of a
// run; [Client.Flow] rebuilds it from the root's id.
type Flow struct {
	c  *Client
	id string
}

// FlowStatus is a flow's rolled-up state, read by [Flow.Status].
type FlowStatus struct {
	// Root is the root's id.
	Root string
	// Status is the rolled-up status: [StatusActive] while any node that will run has
	// not ended (the root running, a callback, step or item queued or running),
	// [StatusSuspended] when what has not ended is suspended, [StatusPending] for a
	// root never run; once every node that will run ended, [StatusFailed] or
	// [StatusCancelled] when a node failed or was cancelled (the root's own end first,
	// then callbacks in tree order), else [StatusDone]. A callback on the branch not
	// taken (a done root's error callbacks) never runs and counts for nothing.
	Status Status
	// Failed is the first node that failed or was cancelled (a chain's or a swarm's
	// failing step or item, not the container), nil when none did.
	Failed *Node
	// Open counts the nodes that will run and have not ended.
	Open int
	// Tree is the tree the status was rolled up from.
	Tree *Node
}

// FlowError is [Flow.Wait]'s error for a flow that ended with a node failed or
// cancelled. It matches [ErrFlowFailed], and also [ErrCancelled] when that node was
// cancelled.
type FlowError struct {
	// Root is the flow's root id; NodeID, Task and Status name the first node that
	// failed or was cancelled; Message is its error.
	Root, NodeID, Task string
	Status             Status
	Message            string
}

func (e *FlowError) Error() string {
	msg := fmt.Sprintf("hatchetflow: flow %s %s: %s of task %q %s", e.Root, e.statusWord(), e.NodeID, e.Task, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *FlowError) statusWord() string {
	if e.Status == StatusCancelled {
		return "was cancelled"
	}
	return "failed"
}

// Is reports ErrFlowFailed, and ErrCancelled for a cancelled node.
func (e *FlowError) Is(target error) bool {
	return target == ErrFlowFailed || (target == ErrCancelled && e.Status == StatusCancelled)
}

// Flow returns the flow rooted at id (a signature, chain or swarm), checking that it
// exists. The id a parent lists for a chain given as its callback (its first step's)
// names the chain's flow.
func (c *Client) Flow(ctx context.Context, id string) (*Flow, error) {
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	chain, err := c.chainStartedBy(ctx, rec)
	if err != nil {
		return nil, err
	}
	if chain != nil { // the id a parent lists for a chain callback: the chain's
		id = chain.ID
	}
	return &Flow{c: c, id: id}, nil
}

// Flow returns the flow of the run: the whole tree under the signature, chain or swarm
// that runs.
func (h *Handle) Flow() *Flow { return &Flow{c: h.c, id: h.sigID} }

// ID returns the flow's root id.
func (f *Flow) ID() string { return f.id }

// Status reads the whole tree ([Client.Tree]) and rolls its status up.
func (f *Flow) Status(ctx context.Context) (*FlowStatus, error) {
	tree, err := f.c.Tree(ctx, f.id)
	if err != nil {
		return nil, err
	}
	r := rollUp(tree)
	return &FlowStatus{Root: f.id, Status: r.status, Failed: r.failed, Open: r.open, Tree: tree}, nil
}

// Wait blocks until every node of the flow that will run has ended (a suspended node
// is waited for; it will run once resumed), or ctx ends. It returns the flow's status,
// with a [*FlowError] naming the first node that failed or was cancelled. It reads the
// tree every 50 ms at first, backing off to every second; with an in-memory engine
// (flowtest) it runs the queued runs instead. A root never run is waited for until ctx
// ends.
func (f *Flow) Wait(ctx context.Context) (*FlowStatus, error) {
	stepper, _ := f.c.dispatcher.(engine.Stepper)
	pause := poll.New(50*time.Millisecond, time.Second)
	for {
		st, err := f.Status(ctx)
		if err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
			return nil, err
		}
		if err == nil && st.Open == 0 && st.Status != StatusPending {
			if st.Failed != nil {
				return st, &FlowError{Root: f.id, NodeID: st.Failed.ID, Task: st.Failed.Task,
					Status: st.Failed.Status, Message: st.Failed.Error}
			}
			return st, nil
		}
		if stepper != nil {
			if !stepper.Step(ctx) {
				return st, fmt.Errorf("hatchetflow: flow %s has not ended and nothing is queued (status %s)", f.id, st.Status)
			}
			continue
		}
		if err := pause.Wait(ctx); err != nil {
			return st, fmt.Errorf("hatchetflow: wait for flow %s: %w", f.id, err)
		}
	}
}

// rolled is the rolled-up state of a subtree.
type rolled struct {
	status Status
	failed *Node
	open   int
	held   int // open nodes that are suspended
}

// rollUp rolls the status of the tree under n up (see [FlowStatus]).
func rollUp(n *Node) rolled {
	if n == nil || n.Missing {
		return rolled{status: StatusDone} // gone: nothing of it will run
	}
	var r rolled
	var next []*Node // the callbacks that run after n
	switch n.Status {
	case StatusPending:
		return rolled{status: StatusPending, open: 1}
	case StatusActive:
		return rolled{status: StatusActive, open: 1}
	case StatusSuspended:
		return rolled{status: StatusSuspended, open: 1, held: 1}
	case StatusDone:
		r.status, next = StatusDone, n.OnSuccess
	default: // failed, cancelled
		r.status, r.failed, next = n.Status, failingNode(n), n.OnError
	}
	for _, cb := range next {
		cr := rollUp(cb)
		if cr.status == StatusPending && cb.RunID == "" && !cb.Missing {
			cr.status = StatusActive // dispatched, not started yet
		}
		r.open += cr.open
		r.held += cr.held
		if r.failed == nil && cr.failed != nil {
			r.failed, r.status = cr.failed, cr.status
		}
	}
	switch {
	case r.open > 0 && r.open == r.held:
		r.status = StatusSuspended
	case r.open > 0:
		r.status = StatusActive
	}
	return r
}

// failingNode is the node whose failure ended n: for a chain, the step that failed
// or was cancelled (nested chains followed); for a swarm, its first failed item; n
// itself otherwise, or when none is found.
func failingNode(n *Node) *Node {
	for _, kids := range [][]*Node{n.Steps, n.Items} {
		for _, k := range kids {
			if k != nil && !k.Missing && (k.Status == StatusFailed || k.Status == StatusCancelled) {
				return failingNode(k)
			}
		}
	}
	return n
}
