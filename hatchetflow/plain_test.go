package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// LabelInput is the input of "print-label", a task another language's worker serves
// (no hatchetflow step runs it): signed with Validate(LabelInput{}).
type LabelInput struct {
	Receipt inject.ReturnValue[Receipt] `json:"mageflow_results"`
	OrderID string                      `json:"order_id,omitempty"`
	Printer string                      `json:"printer,omitempty"`
}

// plainLabels serves "print-label" on f's harness as a plain task: it adds 1 to the
// receipt's total, or fails for order "bad". It records what each run received.
type plainLabels struct {
	mu   sync.Mutex
	got  []map[string]any
	fail bool
}

func (p *plainLabels) serve(h *flowtest.Harness) {
	h.Plain("print-label", func(_ context.Context, in map[string]any) (any, error) {
		p.mu.Lock()
		p.got = append(p.got, in)
		fail := p.fail
		p.mu.Unlock()
		if fail {
			return nil, errors.New("printer on fire")
		}
		r, _ := in["mageflow_results"].(map[string]any)
		total, _ := r["total"].(float64)
		id, _ := in["order_id"].(string)
		if id == "" {
			id, _ = r["order_id"].(string)
		}
		return map[string]any{"order_id": id, "total": total + 1}, nil
	})
}

func (p *plainLabels) calls() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.got...)
}

func label() dsl.Builder { return dsl.Sign("print-label").Validate(LabelInput{}) }

// A plain task's run ends on the engine with no hatchetflow step; the reconciler
// settles its signature from the engine's verdict: done with the run's output, its
// success callbacks once with that output, its bound kwargs in its message.
func TestPlainTaskAsRootIsSettledByTheEngineVerdict(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{}
	p.serve(f.h)
	ctx := context.Background()
	h, err := label().With(dsl.KW{"printer": "zebra"}).OnSuccess(dsl.Sign("log-completion")).
		Run(ctx, f.h.Client, LabelInput{OrderID: "o-1", Receipt: inject.ReturnValue[Receipt]{Value: Receipt{Total: 10}}})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	var r Receipt
	must(t, json.Unmarshal(out, &r))
	if r.Total != 11 || r.OrderID != "o-1" {
		t.Fatalf("Wait = %s, want the plain run's output", out)
	}
	f.h.Drain(ctx)
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
	if n := f.calls.get("log-completion"); n != 1 {
		t.Fatalf("log-completion ran %d times, want 1", n)
	}
	if got := receive(t, f.logs); got.MageflowResults.Total != 11 {
		t.Fatalf("success callback got %+v, want the plain run's output", got)
	}
	if c := p.calls(); len(c) != 1 || c[0]["printer"] != "zebra" {
		t.Fatalf("plain task received %v, want one run with its bound kwarg printer=zebra", c)
	}
	// Another pass changes nothing: the verdict settled it once.
	must(t, f.h.Client.ReconcileNow(ctx))
	f.h.Drain(ctx)
	if n := f.calls.get("log-completion"); n != 1 {
		t.Fatalf("after another reconcile pass log-completion ran %d times, want 1", n)
	}
}

// A plain task as a chain's middle step gets the previous step's return value, and
// its output moves the chain on to the next step; the chain ends done.
func TestPlainTaskAsChainStep(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{}
	p.serve(f.h)
	ctx := context.Background()
	h, err := dsl.Chain(dsl.Sign(f.process), label(), dsl.Sign("log-completion")).Run(ctx, f.h.Client, Order{OrderID: "o-2"})
	must(t, err)
	f.h.Drain(ctx)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatalf("chain Wait: %v", err)
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
	if got := receive(t, f.logs); got.MageflowResults.Total != 43 || got.MageflowResults.OrderID != "o-2" {
		t.Fatalf("last step got %+v, want the plain step's output (total 43)", got)
	}
	if c := p.calls(); len(c) != 1 {
		t.Fatalf("plain step ran %d times, want 1", len(c))
	}
}

// A plain task as a success callback runs with the parent's return value, and its own
// success callback fires once with its output.
func TestPlainTaskAsCallback(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{}
	p.serve(f.h)
	ctx := context.Background()
	cb := label().OnSuccess(dsl.Sign("log-completion"))
	sig, err := dsl.Sign(f.process).OnSuccess(cb).Save(ctx, f.h.Client)
	must(t, err)
	_, err = dsl.Ref(sig.ID).Run(ctx, f.h.Client, Order{OrderID: "o-3"})
	must(t, err)
	f.h.Drain(ctx)
	if got := receive(t, f.logs); got.MageflowResults.Total != 43 {
		t.Fatalf("callback's callback got %+v, want total 43", got)
	}
	if n := f.calls.get("log-completion"); n != 1 {
		t.Fatalf("log-completion ran %d times, want 1", n)
	}
	f.h.RequireStatus(t, sig.OnSuccess[0].ID, hatchetflow.StatusDone)
}

