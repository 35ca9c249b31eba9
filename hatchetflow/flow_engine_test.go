package hatchetflow_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// On the engine: a root succeeds and its success callback, a chain, fails at step 2 of
// 3. The flow handle's Wait names that step (the root is done); Retry by the id the
// root lists for the chain resumes it at step 2, with the reconciler running (it must
// not fail the retried step from the run that failed before); the flow ends done,
// each step and callback having run once more at most.
func TestEngineFlowHandleAndRetry(t *testing.T) {
	_, c, _, _ := newSwarmClient(t, "hfflow-", &swarmFlow{})
	var mu sync.Mutex
	calls := map[string]int{}
	fixed := false
	count := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		calls[name]++
	}
	for _, name := range []string{"fl-root", "fl-step1", "fl-step3", "fl-done", "fl-err"} {
		_, err := hatchetflow.NewTask(c, name, func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
			count(name)
			return map[string]any{"by": name}, nil
		})
		must(t, err)
	}
	_, err := hatchetflow.NewTask(c, "fl-flaky", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		count("fl-flaky")
		mu.Lock()
		defer mu.Unlock()
		if !fixed {
			return nil, hatchetflow.NonRetryable(errors.New("flaky refuses"))
		}
		return map[string]any{"by": "fl-flaky"}, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 2*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "flow-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	cb := dsl.Chain(dsl.Sign("fl-step1"), dsl.Sign("fl-flaky"), dsl.Sign("fl-step3")).
		OnSuccess(dsl.Sign("fl-done")).OnError(dsl.Sign("fl-err"))
	h, err := dsl.Sign("fl-root").OnSuccess(cb).Run(ctx, c, map[string]any{"order": "e1"})
	must(t, err)
	fl := h.(*hatchetflow.Handle).Flow()
	st, err := fl.Wait(ctx)
	var fe *hatchetflow.FlowError
	if !errors.As(err, &fe) || fe.Task != "fl-flaky" || st.Tree.Status != hatchetflow.StatusDone {
		t.Fatalf("Flow.Wait = %+v, %v; want the flaky step named, the root done", st, err)
	}
	sig, err := c.Signature(ctx, h.SignatureID())
	must(t, err)
	mu.Lock()
	fixed = true
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond) // the reconciler's pass sees the failed run first
	rh, err := c.Retry(ctx, sig.OnSuccess[0].ID, nil)
	must(t, err)
	if _, err := rh.Wait(ctx); err != nil {
		t.Fatalf("retried chain: %v", err)
	}
	st, err = fl.Wait(ctx)
	if err != nil || st.Status != hatchetflow.StatusDone {
		t.Fatalf("flow after retry: %+v, %v; want done", st, err)
	}
	time.Sleep(4 * time.Second) // the reconciler's grace and passes: nothing more may run
	mu.Lock()
	defer mu.Unlock()
	for name, want := range map[string]int{"fl-root": 1, "fl-step1": 1, "fl-flaky": 2, "fl-step3": 1, "fl-done": 1, "fl-err": 1} {
		if calls[name] != want {
			t.Errorf("%s ran %d times, want %d", name, calls[name], want)
		}
	}
	if st, err := fl.Status(ctx); err != nil || st.Status != hatchetflow.StatusDone {
		t.Errorf("flow status at the end: %+v, %v", st, err)
	}
}

// On the engine, with the reconciler and the swarm watch running: a swarm stopped by a
// failed item, retried, runs that item again only and completes; its success callback
// runs once; nothing else runs again.
func TestEngineRetrySwarm(t *testing.T) {
	_, c, _, _ := newSwarmClient(t, "hfretrysw-", &swarmFlow{}, hatchetflow.WithSwarmWatchInterval(time.Second))
	var mu sync.Mutex
	calls := map[string]int{}
	fixed := false
	for _, name := range []string{"rs-ok", "rs-done", "rs-err"} {
		_, err := hatchetflow.NewTask(c, name, func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[name]++
			return map[string]any{"by": name}, nil
		})
		must(t, err)
	}
	_, err := hatchetflow.NewTask(c, "rs-flaky", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls["rs-flaky"]++
		if !fixed {
			return nil, hatchetflow.NonRetryable(errors.New("flaky refuses"))
		}
		return map[string]any{"by": "rs-flaky"}, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 2*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "retry-swarm-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	h, err := dsl.Swarm(dsl.Sign("rs-ok"), dsl.Sign("rs-flaky"), dsl.Sign("rs-ok")).MaxConcurrency(1).StopAfter(1).
		OnSuccess(dsl.Sign("rs-done")).OnError(dsl.Sign("rs-err")).Run(ctx, c, map[string]any{})
	must(t, err)
	if _, err := h.Wait(ctx); err == nil {
		t.Fatal("the swarm did not fail")
	}
	mu.Lock()
	fixed = true
	mu.Unlock()
	time.Sleep(1500 * time.Millisecond) // a reconciler pass and a swarm watch pass see the stop first
	rh, err := c.Retry(ctx, h.SignatureID(), nil)
	must(t, err)
	if _, err := rh.Wait(ctx); err != nil {
		t.Fatalf("retried swarm: %v", err)
	}
	st, err := rh.(*hatchetflow.Handle).Flow().Wait(ctx)
	if err != nil || st.Status != hatchetflow.StatusDone {
		t.Fatalf("flow after retry: %+v, %v", st, err)
	}
	time.Sleep(4 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for name, want := range map[string]int{"rs-ok": 2, "rs-flaky": 2, "rs-done": 1, "rs-err": 1} {
		if calls[name] != want {
			t.Errorf("%s ran %d times, want %d", name, calls[name], want)
		}
	}
}
