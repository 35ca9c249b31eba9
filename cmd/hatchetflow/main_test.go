package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

type In struct {
	N int `json:"n"`
}

func noHatchet() (*hatchet.Client, error) { return nil, errors.New("no engine in this test") }

func TestInspectAndDelete(t *testing.T) {
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	run, err := dsl.Swarm(dsl.Sign("double").With(dsl.KW{"n": 2}), dsl.Sign("double").With(dsl.KW{"n": 3})).Run(ctx, h.Client, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	url := "redis://" + h.Redis.Addr()
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"--redis", url, "inspect", run.SignatureID()}, &out, &errOut); code != exitOK {
		t.Fatalf("inspect exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"swarm " + run.SignatureID() + " [done]", "item 0: signature", "result=4", "item 1: signature", "result=6"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "--json", "inspect", run.SignatureID()}, &out, &errOut); code != exitOK {
		t.Fatalf("inspect --json exit %d", code)
	}
	var node hatchetflow.Node
	var res bytes.Buffer
	err = json.Unmarshal(out.Bytes(), &node)
	if err == nil {
		err = json.Compact(&res, node.Result)
	}
	if err != nil || len(node.Items) != 2 || res.String() != "[4,6]" {
		t.Fatalf("inspect --json: %v %+v", err, node)
	}
	out.Reset()
	if code := run1(ctx, []string{"--redis", url, "delete", run.SignatureID()}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "deleted 3 records") {
		t.Fatalf("delete exit %d: %s %s", code, out.String(), errOut.String())
	}
	if code := run1(ctx, []string{"--redis", url, "inspect", run.SignatureID()}, &out, &errOut); code != exitNotFound {
		t.Fatalf("inspect after delete: exit %d, want %d", code, exitNotFound)
	}
}

func TestUsageAndUnreachable(t *testing.T) {
	ctx := context.Background()
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{}, {"inspect"}, {"frobnicate", "x"}, {"inspect", "not-an-id"}} {
		if code := run1(ctx, args, &out, &errOut); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	errOut.Reset()
	code := run1(ctx, []string{"--redis", "redis://127.0.0.1:1", "--timeout", "2s", "inspect", "0193f1d0-0000-7000-8000-000000000000"}, &out, &errOut)
	if code != exitFailed || errOut.Len() == 0 {
		t.Errorf("Redis unreachable: exit %d (%s), want %d with a message", code, errOut.String(), exitFailed)
	}
	if code := run1(ctx, []string{"cancel", "0193f1d0-0000-7000-8000-000000000000"}, &out, &errOut); code != exitFailed {
		t.Errorf("cancel without an engine: exit %d, want %d", code, exitFailed)
	}
}

func run1(ctx context.Context, args []string, out, errOut *bytes.Buffer) int {
	return run(ctx, args, out, errOut, sdkOnly(noHatchet))
}

func TestConnectWithoutATokenIsAnError(t *testing.T) {
	t.Setenv("HATCHET_CLIENT_TOKEN", "")
	if c, err := connectHatchet(); err == nil || c != nil || !strings.Contains(err.Error(), "HATCHET_CLIENT_TOKEN") {
		t.Fatalf("connectHatchet without a token: %v, %v", c, err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"cancel", "0193f1d0-0000-7000-8000-000000000000"}, &out, &errOut, sdkOnly(connectHatchet)); code != exitFailed ||
		!strings.Contains(errOut.String(), "HATCHET_CLIENT_TOKEN") {
		t.Fatalf("cancel without a token: exit %d, %s", code, errOut.String())
	}
}

func TestHatchetFlagsOverrideTheEnvironment(t *testing.T) {
	t.Setenv("HATCHET_CLIENT_TOKEN", "")
	var seen string
	probe := func() (*hatchet.Client, error) {
		seen = os.Getenv("HATCHET_CLIENT_TOKEN")
		return nil, errors.New("probe: no engine")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--hatchet-token", "tok-123", "cancel", "0193f1d0-0000-7000-8000-000000000000"}, &out, &errOut, sdkOnly(probe))
	if code != exitFailed || seen != "tok-123" {
		t.Fatalf("exit %d, the SDK saw token %q, want tok-123", code, seen)
	}
}

// inspect shows what a waiting signature waits for, and the run that waits.
func TestInspectWaiting(t *testing.T) {
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	run, err := dsl.Sign("double").After(dsl.Event("go", "k-1")).Run(ctx, h.Client, In{N: 2})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"--redis", "redis://" + h.Redis.Addr(), "inspect", run.SignatureID()}, &out, &errOut); code != exitOK {
		t.Fatalf("inspect exit %d: %s", code, errOut.String())
	}
	want := `[pending] double waiting-for="go" key="k-1" timeout=1h0m0s wait-run=` + run.(*hatchetflow.Handle).WaitRunID()
	if !strings.Contains(out.String(), want) {
		t.Fatalf("inspect output lacks %q:\n%s", want, out.String())
	}
}
