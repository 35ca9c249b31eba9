package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

func TestListAndTasks(t *testing.T) {
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(h.Client, "note", func(_ hatchet.Context, _ struct {
		R int `json:"mageflow_results"`
	}) (string, error) {
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Client.RegisterTasks(ctx); err != nil { // a worker does this at start
		t.Fatal(err)
	}
	done, err := dsl.Sign("double").OnSuccess(dsl.Sign("note")).Run(ctx, h.Client, In{N: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := done.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	pending, err := dsl.Sign("double").Save(ctx, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	url := "redis://" + h.Redis.Addr()
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"--redis", url, "--roots", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], pending.ID) || !strings.Contains(lines[1], "pending") ||
		!strings.HasPrefix(lines[2], done.SignatureID()) || !strings.Contains(lines[2], "done") {
		t.Fatalf("ls --roots:\n%s", out.String())
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "--task", "note", "--status", "done", "ls"}, &out, &errOut); code != exitOK {
		t.Fatalf("ls --json exit %d: %s", code, errOut.String())
	}
	var page hatchetflow.ListPage
	if err := json.Unmarshal(out.Bytes(), &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Task != "note" || page.Entries[0].Root {
		t.Fatalf("ls --json: %v %s", err, out.String())
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--limit", "1", "ls"}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "more: add --cursor ") {
		t.Fatalf("ls --limit 1: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "tasks"}, &out, &errOut); code != exitOK {
		t.Fatalf("tasks exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "double") || !strings.Contains(out.String(), "note") {
		t.Fatalf("tasks:\n%s", out.String())
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "tasks"}, &out, &errOut); code != exitOK {
		t.Fatalf("tasks --json exit %d", code)
	}
	var ts []hatchetflow.TaskInfo
	if err := json.Unmarshal(out.Bytes(), &ts); err != nil || len(ts) < 2 || ts[0].Name != "double" || ts[0].Signatures != 2 || ts[len(ts)-1].Name != "note" || ts[len(ts)-1].Signatures != 1 {
		t.Fatalf("tasks --json: %v %s", err, out.String())
	}
	for _, bad := range [][]string{{"--status", "nope", "ls"}, {"--since", "yesterday", "ls"}, {"--limit", "5000", "ls"}, {"--cursor", "x", "ls"}, {"ls", "extra"}} {
		if code := run1(ctx, append([]string{"--redis", url}, bad...), &out, &errOut); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
