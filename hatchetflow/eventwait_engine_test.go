package hatchetflow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// engineWaits records what the tasks of the event-wait engine tests received, and when.
type engineWaits struct {
	mu      sync.Mutex
	shipped map[string][]ShipIn
	started map[string]time.Time
	done    map[string]int
	failed  map[string][]ShipFailed
	failAt  map[string]time.Time
}

func newEngineWaits(t *testing.T, opts ...hatchetflow.Option) (*hatchetflow.Client, *engineWaits, context.Context) {
	t.Helper()
	_, c, _, _ := newSwarmClient(t, "hfwait-", &swarmFlow{}, opts...)
	f := &engineWaits{shipped: map[string][]ShipIn{}, started: map[string]time.Time{}, done: map[string]int{},
		failed: map[string][]ShipFailed{}, failAt: map[string]time.Time{}}
	_, err := hatchetflow.NewTask(c, "hf-ship", func(_ hatchet.Context, in ShipIn) (string, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.started[in.OrderID]; !ok {
			f.started[in.OrderID] = time.Now()
		}
		f.shipped[in.OrderID] = append(f.shipped[in.OrderID], in)
		return "shipped " + in.OrderID, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-ship-done", func(_ hatchet.Context, in ShipDone) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.done[in.Result.Value]++
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-ship-failed", func(_ hatchet.Context, in ShipFailed) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.failAt[in.OrderID]; !ok {
			f.failAt[in.OrderID] = time.Now()
		}
		f.failed[in.OrderID] = append(f.failed[in.OrderID], in)
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "wait-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })
	return c, f, ctx
}

// ShipDone is the success callback's input in the engine tests.
type ShipDone struct {
	Result inject.ReturnValue[string] `json:"mageflow_results"`
}

func engineShipSig(ord string, timeout time.Duration) dsl.Builder {
	return dsl.Sign("hf-ship").With(dsl.KW{"carrier": "dhl"}).
		After(dsl.Event("hf-order-approved", ord).Timeout(timeout)).
		OnSuccess(dsl.Sign("hf-ship-done")).
		OnError(dsl.Sign("hf-ship-failed"))
}

// A signature waiting for an event on the engine: its task does not run until the
// signal, which Client.Signal pushes as a Hatchet event (name, scope = key); the
// payload reaches the task, the success callback runs once. One wait is signalled
// once the wait run is waiting (signal → task start measured), one right after Run,
// before its wait registered (the engine's event lookback since the wait began), and a
// signal of another key releases nothing.
func TestEngineEventWaitReleasedBySignal(t *testing.T) {
	c, f, ctx := newEngineWaits(t)

	h1, err := engineShipSig("w-1", time.Minute).Run(ctx, c, ShipIn{OrderID: "w-1"})
	must(t, err)
	waitRun := h1.(*hatchetflow.Handle).WaitRunID()
	if h1.RunID() != "" || waitRun == "" {
		t.Fatalf("handle: run %q, wait run %q", h1.RunID(), waitRun)
	}
	waitFor(ctx, t, "the wait run to record itself", func() bool {
		sig, err := c.Signature(ctx, h1.SignatureID())
		return err == nil && sig.Wait != nil && sig.Wait.RunID == waitRun
	})
	time.Sleep(time.Second) // its durable wait registers with the engine
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "w-other"), Approval{By: "nobody"}))
	sig, err := c.Signature(ctx, h1.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusPending {
		t.Fatalf("waiting signature: %s", sig.Status)
	}
	signalled := time.Now()
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "w-1"), Approval{By: "ann", Note: "ok"}))
	out, err := hatchetflow.WaitResult[string](ctx, h1)
	must(t, err)
	if out != "shipped w-1" {
		t.Fatalf("result %q", out)
	}
	f.mu.Lock()
	latency := f.started["w-1"].Sub(signalled)
	f.mu.Unlock()
	t.Logf("Signal → task start: %v", latency.Round(time.Millisecond))

	// Signalled at once: the wait has not registered yet; the engine's lookback finds it.
	h2, err := engineShipSig("w-2", time.Minute).Run(ctx, c, ShipIn{OrderID: "w-2"})
	must(t, err)
	signalled2 := time.Now()
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "w-2"), map[string]any{"by": "bob"}))
	_, err = h2.Wait(ctx)
	must(t, err)
	f.mu.Lock()
	t.Logf("Run, then Signal at once → task start: %v", f.started["w-2"].Sub(signalled2).Round(time.Millisecond))
	f.mu.Unlock()

	waitFor(ctx, t, "the success callbacks", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.done["shipped w-1"] > 0 && f.done["shipped w-2"] > 0
	})
	time.Sleep(2 * time.Second) // a duplicate would have run by now
	f.mu.Lock()
	defer f.mu.Unlock()
	for ord, by := range map[string]string{"w-1": "ann", "w-2": "bob"} {
		got := f.shipped[ord]
		if len(got) != 1 || got[0].Approval.Value == nil || got[0].Approval.Value.By != by || got[0].Carrier != "dhl" {
			t.Errorf("%s: the task ran %d times with %+v, want once with the approval of %s", ord, len(got), got, by)
		}
		if n := f.done["shipped "+ord]; n != 1 {
			t.Errorf("%s: success callback ran %d times, want 1", ord, n)
		}
		if len(f.failed[ord]) != 0 {
			t.Errorf("%s: error callback ran: %+v", ord, f.failed[ord])
		}
	}
}

