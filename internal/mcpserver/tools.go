package mcpserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/inspectui"
)

// maxSubTasks is list_sub_tasks' largest page; defaultSubTasks its default.
const (
	maxSubTasks     = 1000
	defaultSubTasks = 50
)

func (s *server) getSignature(ctx context.Context, in IDInput) (*SignatureOutput, error) {
	tree, err := s.c.Tree(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &SignatureOutput{NodeInfo: nodeInfo(tree), OnSuccess: refs(tree.OnSuccess), OnError: refs(tree.OnError),
		Finally: refs(tree.Finally), SubTasks: len(tree.Steps) + len(tree.Items)}
	if tree.Kind != "signature" {
		return out, nil
	}
	sig, err := s.c.Signature(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out.Chains, out.ReturnField, out.ErrorField, out.ScheduleID = sig.Chains, sig.ReturnField, sig.ErrorField, sig.ScheduleID
	for key, run := range sig.Dispatched {
		outcome, cb, _ := strings.Cut(key, ":")
		out.Dispatched = append(out.Dispatched, Dispatched{Outcome: outcome, CallbackID: cb, RunID: run})
	}
	sortDispatched(out.Dispatched)
	return out, nil
}

func (s *server) getFlow(ctx context.Context, in FlowInput) (*FlowOutput, error) {
	if in.MaxDepth < 0 {
		return nil, invalid("max_depth %d is negative", in.MaxDepth)
	}
	f, err := s.c.Flow(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	st, err := f.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := &FlowOutput{Root: st.Root, Status: string(st.Status), Open: st.Open, Failed: failedNode(st.Failed)}
	if t := flowNode(st.Tree, in.MaxDepth, 0); t != nil {
		out.Tree = *t
	}
	return out, nil
}

func (s *server) list(ctx context.Context, in ListInput) (*ListOutput, error) {
	now := time.Now()
	since, err := when("since", in.Since, now)
	if err != nil {
		return nil, err
	}
	until, err := when("until", in.Until, now)
	if err != nil {
		return nil, err
	}
	page, err := s.c.List(ctx, &hatchetflow.ListOptions{Status: hatchetflow.Status(in.Status), Task: in.Task,
		RootsOnly: in.Roots, Since: since, Until: until, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return nil, err
	}
	out := &ListOutput{Entries: make([]ListEntry, 0, len(page.Entries)), NextCursor: page.Next}
	if in.SkipFlow {
		for _, e := range page.Entries {
			out.Entries = append(out.Entries, listEntry(inspectui.Entry{Summary: e}))
		}
		return out, nil
	}
	withFlows, err := inspectui.WithFlows(ctx, page, inspectui.ClientBackend{Client: s.c}.FlowStatus)
	if err != nil {
		return nil, err
	}
	for _, e := range withFlows.Entries {
		out.Entries = append(out.Entries, listEntry(e))
	}
	return out, nil
}

func (s *server) tasks(ctx context.Context, _ struct{}) (*TasksOutput, error) {
	ts, err := s.c.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	out := &TasksOutput{Tasks: make([]TaskInfo, 0, len(ts))}
	for _, t := range ts {
		out.Tasks = append(out.Tasks, TaskInfo{Name: t.Name, InputType: t.InputType, OutputType: t.OutputType,
			ReturnField: t.ReturnField, ErrorField: t.ErrorField, Retries: t.Retries, Signatures: t.Signatures})
	}
	return out, nil
}

// container reads chain or swarm id: one of the two is non-nil. A signature's id
// that starts no chain is invalid_argument.
func (s *server) container(ctx context.Context, id string) (*hatchetflow.ChainState, *hatchetflow.SwarmState, error) {
	sw, err := s.c.Swarm(ctx, id)
	if err == nil {
		return nil, sw, nil
	}
	if !errors.Is(err, hatchetflow.ErrNotASwarm) {
		return nil, nil, err
	}
	ch, err := s.c.Chain(ctx, id)
	if errors.Is(err, hatchetflow.ErrNotAChain) {
		return nil, nil, &ToolError{Code: CodeInvalidArgument, ID: id, err: err,
			Message: fmt.Sprintf("%s is a signature, not a chain or swarm (get_signature reads it): %v", id, err)}
	}
	return ch, nil, err
}

func (s *server) containerSummary(ctx context.Context, in IDInput) (*ContainerOutput, error) {
	ch, sw, err := s.container(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if sw != nil {
		return &ContainerOutput{ID: sw.ID, Kind: "swarm", Status: string(sw.Status), Total: len(sw.Items),
			Counts: map[string]int{"queued": sw.Queued, "running": sw.Running, "done": sw.Done, "failed": sw.Failed},
			Closed: sw.Closed, MaxConcurrency: sw.MaxConcurrency, StopAfter: sw.StopAfter, MaxItems: sw.MaxItems,
			Result: decoded(sw.Result), Error: sw.Error}, nil
	}
	out := &ContainerOutput{ID: ch.ID, Kind: "chain", Status: string(ch.Status), Total: len(ch.Steps), Counts: map[string]int{},
		Result: decoded(ch.Result), Error: ch.Error}
	for _, st := range ch.Steps {
		out.Counts[string(st.Status)]++
	}
	if ch.Current >= 0 && ch.Current < len(ch.Steps) {
		st := chainStep(ch.Current, ch.Steps[ch.Current])
		out.Current = &st
	}
	return out, nil
}

func (s *server) subTasks(ctx context.Context, in SubTasksInput) (*SubTasksOutput, error) {
	limit := in.Limit
	switch {
	case limit < 0 || limit > maxSubTasks:
		return nil, invalid("limit %d is outside 0..%d", limit, maxSubTasks)
	case limit == 0:
		limit = defaultSubTasks
	}
	from := 0
	if in.Cursor != "" {
		n, err := strconv.Atoi(in.Cursor)
		if err != nil || n < 0 {
			return nil, invalid("malformed cursor %q", in.Cursor)
		}
		from = n
	}
	ch, sw, err := s.container(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	var all []SubTask
	out := &SubTasksOutput{ID: in.ID}
	if sw != nil {
		out.ID, out.Kind = sw.ID, "swarm"
		for _, it := range sw.Items {
			all = append(all, SubTask{Index: it.Index, ID: it.ID, Task: it.Task, Status: it.State, RunID: it.RunID,
				Result: decoded(it.Result), Error: it.Error})
		}
	} else {
		out.ID, out.Kind = ch.ID, "chain"
		for i, st := range ch.Steps {
			all = append(all, chainStep(i, st))
		}
	}
	// The cursor is the index of the first step or item after the previous page, so a
	// swarm that grows between pages neither repeats nor skips one.
	out.Items = []SubTask{}
	for _, st := range all {
		if in.Status != "" && st.Status != in.Status {
			continue
		}
		out.Total++
		if st.Index < from {
			continue
		}
		if len(out.Items) == limit {
			if out.NextCursor == "" {
				out.NextCursor = strconv.Itoa(st.Index)
			}
			continue
		}
		out.Items = append(out.Items, st)
	}
	return out, nil
}

func (s *server) retry(ctx context.Context, in RetryInput) (*RetryOutput, error) {
	h, err := s.c.Retry(ctx, in.ID, &hatchetflow.RetryOptions{Kwargs: dsl.KW(in.Kwargs)})
	if err != nil {
		te := toolError(in.ID, err)
		if te.Code == CodeNotRetryable { // a done root whose flow failed further down?
			if f, ferr := s.c.Flow(ctx, in.ID); ferr == nil {
				if st, serr := f.Status(ctx); serr == nil && st.Failed != nil && st.Failed.ID != in.ID {
					te.RetryID = st.Failed.ID
					te.Message += fmt.Sprintf("; its flow %s at %s %s (task %s): retry %s", st.Failed.Status, st.Failed.Kind,
						st.Failed.ID, st.Failed.Task, st.Failed.ID)
				}
			}
		}
		return nil, te
	}
	return &RetryOutput{ID: in.ID, SignatureID: h.SignatureID(), RunID: h.RunID()}, nil
}

func (s *server) cancel(ctx context.Context, in CancelInput) (*ActionOutput, error) {
	if err := s.c.Cancel(ctx, in.ID, &hatchetflow.CancelOptions{Silent: in.Silent, Reason: in.Reason}); err != nil {
		return nil, err
	}
	return s.acted(ctx, in.ID, "cancel")
}

func (s *server) suspend(ctx context.Context, in SuspendInput) (*ActionOutput, error) {
	if err := s.c.Suspend(ctx, in.ID, &hatchetflow.SuspendOptions{CancelRunning: in.CancelRunning}); err != nil {
		return nil, err
	}
	return s.acted(ctx, in.ID, "suspend")
}

func (s *server) resume(ctx context.Context, in IDInput) (*ActionOutput, error) {
	if err := s.c.Resume(ctx, in.ID); err != nil {
		return nil, err
	}
	return s.acted(ctx, in.ID, "resume")
}

// acted is the output of action on id: its status now.
func (s *server) acted(ctx context.Context, id, action string) (*ActionOutput, error) {
	st, err := s.status(ctx, id)
	if err != nil {
		return nil, err
	}
	return &ActionOutput{ID: id, Action: action, Status: string(st)}, nil
}

// status reads the status of signature, chain or swarm id.
func (s *server) status(ctx context.Context, id string) (hatchetflow.Status, error) {
	sig, err := s.c.Signature(ctx, id)
	if err == nil {
		return sig.Status, nil
	}
	if !errors.Is(err, hatchetflow.ErrNotASignature) {
		return "", err
	}
	ch, sw, err := s.container(ctx, id)
	switch {
	case err != nil:
		return "", err
	case sw != nil:
		return sw.Status, nil
	}
	return ch.Status, nil
}

// when reads a since/until value: a duration before now, or an RFC 3339 time.
func when(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalid("%s %q is neither a duration (90m) nor an RFC 3339 time", name, v)
	}
	return t, nil
}

// nodeInfo is n without its children.
func nodeInfo(n *hatchetflow.Node) NodeInfo {
	if n.Missing {
		return NodeInfo{ID: n.ID, Missing: true}
	}
	info := NodeInfo{ID: n.ID, Kind: n.Kind, Task: n.Task, Status: string(n.Status), Kwargs: n.Kwargs, Result: decoded(n.Result),
		Error: n.Error, RunID: n.RunID, Attempt: n.Attempt, StartedAt: n.StartedAt, EndedAt: n.EndedAt}
	if !n.CreatedAt.IsZero() {
		info.CreatedAt = &n.CreatedAt
	}
	return info
}

func refs(nodes []*hatchetflow.Node) []NodeRef {
	var out []NodeRef
	for _, n := range nodes {
		if n == nil {
			continue
		}
		out = append(out, NodeRef{ID: n.ID, Kind: n.Kind, Task: n.Task, Status: string(n.Status), Missing: n.Missing})
	}
	return out
}

// flowNode is the tree under n, depth levels below the root at most (0: all).
func flowNode(n *hatchetflow.Node, maxDepth, depth int) *FlowNode {
	if n == nil {
		return nil
	}
	out := &FlowNode{NodeInfo: nodeInfo(n)}
	kids := [][]*hatchetflow.Node{n.Steps, n.Items, n.OnSuccess, n.OnError, n.Finally}
	if maxDepth > 0 && depth >= maxDepth {
		for _, k := range kids {
			out.Omitted += len(k)
		}
		return out
	}
	dst := []*[]*FlowNode{&out.Steps, &out.Items, &out.OnSuccess, &out.OnError, &out.Finally}
	for i, k := range kids {
		for _, c := range k {
			if fc := flowNode(c, maxDepth, depth+1); fc != nil {
				*dst[i] = append(*dst[i], fc)
			}
		}
	}
	return out
}

func failedNode(n *hatchetflow.Node) *FailedNode {
	if n == nil {
		return nil
	}
	return &FailedNode{ID: n.ID, Kind: n.Kind, Task: n.Task, Status: string(n.Status), Error: n.Error}
}

func listEntry(e inspectui.Entry) ListEntry {
	out := ListEntry{NodeInfo: NodeInfo{ID: e.ID, Kind: e.Kind, Task: e.Task, Status: string(e.Status), Error: e.Error,
		RunID: e.RunID, Attempt: e.Attempt, StartedAt: e.StartedAt, EndedAt: e.EndedAt}, Root: e.Root}
	if !e.CreatedAt.IsZero() {
		out.CreatedAt = &e.CreatedAt
	}
	if f := e.Flow; f != nil {
		out.Flow = &FlowSummary{Status: string(f.Status), Open: f.Open, Missing: f.Missing, Problem: f.Problem}
		if ff := f.Failed; ff != nil {
			out.Flow.Failed = &FailedNode{ID: ff.ID, Kind: ff.Kind, Task: ff.Task, Status: string(ff.Status), Error: ff.Error}
		}
	}
	return out
}

func chainStep(i int, st hatchetflow.ChainStep) SubTask {
	return SubTask{Index: i, ID: st.ID, Task: st.Task, Status: string(st.Status), RunID: st.RunID, Attempt: st.Attempt}
}

// sortDispatched orders d by outcome, then callback id (the record keeps a map).
func sortDispatched(d []Dispatched) {
	slices.SortFunc(d, func(a, b Dispatched) int {
		return cmp.Or(cmp.Compare(a.Outcome, b.Outcome), cmp.Compare(a.CallbackID, b.CallbackID))
	})
}
