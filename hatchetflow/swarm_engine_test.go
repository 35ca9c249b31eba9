package hatchetflow_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// newEngineSwarmFlow registers the swarm tasks next to the test flow's on the engine.
func newEngineSwarmFlow(t *testing.T) (*engineFlow, *swarmFlow) {
	t.Helper()
	f := &swarmFlow{}
	e := newEngineFlow(t, func(c *hatchetflow.Client) { f.register(t, c) })
	return e, f
}

// settleSwarm waits until swarm id ended and the callbacks counted in want ran, then
// checks that nothing more runs.
func (e *engineFlow) settleSwarm(t *testing.T, f *swarmFlow, id string, squared, lists, failures int) *hatchetflow.SwarmState {
	t.Helper()
	ctx := enginetest.Context(t, 2*time.Minute)
	for {
		st, err := e.c.Swarm(ctx, id)
		must(t, err)
		s, l, fl := f.counts()
		if (st.Status == hatchetflow.StatusDone || st.Status == hatchetflow.StatusFailed) && s >= squared && l >= lists && fl >= failures {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("swarm %s not settled: %s, %d/%d items run, %d lists, %d failures", id, st.Status, s, squared, l, fl)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // a duplicate would show now
	s, l, fl := f.counts()
	if s != squared || l != lists || fl != failures {
		t.Fatalf("after settling: %d items run, %d lists, %d failures; want %d, %d, %d", s, l, fl, squared, lists, failures)
	}
	st, err := e.c.Swarm(ctx, id)
	must(t, err)
	return st
}

func TestEngineSwarmResultsInItemOrder(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	// Item 0 sleeps, so it ends last.
	sw := dsl.Swarm(sq(2).With(dsl.KW{"sleep_ms": 400}), sq(3), sq(4)).OnSuccess(dsl.Sign("sum-list"))
	h, err := sw.Run(ctx, e.c, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[4,9,16]" {
		t.Fatalf("result %s, want [4,9,16]", out)
	}
	e.settleSwarm(t, f, h.SignatureID(), 3, 1, 0)
	if got := fmt.Sprint(f.squared); got == "[2 3 4]" {
		t.Logf("items ended in item order this time; the result is ordered regardless")
	}
	if listString(f.lists[0]) != "[4,9,16]" {
		t.Fatalf("callback got %s", listString(f.lists[0]))
	}
}

func TestEngineSwarmConcurrencyBound(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, 2*time.Minute)
	var items []dsl.Spec
	for i := 1; i <= 30; i++ {
		items = append(items, sq(i).With(dsl.KW{"sleep_ms": 150}))
	}
	h, err := dsl.Swarm(items...).MaxConcurrency(5).OnSuccess(dsl.Sign("sum-list")).Run(ctx, e.c, map[string]any{})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	e.settleSwarm(t, f, h.SignatureID(), 30, 1, 0)
	// The most user functions running at one instant, from their start/end stamps.
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	f.mu.Lock()
	for _, s := range f.spans {
		evs = append(evs, ev{s.start, 1}, ev{s.end, -1})
	}
	f.mu.Unlock()
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at.Equal(evs[j].at) {
			return evs[i].delta < evs[j].delta
		}
		return evs[i].at.Before(evs[j].at)
	})
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.delta
		peak = max(peak, cur)
	}
	if peak > 5 {
		t.Fatalf("%d items ran at once, the bound is 5", peak)
	}
	if peak < 2 {
		t.Errorf("peak %d: items did not run side by side", peak)
	}
	t.Logf("peak concurrency %d of 5", peak)
}