// A plain task that fails ends its signature failed: its error callbacks get the
// original message and the engine's error, once.
func TestPlainTaskFailureReachesErrorCallbacks(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{fail: true}
	p.serve(f.h)
	f.h.ExpectFailure("print-label")
	ctx := context.Background()
	h, err := label().OnSuccess(dsl.Sign("log-completion")).
		OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 7})).
		Run(ctx, f.h.Client, Order{OrderID: "o-4"})
	must(t, err)
	f.h.Drain(ctx)
	if _, err := h.Wait(ctx); err == nil {
		t.Fatal("Wait of a failed plain run returned no error")
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusFailed)
	got := receive(t, f.errs)
	if got.OrderID != "o-4" || got.AdditionalField1 != 7 || got.Failure == nil || got.Failure.Message == "" {
		t.Fatalf("error callback got %+v (failure %+v), want the original message and the run's error", got, got.Failure)
	}
	if n, m := f.calls.get("log-error"), f.calls.get("log-completion"); n != 1 || m != 0 {
		t.Fatalf("log-error ran %d times and log-completion %d, want 1 and 0", n, m)
	}
}

// A plain task as a swarm item ends its item with its output; the swarm completes.
func TestPlainTaskAsSwarmItem(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{}
	p.serve(f.h)
	ctx := context.Background()
	h, err := dsl.Swarm(label(), label().With(dsl.KW{"order_id": "o-6"})).Run(ctx, f.h.Client, LabelInput{OrderID: "o-5"})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	var rs []Receipt
	must(t, json.Unmarshal(out, &rs))
	if len(rs) != 2 || rs[0].OrderID != "o-5" || rs[1].OrderID != "o-6" || rs[0].Total != 1 {
		t.Fatalf("swarm results = %s, want both plain outputs in item order", out)
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
}

// A plain task's run cancelled on the engine while queued cancels its signature,
// with the message it was run with.
func TestPlainTaskCancelledInTheQueue(t *testing.T) {
	f := newFlow(t)
	(&plainLabels{}).serve(f.h)
	ctx := context.Background()
	h, err := label().OnError(dsl.Sign("log-error")).Run(ctx, f.h.Client, Order{OrderID: "o-7"})
	must(t, err)
	must(t, f.h.CancelRuns(ctx, []string{h.RunID()}))
	f.h.Drain(ctx)
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusCancelled)
	if got := receive(t, f.errs); got.OrderID != "o-7" || got.Failure == nil || !got.Failure.Cancelled {
		t.Fatalf("error callback got %+v, want the message and a cancelled failure", got)
	}
}

// receive returns the next value of ch, failing the test after 5 s.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		var zero T
		t.Fatalf("nothing received in 5 s")
		return zero
	}
}

// A plain task's signature whose run is in flight cannot be suspended (hatchetflow
// cannot hold a run it does not wrap): Suspend says so and changes nothing, alone or
// as a chain's running step; the run then settles it as usual.
func TestSuspendRefusesAPlainRunInFlight(t *testing.T) {
	f := newFlow(t)
	(&plainLabels{}).serve(f.h)
	ctx := context.Background()
	h, err := label().OnSuccess(dsl.Sign("log-completion")).Run(ctx, f.h.Client, LabelInput{OrderID: "o-8"})
	must(t, err)
	if err := f.h.Client.Suspend(ctx, h.SignatureID(), nil); !errors.Is(err, hatchetflow.ErrPlainRunInFlight) {
		t.Fatalf("Suspend of a plain signature in flight = %v, want ErrPlainRunInFlight", err)
	}
	ch, err := dsl.Chain(label(), dsl.Sign("log-completion")).Run(ctx, f.h.Client, LabelInput{OrderID: "o-9"})
	must(t, err)
	if err := f.h.Client.Suspend(ctx, ch.SignatureID(), nil); !errors.Is(err, hatchetflow.ErrPlainRunInFlight) {
		t.Fatalf("Suspend of a chain whose plain step is in flight = %v, want ErrPlainRunInFlight", err)
	}
	f.h.Drain(ctx)
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
	f.h.RequireStatus(t, ch.SignatureID(), hatchetflow.StatusDone)
	if n := f.calls.get("log-completion"); n != 2 {
		t.Fatalf("log-completion ran %d times, want 2", n)
	}
	// A saved plain signature that never ran suspends as any other.
	s, err := label().Save(ctx, f.h.Client)
	must(t, err)
	must(t, f.h.Client.Suspend(ctx, s.ID, nil))
}

// A plain task's swarm item whose run is in flight longer than a claim may stay
// unstarted is not dispatched again by the swarm watch: its run settles it.
func TestSwarmWatchLeavesPlainItemsInFlight(t *testing.T) {
	f := newFlow(t)
	p := &plainLabels{}
	p.serve(f.h)
	ctx := context.Background()
	h, err := dsl.Swarm(label()).Run(ctx, f.h.Client, LabelInput{OrderID: "o-10"})
	must(t, err)
	if !f.h.Step(ctx) { // the swarm's start run: claims and dispatches the item
		t.Fatal("no swarm start run queued")
	}
	// Age the claim past the stale limit, as a plain run that takes minutes would.
	rdb := redis.NewClient(&redis.Options{Addr: f.h.Redis.Addr()})
	defer rdb.Close()
	key := f.h.Client.Store().SwarmItemsKey(h.SignatureID())
	must(t, rdb.HSet(ctx, key, "s0", "c1").Err())
	if _, err := f.h.Client.ReconcileSwarm(ctx, h.SignatureID()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.h.Runs("print-label")); n != 1 {
		t.Fatalf("the swarm watch dispatched the plain item %d times, want once", n)
	}
	out, err := h.Wait(ctx)
	must(t, err)
	if len(p.calls()) != 1 {
		t.Fatalf("plain item ran %d times, want 1 (swarm result %s)", len(p.calls()), out)
	}
}