// A wait that no signal releases ends at its timeout (2 s): the error callback runs
// once with the original message and a TaskError naming the event, the task never
// runs, and Wait on the handle fails.
func TestEngineEventWaitTimesOut(t *testing.T) {
	c, f, ctx := newEngineWaits(t)
	const timeout = 2 * time.Second
	start := time.Now()
	h, err := engineShipSig("t-1", timeout).Run(ctx, c, ShipIn{OrderID: "t-1"})
	must(t, err)
	_, err = h.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.Is(err, hatchetflow.ErrRunFailed) || !errors.As(err, &re) || re.RunID != "" {
		t.Fatalf("Wait: %v, want a failed run with no run id", err)
	}
	sig, err := c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusFailed {
		t.Fatalf("status %s", sig.Status)
	}
	waitFor(ctx, t, "the error callback", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.failed["t-1"]) > 0 })
	f.mu.Lock()
	failedAt := f.failAt["t-1"]
	f.mu.Unlock()
	node, err := c.Tree(ctx, h.SignatureID())
	must(t, err)
	if node.EndedAt == nil {
		t.Fatalf("the failed signature has no end time: %+v", node)
	}
	t.Logf("timeout %v: Run → signature failed %v; → error callback running %v",
		timeout, node.EndedAt.Sub(start).Round(time.Millisecond), failedAt.Sub(start).Round(time.Millisecond))
	if failedAt.Sub(start) < timeout {
		t.Errorf("the error callback ran %v after Run, before the %v timeout", failedAt.Sub(start), timeout)
	}
	time.Sleep(2 * time.Second) // a duplicate, or a late release, would have run by now
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "t-1"), Approval{By: "late"}))
	time.Sleep(2 * time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.failed["t-1"]
	if len(got) != 1 || got[0].OrderID != "t-1" || got[0].Carrier != "dhl" || got[0].Failure == nil ||
		got[0].Failure.Message != `timed out after 2s waiting for event "hf-order-approved" (key "t-1")` {
		t.Fatalf("error callback ran %d times: %+v", len(got), got)
	}
	if len(f.shipped["t-1"]) != 0 || len(f.done) != 0 {
		t.Fatalf("the task ran %d times, success callbacks %v", len(f.shipped["t-1"]), f.done)
	}
}

