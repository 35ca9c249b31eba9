package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/mcpserver"
	"github.com/hatchetflow/go/testing/flowtest"
)

type numIn struct {
	N int `json:"n"`
}

type modeIn struct {
	Mode string `json:"mode"`
}

type incIn struct {
	V    inject.ReturnValue[int] `json:"v"`
	Step int                     `json:"step,omitempty"`
}

// newHarness registers double, flaky (fails unless its kwargs say mode=safe) and inc
// (adds 1 to its parent's value) on a flowtest harness.
func newHarness(t *testing.T) *flowtest.Harness {
	t.Helper()
	h := flowtest.New(t)
	h.Quiet()
	h.ExpectFailure("flaky")
	must(t, err2(hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in numIn) (int, error) { return 2 * in.N, nil })))
	must(t, err2(hatchetflow.NewTask(h.Client, "flaky", func(_ hatchet.Context, in modeIn) (string, error) {
		if in.Mode != "safe" {
			return "", hatchetflow.NonRetryable(errors.New("flaky fails"))
		}
		return "ok", nil
	})))
	must(t, err2(hatchetflow.NewTask(h.Client, "inc", func(_ hatchet.Context, in incIn) (int, error) { return in.V.Value + 1, nil })))
	must(t, h.Client.RegisterTasks(context.Background()))
	return h
}

// session connects the SDK's client to a server of h over the in-memory transports.
func session(t *testing.T, h *flowtest.Harness, opts mcpserver.Options) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := mcpserver.New(h.Client, opts).Connect(ctx, st, nil)
	must(t, err)
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	must(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call calls tool name and decodes its structured content into Out; it fails t on a
// tool error.
func call[Out any](t *testing.T, cs *mcp.ClientSession, name string, args any) Out {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): tool error %s %+v", name, args, text(res), res.StructuredContent)
	}
	var out Out
	remarshal(t, res.StructuredContent, &out)
	return out
}

