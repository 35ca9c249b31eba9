package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	"github.com/hatchetflow/go/internal/mcpserver"
)

// On the engine, through the built command: a root that logs with hctx.Log and a
// success callback that fails (NonRetryable) until its kwargs say mode=safe. The SDK's
// client, over `hatchetflow mcp --allow-actions` on stdio (the binary started by the
// client), reads the flow (failed at the callback), lists the root, reads the root's
// log lines by the run id on its record, retries the callback with mode=safe and
// reads the retried run's log lines; over `hatchetflow mcp --http 127.0.0.1:0` it
// lists the read tools only and reads the logs again.
func TestEngineMCPCommand(t *testing.T) {
	hc := enginetest.Client(t)
	prefix := "hfmcp-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	safe := 0
	if _, err := hatchetflow.NewTask(c, "mcp-log", func(hctx hatchet.Context, in In) (int, error) {
		hctx.Log(fmt.Sprintf("mcp-log doubles %d", in.N))
		hctx.Log("mcp-log second line")
		return 2 * in.N, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(c, "mcp-flaky", func(hctx hatchet.Context, in modeIn) (string, error) {
		hctx.Log("mcp-flaky runs in mode " + in.Mode)
		if in.Mode != "safe" {
			return "", hatchetflow.NonRetryable(errors.New("mcp-flaky refuses"))
		}
		mu.Lock()
		safe++
		mu.Unlock()
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "mcp-worker", nil) })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := enginetest.Wait(ctx, w.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })

	run, err := dsl.Sign("mcp-log").OnSuccess(dsl.Sign("mcp-flaky")).Run(ctx, c, In{N: 21})
	if err != nil {
		t.Fatal(err)
	}
	root := run.SignatureID()
	if _, err := run.(*hatchetflow.Handle).Flow().Wait(ctx); !errors.Is(err, hatchetflow.ErrFlowFailed) {
		t.Fatalf("flow: %v, want it failed at mcp-flaky", err)
	}
	rec, err := c.Signature(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	cb := rec.OnSuccess[0].ID

	bin := buildCommand(t)
	redisURL := os.Getenv("REDIS_URL")
	cmd := exec.Command(bin, "--redis", redisURL, "--prefix", prefix, "mcp", "--allow-actions")
	cmd.Stderr = os.Stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "hatchetflow-engine-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	want := slices.Sorted(slices.Values(append(slices.Clone(mcpserver.ReadTools), mcpserver.ActionTools...)))
	if got := listedTools(t, cs); !slices.Equal(got, want) {
		t.Fatalf("stdio --allow-actions tools = %v, want %v", got, want)
	}

	fl := engineCall[mcpserver.FlowOutput](ctx, t, cs, "get_flow", map[string]any{"id": root})
	if fl.Status != "failed" || fl.Failed == nil || fl.Failed.ID != cb || fl.Tree.Status != "done" || fl.Tree.Result != 42.0 {
		t.Fatalf("get_flow = %+v", fl)
	}
	list := engineCall[mcpserver.ListOutput](ctx, t, cs, "list_signatures", map[string]any{"roots": true, "task": "mcp-log"})
	if len(list.Entries) != 1 || list.Entries[0].ID != root || list.Entries[0].Flow == nil || list.Entries[0].Flow.Status != "failed" {
		t.Fatalf("list_signatures = %+v", list)
	}
	logs := waitLogs(ctx, t, cs, root, "mcp-log doubles 21", "mcp-log second line")
	if logs.Runs[0].RunID != rec.RunID || logs.Runs[0].SignatureID != root {
		t.Fatalf("get_logs read run %s of %s, want the record's run %s", logs.Runs[0].RunID, logs.Runs[0].SignatureID, rec.RunID)
	}
	for _, l := range logs.Runs[0].Lines {
		if l.TaskRunID == "" || l.Time.IsZero() || l.Attempt != 1 {
			t.Errorf("log line %+v lacks its task run, time or attempt", l)
		}
	}

	// The root is done: retry names the failed callback; retrying that runs it again.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "retry", Arguments: map[string]any{"id": root}})
	if err != nil || !res.IsError {
		t.Fatalf("retry(root): %v %+v", err, res)
	}
	var te mcpserver.ToolError
	remarshalTo(t, res.StructuredContent, &te)
	if te.Code != mcpserver.CodeNotRetryable || te.RetryID != cb {
		t.Fatalf("retry(root) = %+v, want not_retryable naming %s", te, cb)
	}
	r := engineCall[mcpserver.RetryOutput](ctx, t, cs, "retry", map[string]any{"id": cb, "kwargs": map[string]any{"mode": "safe"}})
	if r.SignatureID != cb || r.RunID == "" {
		t.Fatalf("retry = %+v", r)
	}
	f, err := c.Flow(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := f.Wait(ctx); err != nil || st.Status != hatchetflow.StatusDone {
		t.Fatalf("flow after the retry: %+v, %v", st, err)
	}
	mu.Lock()
	if safe != 1 {
		t.Errorf("mcp-flaky ran %d times in mode safe, want 1", safe)
	}
	mu.Unlock()
	retried := waitLogs(ctx, t, cs, cb, "mcp-flaky runs in mode safe")
	if retried.Runs[0].RunID != r.RunID {
		t.Fatalf("get_logs(callback) read run %s, want the retried run %s", retried.Runs[0].RunID, r.RunID)
	}
	for _, l := range retried.Runs[0].Lines {
		if strings.Contains(l.Message, "refuses") || strings.HasSuffix(l.Message, "mode ") {
			t.Errorf("the retried run's logs hold the first run's line %q", l.Message)
		}
	}

	// Streamable HTTP on loopback: read-only.
	hcmd := exec.CommandContext(ctx, bin, "--redis", redisURL, "--prefix", prefix, "mcp", "--http", "127.0.0.1:0")
	hcmd.Stderr = os.Stderr
	out, err := hcmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hcmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hcmd.Process.Kill(); _ = hcmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	const serving = "serving MCP (streamable HTTP) on "
	if err != nil || !strings.HasPrefix(line, serving) {
		t.Fatalf("mcp --http printed %q (%v)", line, err)
	}
	hs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: strings.TrimSpace(strings.TrimPrefix(line, serving))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	if got, want := listedTools(t, hs), slices.Sorted(slices.Values(mcpserver.ReadTools)); !slices.Equal(got, want) {
		t.Fatalf("http tools = %v, want %v", got, want)
	}
	waitLogs(ctx, t, hs, root, "mcp-log doubles 21")
}

// waitLogs calls get_logs on id until its first run's lines hold every one of want
// (the SDK sends hctx.Log lines in the background).
func waitLogs(ctx context.Context, t *testing.T, cs *mcp.ClientSession, id string, want ...string) mcpserver.LogsOutput {
	t.Helper()
	for {
		out := engineCall[mcpserver.LogsOutput](ctx, t, cs, "get_logs", map[string]any{"id": id})
		var got []string
		if len(out.Runs) == 1 {
			for _, l := range out.Runs[0].Lines {
				got = append(got, l.Message)
			}
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			return out
		}
		select {
		case <-ctx.Done():
			t.Fatalf("get_logs(%s): lines %q, still missing %q", id, got, missing)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func engineCall[Out any](ctx context.Context, t *testing.T, cs *mcp.ClientSession, name string, args any) Out {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): %+v", name, args, res.StructuredContent)
	}
	var out Out
	remarshalTo(t, res.StructuredContent, &out)
	return out
}

func remarshalTo(t *testing.T, from, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	if err == nil {
		err = json.Unmarshal(b, to)
	}
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// buildCommand builds this command into a temporary directory.
func buildCommand(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the command needs go on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "hatchetflow")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
