package hatchetflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// UpperOut is what the TypeScript task ts-upper (testdata/tsworker/worker.js) returns.
type UpperOut struct {
	OrderID   string `json:"order_id"`
	Lang      string `json:"lang"`
	Signature string `json:"signature"`
}

// UpperIn is a success callback of ts-upper (or of its Go twin).
type UpperIn struct {
	Got inject.ReturnValue[UpperOut] `json:"mageflow_results"`
}

// startTSWorker installs the TypeScript worker's locked dependencies (npm ci, once),
// runs it with this test's engine environment and waits until its task is registered
// (the engine refuses a trigger of a name it does not know); it is stopped when the
// test ends.
func startTSWorker(ctx context.Context, t *testing.T, hc *hatchet.Client) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs Node.js for the TypeScript worker test")
		}
		t.Skip("no Node.js: the TypeScript worker test needs node and npm")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "tsworker"))
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@hatchet-dev", "typescript-sdk")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	cmd := exec.Command(node, "worker.js")
	cmd.Dir = dir
	// The TypeScript SDK wants its log level in upper case.
	cmd.Env = append(os.Environ(), "HATCHET_CLIENT_LOG_LEVEL=ERROR")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("TypeScript worker output:\n%s", out.String())
		}
	})
	name := "ts-upper"
	if ns := os.Getenv("HATCHET_CLIENT_NAMESPACE"); ns != "" {
		name = strings.ToLower(strings.TrimSuffix(ns, "_")+"_") + name // as both SDKs apply it
	}
	began := time.Now()
	for {
		wf, err := hc.Workflows().Get(ctx, name)
		if err == nil && wf.Name == name {
			t.Logf("TypeScript worker registered %s in %v", name, time.Since(began).Round(time.Millisecond))
			return
		}
		select {
		case err := <-exited:
			t.Fatalf("TypeScript worker exited: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("TypeScript worker did not register %s: %v\n%s", name, err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// A task served by a TypeScript worker (the official SDK, on Node.js) takes part in
// hatchetflow flows signed by name: as a chain step between Go steps' neighbours, as a
// success callback with its own callback, as swarm items, and failing, with the error
// callback once.
// Its output reaches the next Go step; its run carries the signature in its metadata.
// The hop Go step → TypeScript task → Go step is measured against the same flow with a
// Go twin of the task.
func TestEngineTypeScriptTaskInAFlow(t *testing.T) {
	hc, c, _, _ := newSwarmClient(t, "hfts-", &swarmFlow{})
	var mu sync.Mutex
	got := map[string][]UpperOut{} // by order id (upper case)
	startedAt := map[string]time.Time{}
	returnedAt := map[string]time.Time{}
	var errs []ErrorMessage
	_, err := hatchetflow.NewTask(c, "ts-src", func(_ hatchet.Context, in Order) (Order, error) {
		mu.Lock()
		defer mu.Unlock()
		returnedAt[strings.ToUpper(in.OrderID)] = time.Now()
		return in, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "go-upper", func(hctx hatchet.Context, in map[string]any) (UpperOut, error) {
		src, _ := in["mageflow_results"].(map[string]any)
		id, _ := src["order_id"].(string)
		return UpperOut{OrderID: strings.ToUpper(id), Lang: "go", Signature: hctx.AdditionalMetadata()[hatchetflow.MetaSignature]}, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "ts-sink", func(_ hatchet.Context, in UpperIn) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		got[in.Got.Value.OrderID] = append(got[in.Got.Value.OrderID], in.Got.Value)
		startedAt[in.Got.Value.OrderID] = time.Now()
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "ts-err", func(_ hatchet.Context, in ErrorMessage) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, in)
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	startTSWorker(ctx, t, hc)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "ts-go-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })
	ts := func() dsl.Builder { return dsl.Sign("ts-upper").Validate(Order{}) }

	// As a chain's first step, then a Go step: the chain's result is the Go step's.
	ch, err := dsl.Chain(ts(), dsl.Sign("ts-sink")).Run(ctx, c, Order{OrderID: "chain-1"})
	must(t, err)
	if _, err := ch.Wait(ctx); err != nil {
		t.Fatalf("chain with a TypeScript step: %v", err)
	}
	// As swarm items: the swarm's result lists each item's output, in item order.
	sw, err := dsl.Swarm(ts().With(dsl.KW{"order_id": "sw-1"}), ts().With(dsl.KW{"order_id": "sw-2"})).
		Run(ctx, c, map[string]any{})
	must(t, err)
	swOut, err := sw.Wait(ctx)
	if err != nil {
		t.Fatalf("swarm of TypeScript items: %v", err)
	}
	var items []struct {
		OrderID string `json:"order_id"`
		Lang    string `json:"lang"`
	}
	if err := json.Unmarshal(swOut, &items); err != nil || len(items) != 2 ||
		items[0].OrderID != "SW-1" || items[1].OrderID != "SW-2" || items[0].Lang != "ts" {
		t.Errorf("swarm of TypeScript items returned %s (%v), want SW-1 then SW-2 from ts", swOut, err)
	}
	// As a success callback of a Go task, with its own Go callback; and the Go twin.
	const hops = 5
	var hs []dsl.Handle
	for i := range hops {
		h, err := dsl.Sign("ts-src").OnSuccess(ts().OnSuccess(dsl.Sign("ts-sink"))).Run(ctx, c, Order{OrderID: fmt.Sprintf("ts-%d", i)})
		must(t, err)
		hs = append(hs, h)
		h, err = dsl.Sign("ts-src").OnSuccess(dsl.Sign("go-upper").OnSuccess(dsl.Sign("ts-sink"))).Run(ctx, c, Order{OrderID: fmt.Sprintf("go-%d", i)})
		must(t, err)
		hs = append(hs, h)
	}
	// Failing: the error callback gets the original message and the TypeScript error.
	bad, err := ts().OnSuccess(dsl.Sign("ts-sink")).OnError(dsl.Sign("ts-err").With(dsl.KW{"additional_field1": 5})).
		Run(ctx, c, Order{OrderID: "bad-ts"})
	must(t, err)
	if _, err := bad.Wait(ctx); err == nil {
		t.Fatal("Wait on a failing TypeScript run returned no error")
	}
	want := []string{"CHAIN-1"}
	for i := range hops {
		want = append(want, fmt.Sprintf("TS-%d", i), fmt.Sprintf("GO-%d", i))
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		done := len(errs) == 1
		for _, id := range want {
			done = done && len(got[id]) >= 1
		}
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // room for a duplicate to show
	mu.Lock()
	defer mu.Unlock()
	var tsHop, goHop []time.Duration
	for _, id := range want {
		if len(got[id]) != 1 {
			t.Errorf("%s: the Go step after it ran %d times, want once", id, len(got[id]))
			continue
		}
		o := got[id][0]
		wantLang := "ts"
		if strings.HasPrefix(id, "GO-") {
			wantLang = "go"
		}
		if o.Lang != wantLang || o.Signature == "" {
			t.Errorf("%s: got %+v, want lang %s and the signature from the run's metadata", id, o, wantLang)
		}
		if r, ok := returnedAt[id]; ok {
			if wantLang == "ts" {
				tsHop = append(tsHop, startedAt[id].Sub(r))
			} else {
				goHop = append(goHop, startedAt[id].Sub(r))
			}
		}
	}
	if len(errs) != 1 || errs[0].OrderID != "bad-ts" || errs[0].AdditionalField1 != 5 ||
		errs[0].Failure == nil || !strings.Contains(errs[0].Failure.Message, "ts-upper refuses bad-ts") {
		t.Errorf("error callbacks got %+v, want one with the original message and the TypeScript error", errs)
	}
	if len(got["BAD-TS"]) != 0 {
		t.Errorf("a failing TypeScript run fired its success callback")
	}
	med := func(d []time.Duration) time.Duration {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return d[len(d)/2].Round(time.Millisecond)
	}
	t.Logf("Go task returned → Go step after the middle task started: through a TypeScript task median %v %v; through a Go task median %v %v",
		med(tsHop), tsHop, med(goHop), goHop)
	for _, h := range append(hs, ch, bad) {
		rec, err := c.Signature(context.WithoutCancel(ctx), h.SignatureID())
		if err == nil && !rec.Status.Ended() {
			// Say where the engine's run was, to tell a run the engine never delivered
			// from one that ended unseen.
			state := "unknown"
			if det, err := hc.Runs().Get(context.WithoutCancel(ctx), h.RunID()); err != nil {
				state = err.Error()
			} else {
				state = fmt.Sprintf("%s, %d task events", det.Run.Status, len(det.TaskEvents))
			}
			t.Errorf("signature %s left %s; its engine run %s: %s", h.SignatureID(), rec.Status, h.RunID(), state)
		}
	}
}
