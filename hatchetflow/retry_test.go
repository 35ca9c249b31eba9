package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// retryFlow has steps that count their calls; "flaky" fails until fixed.
type retryFlow struct {
	h     *flowtest.Harness
	mu    sync.Mutex
	calls map[string]int
	fixed bool
	got   map[string][]map[string]any
}

func newRetryFlow(t *testing.T) *retryFlow {
	t.Helper()
	f := &retryFlow{h: flowtest.New(t), calls: map[string]int{}, got: map[string][]map[string]any{}}
	f.h.Quiet()
	f.h.ExpectFailure("flaky")
	rec := func(name string, in map[string]any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls[name]++
		f.got[name] = append(f.got[name], in)
	}
	for _, name := range []string{"step1", "step3", "done-cb", "err-cb"} {
		_, err := hatchetflow.NewTask(f.h.Client, name, func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
			rec(name, in)
			return map[string]any{"by": name, "n": len(f.got[name])}, nil
		})
		must(t, err)
	}
	_, err := hatchetflow.NewTask(f.h.Client, "flaky", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		rec("flaky", in)
		f.mu.Lock()
		fixed := f.fixed
		f.mu.Unlock()
		if !fixed && in["mode"] != "safe" {
			return nil, hatchetflow.NonRetryable(errors.New("flaky fails"))
		}
		return map[string]any{"by": "flaky", "mode": in["mode"]}, nil
	})
	must(t, err)
	return f
}

func (f *retryFlow) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// A chain that failed at step 2 of 3 resumes there: step 1 does not run again, step 2
// gets the message it failed with, step 3 and the chain's success callback run once;
// the chain's error callback, which ran for the failure, does not run again. A second
// Retry is refused.
func TestRetryChainAtStep2Of3(t *testing.T) {
	f := newRetryFlow(t)
	ctx := context.Background()
	ch := dsl.Chain(dsl.Sign("step1"), dsl.Sign("flaky"), dsl.Sign("step3")).
		OnSuccess(dsl.Sign("done-cb")).OnError(dsl.Sign("err-cb"))
	h, err := ch.Run(ctx, f.h.Client, map[string]any{"order": "o1"})
	must(t, err)
	if _, err := h.Wait(ctx); err == nil {
		t.Fatal("the chain did not fail")
	}
	f.h.Drain(ctx)
	if f.count("err-cb") != 1 || f.count("step3") != 0 {
		t.Fatalf("after the failure: err-cb %d, step3 %d", f.count("err-cb"), f.count("step3"))
	}
	failedInput := f.got["flaky"][0]
	f.mu.Lock()
	f.fixed = true
	f.mu.Unlock()

	rh, err := f.h.Client.Retry(ctx, h.SignatureID(), nil)
	must(t, err)
	if rh.SignatureID() != h.SignatureID() {
		t.Fatalf("retry handle follows %s, want the chain %s", rh.SignatureID(), h.SignatureID())
	}
	out, err := rh.Wait(ctx)
	if err != nil {
		t.Fatalf("retried chain: %v", err)
	}
	f.h.Drain(ctx)
	st, err := f.h.Client.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusDone || string(out) == "" {
		t.Fatalf("chain after retry: %s, result %s", st.Status, out)
	}
	for name, want := range map[string]int{"step1": 1, "flaky": 2, "step3": 1, "done-cb": 1, "err-cb": 1} {
		if got := f.count(name); got != want {
			t.Errorf("%s ran %d times, want %d", name, got, want)
		}
	}
	if again := f.got["flaky"][1]; len(again) != len(failedInput) || again["mageflow_results"] == nil {
		t.Errorf("retried step got %v, want the message it failed with %v", again, failedInput)
	}
	fs, err := rh.(*hatchetflow.Handle).Flow().Wait(ctx)
	if err != nil || fs.Status != hatchetflow.StatusDone {
		t.Errorf("flow after retry: %+v, %v; want done", fs, err)
	}
	_, err = f.h.Client.Retry(ctx, h.SignatureID(), nil)
	var nr *hatchetflow.NotRetryableError
	if !errors.As(err, &nr) || !errors.Is(err, hatchetflow.ErrNotRetryable) || nr.Status != hatchetflow.StatusDone {
		t.Fatalf("second Retry = %v, want NotRetryable (done)", err)
	}
}