// Waits that outlast the wait task's eviction TTL (1 s here) leave their worker and are
// restored, their step replayed, when the event or the timeout comes: the released
// task runs once, with the payload, and its success callback once; the timed-out one
// fails once.
func TestEngineEventWaitEvicted(t *testing.T) {
	defer hatchetflow.SetWaitEviction(time.Second)()
	c, f, ctx := newEngineWaits(t)
	h1, err := engineShipSig("e-1", time.Minute).Run(ctx, c, ShipIn{OrderID: "e-1"})
	must(t, err)
	h2, err := engineShipSig("e-2", 4*time.Second).Run(ctx, c, ShipIn{OrderID: "e-2"})
	must(t, err)
	time.Sleep(3 * time.Second) // both evicted by now
	signalled := time.Now()
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "e-1"), Approval{By: "eve"}))
	_, err = h1.Wait(ctx)
	must(t, err)
	f.mu.Lock()
	t.Logf("evicted wait: Signal → task start %v", f.started["e-1"].Sub(signalled).Round(time.Millisecond))
	f.mu.Unlock()
	if _, err := h2.Wait(ctx); !errors.Is(err, hatchetflow.ErrRunFailed) {
		t.Fatalf("the evicted wait that times out: %v", err)
	}
	waitFor(ctx, t, "the callbacks", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.done["shipped e-1"] > 0 && len(f.failed["e-2"]) > 0
	})
	time.Sleep(2 * time.Second) // a duplicate would have run by now
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.shipped["e-1"]; len(got) != 1 || got[0].Approval.Value == nil || got[0].Approval.Value.By != "eve" {
		t.Errorf("e-1: the task ran %d times: %+v", len(got), got)
	}
	if f.done["shipped e-1"] != 1 || len(f.failed["e-1"]) != 0 {
		t.Errorf("e-1: success callback %d, error callback %d; want 1, 0", f.done["shipped e-1"], len(f.failed["e-1"]))
	}
	if len(f.shipped["e-2"]) != 0 || len(f.failed["e-2"]) != 1 {
		t.Errorf("e-2: the task ran %d times, error callback %d; want 0, 1", len(f.shipped["e-2"]), len(f.failed["e-2"]))
	}
}

// Cancel while a signature waits cancels the run that waits on the engine, and the
// signature: its error callback runs once (cancelled), and a later signal runs nothing.
func TestEngineEventWaitCancelled(t *testing.T) {
	c, f, ctx := newEngineWaits(t)
	h, err := engineShipSig("c-1", time.Minute).Run(ctx, c, ShipIn{OrderID: "c-1"})
	must(t, err)
	waitRun := h.(*hatchetflow.Handle).WaitRunID()
	waitFor(ctx, t, "the wait run to record itself", func() bool {
		sig, err := c.Signature(ctx, h.SignatureID())
		return err == nil && sig.Wait != nil && sig.Wait.RunID == waitRun
	})
	must(t, c.Cancel(ctx, h.SignatureID(), &hatchetflow.CancelOptions{Reason: "withdrawn"}))
	waitFor(ctx, t, "the wait run to be cancelled", func() bool {
		det, err := c.Hatchet().Runs().GetDetails(ctx, uuid.MustParse(waitRun))
		return err == nil && det.Status == rest.V1TaskStatusCANCELLED
	})
	must(t, c.Signal(ctx, dsl.Event("hf-order-approved", "c-1"), Approval{By: "late"}))
	waitFor(ctx, t, "the error callback", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.failed["c-1"]) > 0 })
	time.Sleep(2 * time.Second) // a duplicate, or a release, would have run by now
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.failed["c-1"]
	if len(got) != 1 || got[0].Failure == nil || !got[0].Failure.Cancelled || got[0].Failure.Message != "withdrawn" ||
		len(f.shipped["c-1"]) != 0 {
		t.Fatalf("error callback ran %d times (%+v), the task %d times", len(got), got, len(f.shipped["c-1"]))
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait: %v", err)
	}
}
