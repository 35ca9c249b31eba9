package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/inspectui"
	"github.com/hatchetflow/go/testing/flowtest"
)

type modeIn struct {
	Mode string `json:"mode"`
}

// failingCallback runs "double" with a "flaky" success callback that fails unless its
// kwargs say mode=safe: the root ends done, the flow failed.
func failingCallback(t *testing.T) (h *flowtest.Harness, root, cb string, flakyCalls *atomic.Int32) {
	t.Helper()
	h = flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	h.ExpectFailure("flaky")
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	flakyCalls = new(atomic.Int32)
	if _, err := hatchetflow.NewTask(h.Client, "flaky", func(_ hatchet.Context, in modeIn) (string, error) {
		flakyCalls.Add(1)
		if in.Mode != "safe" {
			return "", hatchetflow.NonRetryable(errors.New("flaky fails"))
		}
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Client.RegisterTasks(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := dsl.Sign("double").OnSuccess(dsl.Sign("flaky")).Run(ctx, h.Client, In{N: 2})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	tree, err := h.Client.Tree(ctx, run.SignatureID())
	if err != nil || tree.Status != hatchetflow.StatusDone || len(tree.OnSuccess) != 1 || tree.OnSuccess[0].Status != hatchetflow.StatusFailed {
		t.Fatalf("setup: want a done root with a failed callback: %v %+v", err, tree)
	}
	return h, run.SignatureID(), tree.OnSuccess[0].ID, flakyCalls
}

// onHarness is the connector of a command whose engine is h.
func onHarness(h *flowtest.Harness) connector {
	return func() (*hatchet.Client, []hatchetflow.Option, error) {
		return nil, []hatchetflow.Option{engine.WithDispatcher(h)}, nil
	}
}

func TestListAndInspectShowTheFlowStatus(t *testing.T) {
	h, root, cb, _ := failingCallback(t)
	ctx := context.Background()
	url := "redis://" + h.Redis.Addr()
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"--redis", url, "--roots", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "FLOW") || !strings.HasPrefix(lines[1], root) ||
		!strings.Contains(lines[1], " done ") || !strings.Contains(lines[1], "failed at "+cb+" (flaky)") {
		t.Fatalf("ls --roots: want the done root with its flow failed at %s:\n%s", cb, out.String())
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "--roots", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls --json exit %d: %s", code, errOut.String())
	}
	var page inspectui.Page
	if err := json.Unmarshal(out.Bytes(), &page); err != nil || len(page.Entries) != 1 {
		t.Fatalf("ls --json: %v %s", err, out.String())
	}
	e := page.Entries[0]
	if e.Status != hatchetflow.StatusDone || e.Flow == nil || e.Flow.Status != hatchetflow.StatusFailed || e.Flow.Failed == nil ||
		e.Flow.Failed.ID != cb || e.Flow.Failed.Task != "flaky" || !strings.Contains(e.Flow.Failed.Error, "flaky fails") {
		t.Fatalf("ls --json entry %+v flow %+v", e, e.Flow)
	}
	// Records that are not roots have no flow; --flow=false reads none.
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls --json exit %d", code)
	}
	page = inspectui.Page{}
	if err := json.Unmarshal(out.Bytes(), &page); err != nil || len(page.Entries) != 2 {
		t.Fatalf("ls --json: %v %s", err, out.String())
	}
	for _, e := range page.Entries {
		if (e.Flow != nil) != e.Root {
			t.Errorf("entry %s (root %v) has flow %+v", e.ID, e.Root, e.Flow)
		}
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--roots", "--flow=false", "ls"}, &out, &errOut); code != exitOK ||
		strings.Contains(out.String(), "failed at") {
		t.Fatalf("ls --flow=false: exit %d\n%s", code, out.String())
	}

	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "inspect", root}, &out, &errOut); code != exitOK {
		t.Fatalf("inspect exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"flow " + root + ": failed at " + cb + " (flaky)", "first failed: signature " + cb + " (task flaky): ",
		"signature " + root + " [done]", "on success: signature " + cb + " [failed]"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "inspect", root}, &out, &errOut); code != exitOK {
		t.Fatalf("inspect --json exit %d", code)
	}
	var got struct {
		hatchetflow.Node
		Flow *inspectui.FlowSummary
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.ID != root || len(got.OnSuccess) != 1 || got.Flow == nil ||
		got.Flow.Status != hatchetflow.StatusFailed || got.Flow.Failed == nil || got.Flow.Failed.ID != cb {
		t.Fatalf("inspect --json: %v %s", err, out.String())
	}
}

func TestRetry(t *testing.T) {
	h, root, cb, calls := failingCallback(t)
	ctx := context.Background()
	url := "redis://" + h.Redis.Addr()
	var out, errOut bytes.Buffer
	retry := func(args ...string) int {
		out.Reset()
		errOut.Reset()
		return run(ctx, append([]string{"--redis", url}, args...), &out, &errOut, onHarness(h))
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"retry", root}, exitFailed, "cannot retry"},            // done: refused
		{[]string{"retry", root}, exitFailed, "hatchetflow retry " + cb}, // ... naming the node to retry
		{[]string{"retry", cb, "--kwargs", `{"mode":`}, exitUsage, "--kwargs"},
		{[]string{"retry", cb, "--kwargs", `[1]`}, exitUsage, "JSON object"},
		{[]string{"retry", cb, "--kwargs", `null`}, exitUsage, "JSON object"},
		{[]string{"retry", cb, "--kwargs", `{"mode":3}`}, exitUsage, "mode"}, // does not fit the task
		{[]string{"retry", "not-an-id"}, exitUsage, "invalid"},
		{[]string{"retry", "0193f1d0-0000-7000-8000-000000000000"}, exitNotFound, "not found"},
		{[]string{"retry"}, exitUsage, "usage"},
	} {
		if code := retry(c.args...); code != c.code || !strings.Contains(errOut.String(), c.msg) {
			t.Errorf("%v: exit %d (%s), want %d with %q", c.args, code, errOut.String(), c.code, c.msg)
		}
	}
	if n := calls.Load(); n != 1 || h.Queued() != 0 {
		t.Fatalf("refused retries ran flaky: %d calls, %d queued", n, h.Queued())
	}
	// Flags after the id, as the other commands take them.
	if code := retry("--json", "retry", cb, "--kwargs", `{"mode":"safe"}`); code != exitOK {
		t.Fatalf("retry: exit %d: %s", code, errOut.String())
	}
	var res struct{ Retry, Signature, RunID string }
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Retry != cb || res.Signature != cb || res.RunID == "" {
		t.Fatalf("retry --json: %v %s", err, out.String())
	}
	h.Drain(ctx)
	if n := calls.Load(); n != 2 {
		t.Fatalf("flaky ran %d times, want 2", n)
	}
	h.RequireStatus(t, cb, hatchetflow.StatusDone)
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--roots", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls exit %d", code)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], " done ") ||
		strings.Contains(lines[1], "failed") {
		t.Fatalf("ls after the retry: want the flow done:\n%s", out.String())
	}
	if code := retry("retry", cb); code != exitFailed || !strings.Contains(errOut.String(), "cannot retry") {
		t.Errorf("retry of what is now done: exit %d (%s), want %d", code, errOut.String(), exitFailed)
	}
}

func TestFlagsAfterTheID(t *testing.T) {
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	sig, err := dsl.Sign("double").Save(ctx, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"cancel", sig.ID, "--redis", "redis://" + h.Redis.Addr(), "--silent"}, &out, &errOut, onHarness(h)); code != exitOK ||
		!strings.Contains(out.String(), "cancel "+sig.ID+": done") {
		t.Fatalf("cancel ID --silent: exit %d: %s %s", code, out.String(), errOut.String())
	}
	h.RequireStatus(t, sig.ID, hatchetflow.StatusCancelled)
	if code := run1(ctx, []string{"cancel", sig.ID, "--no-such-flag"}, &out, &errOut); code != exitUsage {
		t.Errorf("unknown flag after the id: exit %d, want %d", code, exitUsage)
	}
	if code := run1(ctx, []string{"inspect", sig.ID, "extra"}, &out, &errOut); code != exitUsage {
		t.Errorf("a third word: exit %d, want %d", code, exitUsage)
	}
}