// A failed signature runs again with its stored message and new kwargs merged over
// its own; its success callbacks, never run before, run once. Retry refuses a
// pending, done or unknown node.
func TestRetrySignatureWithNewKwargs(t *testing.T) {
	f := newRetryFlow(t)
	ctx := context.Background()
	h, err := dsl.Sign("flaky").With(dsl.KW{"mode": "fast"}).OnSuccess(dsl.Sign("done-cb")).OnError(dsl.Sign("err-cb")).
		Run(ctx, f.h.Client, map[string]any{"order": "o2"})
	must(t, err)
	_, _ = h.Wait(ctx)
	f.h.Drain(ctx)
	rh, err := f.h.Client.Retry(ctx, h.SignatureID(), &hatchetflow.RetryOptions{Kwargs: dsl.KW{"mode": "safe"}})
	must(t, err)
	out, err := hatchetflow.WaitResult[map[string]any](ctx, rh)
	must(t, err)
	f.h.Drain(ctx)
	if out["mode"] != "safe" || f.got["flaky"][1]["order"] != "o2" {
		t.Fatalf("retry returned %v, got message %v; want mode safe and the stored order", out, f.got["flaky"][1])
	}
	if f.count("done-cb") != 1 || f.count("err-cb") != 1 {
		t.Fatalf("done-cb %d, err-cb %d; want 1 and 1", f.count("done-cb"), f.count("err-cb"))
	}
	sig, err := f.h.Client.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusDone {
		t.Fatalf("retried signature %s, want done", sig.Status)
	}

	var nr *hatchetflow.NotRetryableError
	saved, err := dsl.Sign("step1").Save(ctx, f.h.Client)
	must(t, err)
	if _, err := f.h.Client.Retry(ctx, saved.ID, nil); !errors.As(err, &nr) || nr.Status != hatchetflow.StatusPending {
		t.Errorf("Retry of a pending signature = %v", err)
	}
	if _, err := f.h.Client.Retry(ctx, h.SignatureID(), nil); !errors.As(err, &nr) || nr.Status != hatchetflow.StatusDone {
		t.Errorf("Retry of a done signature = %v", err)
	}
	if _, err := f.h.Client.Retry(ctx, "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", nil); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Errorf("Retry of an unknown id = %v", err)
	}
}

// A swarm stopped by a failed item runs again its failed items only: the done items
// keep their results and do not run again, the swarm completes with every result in
// item order, its success callback runs once, and its error callback (which ran for
// the stop) not again. A retried swarm that is done is refused.
func TestRetrySwarmRerunsFailedItems(t *testing.T) {
	f := newRetryFlow(t)
	ctx := context.Background()
	sw := dsl.Swarm(dsl.Sign("step1").With(dsl.KW{"i": 0}), dsl.Sign("flaky").With(dsl.KW{"i": 1}), dsl.Sign("step3").With(dsl.KW{"i": 2})).
		MaxConcurrency(1).StopAfter(1).OnSuccess(dsl.Sign("done-cb")).OnError(dsl.Sign("err-cb"))
	h, err := sw.Run(ctx, f.h.Client, map[string]any{"batch": "b1"})
	must(t, err)
	if _, err := h.Wait(ctx); err == nil {
		t.Fatal("the swarm did not fail")
	}
	f.h.Drain(ctx)
	if f.count("err-cb") != 1 || f.count("step1") != 1 || f.count("step3") != 0 {
		t.Fatalf("after the stop: err-cb %d, step1 %d, step3 %d", f.count("err-cb"), f.count("step1"), f.count("step3"))
	}
	f.mu.Lock()
	f.fixed = true
	f.mu.Unlock()
	rh, err := f.h.Client.Retry(ctx, h.SignatureID(), nil)
	must(t, err)
	out, err := rh.Wait(ctx)
	if err != nil {
		t.Fatalf("retried swarm: %v", err)
	}
	f.h.Drain(ctx)
	var results []map[string]any
	must(t, json.Unmarshal(out, &results))
	if len(results) != 3 || results[0]["by"] != "step1" || results[1]["by"] != "flaky" || results[2]["by"] != "step3" {
		t.Fatalf("swarm results %s, want step1, flaky, step3 in item order", out)
	}
	for name, want := range map[string]int{"step1": 1, "flaky": 2, "step3": 1, "done-cb": 1, "err-cb": 1} {
		if got := f.count(name); got != want {
			t.Errorf("%s ran %d times, want %d", name, got, want)
		}
	}
	st, err := f.h.Client.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusDone || st.Failed != 0 || st.Done != 3 {
		t.Errorf("swarm after retry: %+v", st)
	}
	if _, err := f.h.Client.Retry(ctx, h.SignatureID(), nil); !errors.Is(err, hatchetflow.ErrNotRetryable) {
		t.Errorf("Retry of a done swarm = %v, want ErrNotRetryable", err)
	}
}