// callErr calls tool name, which must fail, and returns its structured error.
func callErr(t *testing.T, cs *mcp.ClientSession, name string, args any) mcpserver.ToolError {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v, want a tool error", name, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v): no error: %+v", name, args, res.StructuredContent)
	}
	var te mcpserver.ToolError
	remarshal(t, res.StructuredContent, &te)
	if te.Code == "" || te.Message == "" || !strings.HasPrefix(text(res), te.Code+": ") {
		t.Fatalf("%s: tool error without code or message: %q %+v", name, text(res), res.StructuredContent)
	}
	return te
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func remarshal(t *testing.T, from, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(b, to)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func err2[T any](_ T, err error) error { return err }

// failedCallback runs double with a flaky success callback: the root is done, its
// flow failed at the callback.
func failedCallback(t *testing.T, h *flowtest.Harness) (root, cb string) {
	t.Helper()
	ctx := context.Background()
	run, err := dsl.Sign("double").OnSuccess(dsl.Sign("flaky")).Run(ctx, h.Client, numIn{N: 2})
	must(t, err)
	h.Drain(ctx)
	sig, err := h.Client.Signature(ctx, run.SignatureID())
	must(t, err)
	return run.SignatureID(), sig.OnSuccess[0].ID
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	must(t, err)
	var names []string
	for _, tool := range res.Tools {
		if tool.InputSchema == nil || tool.OutputSchema == nil || tool.Description == "" {
			t.Errorf("tool %s lacks a schema or description", tool.Name)
		}
		if slices.Contains(mcpserver.ReadTools, tool.Name) && (tool.Annotations == nil || !tool.Annotations.ReadOnlyHint) {
			t.Errorf("read tool %s is not marked read-only", tool.Name)
		}
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func TestActionToolsOnlyWithTheFlag(t *testing.T) {
	h := newHarness(t)
	want := slices.Sorted(slices.Values(mcpserver.ReadTools))
	if got := toolNames(t, session(t, h, mcpserver.Options{})); !slices.Equal(got, want) {
		t.Fatalf("tools without actions = %v, want %v", got, want)
	}
	cs := session(t, h, mcpserver.Options{})
	for _, name := range mcpserver.ActionTools { // not listed, and not callable
		if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: map[string]any{"id": "x"}}); err == nil ||
			!strings.Contains(err.Error(), "unknown tool") {
			t.Errorf("call %s without actions: %v, want unknown tool", name, err)
		}
	}
	want = slices.Sorted(slices.Values(append(slices.Clone(mcpserver.ReadTools), mcpserver.ActionTools...)))
	if got := toolNames(t, session(t, h, mcpserver.Options{AllowActions: true})); !slices.Equal(got, want) {
		t.Fatalf("tools with actions = %v, want %v", got, want)
	}
}

func TestGetSignatureAndFlow(t *testing.T) {
	h := newHarness(t)
	root, cb := failedCallback(t, h)
	cs := session(t, h, mcpserver.Options{})

	sig := call[mcpserver.SignatureOutput](t, cs, "get_signature", map[string]any{"id": root})
	if sig.ID != root || sig.Kind != "signature" || sig.Task != "double" || sig.Status != "done" || sig.Result != 4.0 ||
		sig.RunID == "" || sig.CreatedAt == nil || sig.EndedAt == nil || sig.ReturnField == "" {
		t.Fatalf("get_signature(root) = %+v", sig)
	}
	if len(sig.OnSuccess) != 1 || sig.OnSuccess[0] != (mcpserver.NodeRef{ID: cb, Kind: "signature", Task: "flaky", Status: "failed"}) {
		t.Fatalf("root's success callbacks = %+v", sig.OnSuccess)
	}
	if len(sig.Dispatched) != 1 || sig.Dispatched[0].Outcome != "success" || sig.Dispatched[0].CallbackID != cb || sig.Dispatched[0].RunID == "" {
		t.Fatalf("root's dispatched callbacks = %+v", sig.Dispatched)
	}
	cbSig := call[mcpserver.SignatureOutput](t, cs, "get_signature", map[string]any{"id": cb})
	if cbSig.Status != "failed" || !strings.Contains(cbSig.Error, "flaky fails") {
		t.Fatalf("get_signature(callback) = %+v", cbSig)
	}

	fl := call[mcpserver.FlowOutput](t, cs, "get_flow", map[string]any{"id": root})
	if fl.Root != root || fl.Status != "failed" || fl.Open != 0 || fl.Failed == nil || fl.Failed.ID != cb || fl.Failed.Task != "flaky" ||
		fl.Tree.ID != root || fl.Tree.Status != "done" || len(fl.Tree.OnSuccess) != 1 || fl.Tree.OnSuccess[0].Status != "failed" {
		t.Fatalf("get_flow = %+v", fl)
	}

	// A chain as a callback: its steps nest under it; max_depth cuts them.
	ctx := context.Background()
	run, err := dsl.Sign("double").OnSuccess(dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc"), dsl.Sign("inc"))).Run(ctx, h.Client, numIn{N: 1})
	must(t, err)
	h.Drain(ctx)
	fl = call[mcpserver.FlowOutput](t, cs, "get_flow", map[string]any{"id": run.SignatureID()})
	if fl.Status != "done" || len(fl.Tree.OnSuccess) != 1 {
		t.Fatalf("get_flow(chain callback) = %+v", fl)
	}
	chain := fl.Tree.OnSuccess[0]
	if chain.Kind != "chain" || chain.Status != "done" || len(chain.Steps) != 3 || chain.Steps[2].Result != 5.0 || chain.Omitted != 0 {
		t.Fatalf("chain node = %+v", chain)
	}
	fl = call[mcpserver.FlowOutput](t, cs, "get_flow", map[string]any{"id": run.SignatureID(), "max_depth": 1})
	if c := fl.Tree.OnSuccess[0]; len(c.Steps) != 0 || c.Omitted != 3 {
		t.Fatalf("max_depth 1: chain node = %+v, want its 3 steps omitted", c)
	}
	chainSig := call[mcpserver.SignatureOutput](t, cs, "get_signature", map[string]any{"id": chain.ID})
	if chainSig.Kind != "chain" || chainSig.SubTasks != 3 || chainSig.Status != "done" {
		t.Fatalf("get_signature(chain) = %+v", chainSig)
	}
	step := call[mcpserver.SignatureOutput](t, cs, "get_signature", map[string]any{"id": chain.Steps[1].ID})
	if !slices.Equal(step.Chains, []string{chain.ID}) {
		t.Fatalf("a step's chains = %v, want [%s]", step.Chains, chain.ID)
	}
}

func TestListSignaturesPagesTheIndexes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	root, cb := failedCallback(t, h)
	saved := map[string]bool{}
	for i := range 5 {
		s, err := dsl.Sign("double").With(dsl.KW{"n": i}).Save(ctx, h.Client)
		must(t, err)
		saved[s.ID] = true
	}
	cs := session(t, h, mcpserver.Options{})

	// Every record, two a page: 7 (5 saved, the root and its callback), newest first.
	var ids []string
	var last time.Time
	cursor := ""
	for pages := 0; ; pages++ {
		args := map[string]any{"limit": 2}
		if cursor != "" {
			args["cursor"] = cursor
		}
		page := call[mcpserver.ListOutput](t, cs, "list_signatures", args)
		if len(page.Entries) > 2 || pages > 4 {
			t.Fatalf("page %d: %+v", pages, page)
		}
		for _, e := range page.Entries {
			if !last.IsZero() && e.CreatedAt.After(last) {
				t.Errorf("%s is newer than the entry before it", e.ID)
			}
			last = *e.CreatedAt
			ids = append(ids, e.ID)
			if (e.Flow != nil) != e.Root {
				t.Errorf("entry %s (root %v) has flow %+v", e.ID, e.Root, e.Flow)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	slices.Sort(ids)
	if len(ids) != 7 || len(slices.Compact(slices.Clone(ids))) != 7 || !slices.Contains(ids, root) || !slices.Contains(ids, cb) {
		t.Fatalf("paged ids = %v, want the 7 records once each", ids)
	}

	roots := call[mcpserver.ListOutput](t, cs, "list_signatures", map[string]any{"roots": true, "status": "done"})
	if len(roots.Entries) != 1 || roots.Entries[0].ID != root || roots.Entries[0].Flow == nil ||
		roots.Entries[0].Flow.Status != "failed" || roots.Entries[0].Flow.Failed == nil || roots.Entries[0].Flow.Failed.ID != cb {
		t.Fatalf("done roots = %+v", roots)
	}
	failed := call[mcpserver.ListOutput](t, cs, "list_signatures", map[string]any{"task": "flaky", "skip_flow": true})
	if len(failed.Entries) != 1 || failed.Entries[0].ID != cb || failed.Entries[0].Status != "failed" || failed.Entries[0].Flow != nil {
		t.Fatalf("flaky records = %+v", failed)
	}
	pending := call[mcpserver.ListOutput](t, cs, "list_signatures", map[string]any{"status": "pending", "since": "1h"})
	if len(pending.Entries) != 5 || pending.NextCursor != "" {
		t.Fatalf("pending records = %+v", pending)
	}
	for _, e := range pending.Entries {
		if !saved[e.ID] || e.Flow == nil || e.Flow.Status != "pending" {
			t.Errorf("pending entry %+v flow %+v", e, e.Flow)
		}
	}
	none := call[mcpserver.ListOutput](t, cs, "list_signatures", map[string]any{"task": "no-such-task"})
	if none.Entries == nil || len(none.Entries) != 0 {
		t.Fatalf("no match = %+v, want an empty list", none)
	}

	for _, bad := range []map[string]any{{"status": "sleeping"}, {"cursor": "not-a-cursor"}, {"since": "yesterday"},
		{"limit": 5000}, {"until": "1h", "since": "30m"}} {
		if te := callErr(t, cs, "list_signatures", bad); te.Code != mcpserver.CodeInvalidArgument {
			t.Errorf("list_signatures(%v): %+v, want invalid_argument", bad, te)
		}
	}
}

func TestRegisteredTasks(t *testing.T) {
	h := newHarness(t)
	failedCallback(t, h)
	cs := session(t, h, mcpserver.Options{})
	out := call[mcpserver.TasksOutput](t, cs, "list_registered_tasks", map[string]any{})
	got := map[string]mcpserver.TaskInfo{}
	for _, ti := range out.Tasks {
		got[ti.Name] = ti
	}
	if d := got["double"]; d.Signatures != 1 || d.OutputType != "int" || !strings.Contains(d.InputType, "numIn") {
		t.Errorf("double = %+v", d)
	}
	if f := got["flaky"]; f.Signatures != 1 || f.ReturnField == "" {
		t.Errorf("flaky = %+v", f)
	}
	if _, ok := got["inc"]; !ok {
		t.Errorf("inc missing from %+v", out.Tasks)
	}
}

func TestContainersAndSubTasks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	chain, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc"), dsl.Sign("inc")).Run(ctx, h.Client, map[string]any{"v": 1})
	must(t, err)
	var items []dsl.Spec
	for i := range 5 {
		items = append(items, dsl.Sign("double").With(dsl.KW{"n": i}))
	}
	swarm, err := dsl.Swarm(items...).Run(ctx, h.Client, map[string]any{})
	must(t, err)
	h.Drain(ctx)
	cs := session(t, h, mcpserver.Options{})

	cst, err := h.Client.Chain(ctx, chain.SignatureID())
	must(t, err)
	sum := call[mcpserver.ContainerOutput](t, cs, "get_container_summary", map[string]any{"id": cst.ID})
	if sum.Kind != "chain" || sum.Status != "done" || sum.Total != 3 || sum.Counts["done"] != 3 || sum.Current == nil ||
		sum.Current.Index != 2 || sum.Current.ID != cst.Steps[2].ID || sum.Result != 4.0 {
		t.Fatalf("chain summary = %+v", sum)
	}
	byStep := call[mcpserver.ContainerOutput](t, cs, "get_container_summary", map[string]any{"id": cst.Steps[0].ID})
	if byStep.ID != cst.ID {
		t.Fatalf("summary by the first step's id = %+v, want the chain", byStep)
	}
	sum = call[mcpserver.ContainerOutput](t, cs, "get_container_summary", map[string]any{"id": swarm.SignatureID()})
	if sum.Kind != "swarm" || sum.Status != "done" || sum.Total != 5 || sum.Counts["done"] != 5 || sum.Counts["failed"] != 0 ||
		!sum.Closed || len(sum.Result.([]any)) != 5 {
		t.Fatalf("swarm summary = %+v", sum)
	}
	steps := call[mcpserver.SubTasksOutput](t, cs, "list_sub_tasks", map[string]any{"id": cst.ID})
	if steps.Kind != "chain" || steps.Total != 3 || len(steps.Items) != 3 || steps.Items[1].ID != cst.Steps[1].ID || steps.Items[1].RunID == "" {
		t.Fatalf("chain steps = %+v", steps)
	}

	// The swarm's items, two a page.
	var got []int
	cursor := ""
	for range 4 {
		args := map[string]any{"id": swarm.SignatureID(), "limit": 2}
		if cursor != "" {
			args["cursor"] = cursor
		}
		page := call[mcpserver.SubTasksOutput](t, cs, "list_sub_tasks", args)
		if page.Kind != "swarm" || page.Total != 5 || len(page.Items) > 2 {
			t.Fatalf("page %+v", page)
		}
		for _, it := range page.Items {
			if it.Status != "done" || it.Result != float64(2*it.Index) || it.RunID == "" {
				t.Errorf("item %+v", it)
			}
			got = append(got, it.Index)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("paged items %v", got)
	}
	if none := call[mcpserver.SubTasksOutput](t, cs, "list_sub_tasks", map[string]any{"id": swarm.SignatureID(), "status": "failed"}); none.Total != 0 ||
		none.Items == nil || len(none.Items) != 0 {
		t.Fatalf("failed items = %+v", none)
	}

	sig, err := dsl.Sign("double").Save(ctx, h.Client)
	must(t, err)
	for _, tool := range []string{"get_container_summary", "list_sub_tasks"} {
		if te := callErr(t, cs, tool, map[string]any{"id": sig.ID}); te.Code != mcpserver.CodeInvalidArgument || te.ID != sig.ID {
			t.Errorf("%s(signature) = %+v, want invalid_argument", tool, te)
		}
	}
	if te := callErr(t, cs, "list_sub_tasks", map[string]any{"id": cst.ID, "cursor": "x"}); te.Code != mcpserver.CodeInvalidArgument {
		t.Errorf("bad cursor: %+v", te)
	}
}

// fakeLogs is a LogReader that answers two lines per run and records the queries.
type fakeLogs struct {
	mu      sync.Mutex
	runs    []string
	queries []mcpserver.LogQuery
}

func (f *fakeLogs) RunLogs(_ context.Context, runID string, q mcpserver.LogQuery) ([]mcpserver.LogLine, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, runID)
	f.queries = append(f.queries, q)
	now := time.Now()
	return []mcpserver.LogLine{{Time: now, Level: "INFO", Message: "first of " + runID, Attempt: 1},
		{Time: now, Level: "INFO", Message: "second of " + runID, Attempt: 1}}, true, nil
}

func TestGetLogsReadsTheRecordsRun(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	root, _ := failedCallback(t, h)
	rec, err := h.Client.Signature(ctx, root)
	must(t, err)
	logs := &fakeLogs{}
	cs := session(t, h, mcpserver.Options{Logs: logs})

	out := call[mcpserver.LogsOutput](t, cs, "get_logs", map[string]any{"id": root, "attempt": 1, "limit": 10, "since": "1h"})
	if out.Kind != "signature" || len(out.Runs) != 1 || out.Runs[0].RunID != rec.RunID || out.Runs[0].SignatureID != root ||
		len(out.Runs[0].Lines) != 2 || out.Runs[0].Lines[0].Message != "first of "+rec.RunID || !out.Runs[0].Truncated {
		t.Fatalf("get_logs = %+v", out)
	}
	if q := logs.queries[0]; q.Attempt != 1 || q.Limit != 10 || time.Since(q.Since) < 59*time.Minute {
		t.Fatalf("query %+v", q)
	}
	call[mcpserver.LogsOutput](t, cs, "get_logs", map[string]any{"id": root})
	if q := logs.queries[1]; q.Limit != mcpserver.DefaultLogLines || q.Attempt != 0 || !q.Since.IsZero() {
		t.Fatalf("default query %+v", q)
	}

	chain, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc")).Run(ctx, h.Client, map[string]any{"v": 1})
	must(t, err)
	h.Drain(ctx)
	cst, err := h.Client.Chain(ctx, chain.SignatureID())
	must(t, err)
	out = call[mcpserver.LogsOutput](t, cs, "get_logs", map[string]any{"id": cst.ID})
	if out.Kind != "chain" || len(out.Runs) != 2 || out.Runs[0].RunID != cst.Steps[0].RunID || out.Runs[1].RunID != cst.Steps[1].RunID {
		t.Fatalf("get_logs(chain) = %+v", out)
	}

	pending, err := dsl.Sign("double").Save(ctx, h.Client)
	must(t, err)
	out = call[mcpserver.LogsOutput](t, cs, "get_logs", map[string]any{"id": pending.ID})
	if len(out.Runs) != 0 || !strings.Contains(out.Note, "no run yet") {
		t.Fatalf("get_logs(pending) = %+v", out)
	}
	if te := callErr(t, cs, "get_logs", map[string]any{"id": root, "limit": 5000}); te.Code != mcpserver.CodeInvalidArgument {
		t.Fatalf("limit 5000: %+v", te)
	}

	// Without an engine: unavailable, saying why.
	for _, opts := range []mcpserver.Options{{}, {Logs: mcpserver.NewHatchetLogs(func() (*hatchet.Client, error) {
		return nil, errors.New("HATCHET_CLIENT_TOKEN is not set")
	})}} {
		te := callErr(t, session(t, h, opts), "get_logs", map[string]any{"id": root})
		if te.Code != mcpserver.CodeUnavailable || te.ID != root {
			t.Fatalf("get_logs without an engine: %+v", te)
		}
	}
}

func TestActions(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	root, cb := failedCallback(t, h)
	cs := session(t, h, mcpserver.Options{AllowActions: true})

	// The done root cannot be retried; the error names the failed callback.
	te := callErr(t, cs, "retry", map[string]any{"id": root})
	if te.Code != mcpserver.CodeNotRetryable || te.Status != "done" || te.RetryID != cb || te.ID != root {
		t.Fatalf("retry(done root) = %+v", te)
	}
	if te := callErr(t, cs, "retry", map[string]any{"id": cb, "kwargs": map[string]any{"mode": 3}}); te.Code != mcpserver.CodeInvalidArgument {
		t.Fatalf("retry with kwargs that do not fit: %+v", te)
	}
	r := call[mcpserver.RetryOutput](t, cs, "retry", map[string]any{"id": cb, "kwargs": map[string]any{"mode": "safe"}})
	if r.SignatureID != cb || r.RunID == "" {
		t.Fatalf("retry = %+v", r)
	}
	h.Drain(ctx)
	if fl := call[mcpserver.FlowOutput](t, cs, "get_flow", map[string]any{"id": root}); fl.Status != "done" || fl.Failed != nil {
		t.Fatalf("flow after retry = %+v", fl)
	}

	sig, err := dsl.Sign("double").Save(ctx, h.Client)
	must(t, err)
	if out := call[mcpserver.ActionOutput](t, cs, "suspend", map[string]any{"id": sig.ID}); out.Status != "suspended" || out.Action != "suspend" {
		t.Fatalf("suspend = %+v", out)
	}
	if out := call[mcpserver.ActionOutput](t, cs, "resume", map[string]any{"id": sig.ID}); out.Status != "pending" {
		t.Fatalf("resume = %+v", out)
	}
	if out := call[mcpserver.ActionOutput](t, cs, "cancel", map[string]any{"id": sig.ID, "silent": true}); out.Status != "cancelled" {
		t.Fatalf("cancel = %+v", out)
	}
	if te := callErr(t, cs, "cancel", map[string]any{"id": sig.ID}); te.Code != mcpserver.CodeConflict || te.Status != "cancelled" {
		t.Fatalf("cancel again = %+v", te)
	}
	if te := callErr(t, cs, "suspend", map[string]any{"id": sig.ID}); te.Code != mcpserver.CodeConflict {
		t.Fatalf("suspend what ended = %+v", te)
	}
}

func TestErrorCodes(t *testing.T) {
	h := newHarness(t)
	cs := session(t, h, mcpserver.Options{AllowActions: true})
	unknown := "11111111-1111-4111-8111-111111111111"
	for _, tool := range []string{"get_signature", "get_flow", "get_container_summary", "list_sub_tasks", "get_logs", "cancel", "suspend", "resume", "retry"} {
		if te := callErr(t, cs, tool, map[string]any{"id": unknown}); te.Code != mcpserver.CodeNotFound || te.ID != unknown {
			t.Errorf("%s(unknown id) = %+v, want not_found", tool, te)
		}
		if te := callErr(t, cs, tool, map[string]any{"id": "not-an-id"}); te.Code != mcpserver.CodeInvalidArgument {
			t.Errorf("%s(malformed id) = %+v, want invalid_argument", tool, te)
		}
		// Arguments the SDK refuses against the input schema: a code too.
		if te := callErr(t, cs, tool, map[string]any{}); te.Code != mcpserver.CodeInvalidArgument {
			t.Errorf("%s(no id) = %+v, want invalid_argument", tool, te)
		}
	}
	if te := callErr(t, cs, "get_flow", map[string]any{"id": unknown, "max_depth": -1}); te.Code != mcpserver.CodeInvalidArgument {
		t.Errorf("negative max_depth: %+v", te)
	}
	h.Redis.Close() // Redis gone
	if te := callErr(t, cs, "list_signatures", map[string]any{}); te.Code != mcpserver.CodeUnavailable {
		t.Errorf("list_signatures without Redis = %+v, want unavailable", te)
	}
}
