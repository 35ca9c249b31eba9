package hatchetflow_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// newEngineChainFlow registers the chain tasks next to the test flow's on the engine.
func newEngineChainFlow(t *testing.T) (*engineFlow, *chainFlow) {
	t.Helper()
	f := &chainFlow{calls: map[string][]int{}, failAt: map[int]bool{}}
	e := newEngineFlow(t, func(c *hatchetflow.Client) { f.register(t, c) })
	return e, f
}

// settleChain waits until the chain ended and every callback it dispatched ran.
func (e *engineFlow) settleChain(t *testing.T, f *chainFlow, h dsl.Handle, want map[string]int) {
	t.Helper()
	ctx := enginetest.Context(t, time.Minute)
	for {
		st, err := e.c.Chain(ctx, h.SignatureID())
		must(t, err)
		done := st.Status == hatchetflow.StatusDone || st.Status == hatchetflow.StatusFailed
		counts := true
		for task, n := range want {
			if task != "chain-failed" && len(f.got(task)) < n {
				counts = false
			}
		}
		f.mu.Lock()
		failures := len(f.failures)
		f.mu.Unlock()
		if done && counts && failures >= want["chain-failed"] {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("chain %s not settled: %+v, calls %v", h.SignatureID(), st, f.calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything more would be a duplicate: give it time to show
	for task, n := range want {
		if task == "chain-failed" {
			continue
		}
		if got := len(f.got(task)); got != n {
			t.Fatalf("%s ran %d times, want %d (%v)", task, got, n, f.got(task))
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.failures) != want["chain-failed"] {
		t.Fatalf("chain-failed ran %d times, want %d: %+v", len(f.failures), want["chain-failed"], f.failures)
	}
}

func TestEngineChainPassesResults(t *testing.T) {
	e, f := newEngineChainFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc").With(dsl.KW{"step": 5}), dsl.Sign("inc")).
		OnSuccess(dsl.Sign("collect")).OnError(dsl.Sign("chain-failed")).Run(ctx, e.c, map[string]any{"v": 1})
	must(t, err)
	got, err := hatchetflow.WaitResult[int](ctx, h)
	if err != nil || got != 8 {
		t.Fatalf("chain result %d, %v; want 8", got, err)
	}
	e.settleChain(t, f, h, map[string]int{"inc": 3, "collect": 1})
	equalInts(t, "inc received", f.got("inc"), []int{1, 2, 7})
	equalInts(t, "collect received", f.got("collect"), []int{8})
}

func TestEngineChainStepFailsAfterRetries(t *testing.T) {
	e, f := newEngineChainFlow(t)
	f.failAt[2] = true
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc"), dsl.Sign("inc")).
		OnSuccess(dsl.Sign("collect")).OnError(dsl.Sign("chain-failed")).Run(ctx, e.c, map[string]any{"v": 1})
	must(t, err)
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrRunFailed) {
		t.Fatalf("Wait on a failing chain = %v", err)
	}
	// inc: step 1 once, step 2 twice (one retry), step 3 never.
	e.settleChain(t, f, h, map[string]int{"inc": 3, "collect": 0, "chain-failed": 1})
	if fl := f.failures[0]; fl.V != 1 || fl.Failure == nil || fl.Failure.ChainID != h.SignatureID() || fl.Failure.Attempt != 2 {
		t.Fatalf("chain error callback got %+v / %+v", fl, fl.Failure)
	}
}

func TestEngineChainAsCallbackAndNested(t *testing.T) {
	e, f := newEngineChainFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	inner := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc").With(dsl.KW{"step": 10}))
	outer := dsl.Chain(dsl.Sign("inc"), inner, dsl.Sign("inc")).OnSuccess(dsl.Sign("collect"))
	_, err := dsl.Sign("inc").OnSuccess(outer).Run(ctx, e.c, map[string]any{"v": 0})
	must(t, err)
	deadline := time.Now().Add(45 * time.Second)
	for len(f.got("collect")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	// 0 → 1 (the task), then 1+1=2, inner 2+1=3, 3+10=13, then 13+1=14.
	equalInts(t, "inc received", f.got("inc"), []int{0, 1, 2, 3, 13})
	equalInts(t, "collect received", f.got("collect"), []int{14})
}

func TestEngineChainStepTimeout(t *testing.T) {
	e, f := newEngineChainFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("nap"), dsl.Sign("inc")).
		OnError(dsl.Sign("chain-failed")).Run(ctx, e.c, map[string]any{"v": 1})
	must(t, err)
	e.settleChain(t, f, h, map[string]int{"inc": 1, "nap": 1, "chain-failed": 1})
	if fl := f.failures[0]; fl.Failure == nil || fl.Failure.Task != "nap" {
		t.Fatalf("chain error callback after a timeout got %+v", fl)
	}
}