func TestEngineSwarmStopAfterTwo(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	f.fail[2], f.fail[4] = true, true
	// Items: 1 ok, 2 fails, a chain that ends ok, 4 fails, then 5 and 6 that must never start.
	sw := dsl.Swarm(sq(1), sq(2), dsl.Chain(sq(3), dsl.Sign("sq")), sq(4), sq(5), sq(6)).
		MaxConcurrency(1).StopAfter(2).OnSuccess(dsl.Sign("sum-list")).OnError(dsl.Sign("swarm-failed"))
	h, err := sw.Run(ctx, e.c, map[string]any{"n": 42})
	must(t, err)
	_, err = h.Wait(ctx)
	var sf *hatchetflow.SwarmFailedError
	if !errors.As(err, &sf) {
		t.Fatalf("Wait = %v, want *SwarmFailedError", err)
	}
	st := e.settleSwarm(t, f, h.SignatureID(), 5, 0, 1) // 1, 2, 3, 9, 4
	if st.Status != hatchetflow.StatusFailed || st.Items[4].State != "queued" || st.Items[5].State != "queued" {
		t.Fatalf("swarm %s, items %+v", st.Status, st.Items)
	}
	if fl := f.failures[0]; fl.N != 42 || fl.Failure == nil || fl.Failure.SignatureID != h.SignatureID() {
		t.Fatalf("error callback got %+v", fl)
	}
}

func TestEngineSwarmAsSuccessCallback(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	sw := dsl.Swarm(dsl.Sign("sq"), dsl.Sign("sq")).OnSuccess(dsl.Sign("sum-list"))
	h, err := sq(3).OnSuccess(sw).Run(ctx, e.c, map[string]any{})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(45 * time.Second)
	for {
		if _, l, _ := f.counts(); l > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lists) != 1 || listString(f.lists[0]) != "[81,81]" {
		t.Fatalf("swarm callback got %v, want one [81,81]", f.lists)
	}
}

func TestEngineSwarmInsideChain(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	ch := dsl.Chain(sq(2), dsl.Swarm(dsl.Sign("sq"), dsl.Sign("sq").With(dsl.KW{"sleep_ms": 200})), dsl.Sign("sum-list"))
	h, err := ch.Run(ctx, e.c, map[string]any{})
	must(t, err)
	got, err := hatchetflow.WaitResult[int](ctx, h)
	if err != nil || got != 32 {
		t.Fatalf("chain result %d, %v; want 32 (16+16)", got, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lists) != 1 || listString(f.lists[0]) != "[16,16]" {
		t.Fatalf("next step got %v, want [16,16]", f.lists)
	}
}

func TestEngineSwarmAddItemsThenClose(t *testing.T) {
	e, f := newEngineSwarmFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	saved, err := dsl.Swarm(sq(1)).Open().OnSuccess(dsl.Sign("sum-list")).Save(ctx, e.c)
	must(t, err)
	h, err := saved.Run(ctx, e.c, map[string]any{})
	must(t, err)
	if _, err := e.c.AddItems(ctx, saved.ID, hatchetflow.SwarmItem{Spec: dsl.Sign("sq"), Input: map[string]any{"n": 5}},
		hatchetflow.SwarmItem{Spec: sq(6)}); err != nil {
		t.Fatal(err)
	}
	// The engine starts the swarm's run when it gets to it; once active, an open swarm
	// stays active with every item done until it is closed.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, err := e.c.Swarm(ctx, saved.ID)
		must(t, err)
		if st.Status == hatchetflow.StatusActive && st.Done == 3 {
			break
		}
		if st.Status != hatchetflow.StatusPending && st.Status != hatchetflow.StatusActive || time.Now().After(deadline) {
			t.Fatalf("open swarm: %+v, want active with its 3 items done until closed", st)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if st, err := e.c.Swarm(ctx, saved.ID); err != nil || st.Status != hatchetflow.StatusActive {
		t.Fatalf("open swarm: %+v %v, want active until closed", st, err)
	}
	must(t, e.c.CloseSwarm(ctx, saved.ID))
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,25,36]" {
		t.Fatalf("result %s", out)
	}
	e.settleSwarm(t, f, saved.ID, 3, 1, 0)
}
