package hatchetflow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// Approval is the payload an approver signals.
type Approval struct {
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
}

// ShipIn is the input of the task that waits for an approval: the approval arrives in
// the field typed inject.Signal.
type ShipIn struct {
	OrderID  string                   `json:"order_id"`
	Carrier  string                   `json:"carrier,omitempty"`
	Approval inject.Signal[*Approval] `json:"approval"`
}

// ShipFailed is the error callback's input: the original message and the details.
type ShipFailed struct {
	OrderID string            `json:"order_id"`
	Carrier string            `json:"carrier,omitempty"`
	Failure *inject.TaskError `json:"failure"`
}

// waitFlow registers the tasks the wait tests sign and records what they received.
type waitFlow struct {
	mu      sync.Mutex
	shipped []ShipIn
	done    []string
	failed  []ShipFailed
	plain   []map[string]any
}

func (f *waitFlow) register(t *testing.T, c *hatchetflow.Client) {
	t.Helper()
	_, err := hatchetflow.NewTask(c, "ship", func(_ hatchet.Context, in ShipIn) (string, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.shipped = append(f.shipped, in)
		return "shipped " + in.OrderID, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "ship-done", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.done = append(f.done, in["mageflow_results"].(string))
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "ship-failed", func(_ hatchet.Context, in ShipFailed) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.failed = append(f.failed, in)
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "plain-wait", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.plain = append(f.plain, in)
		return in, nil
	})
	must(t, err)
}

func (f *waitFlow) counts() (shipped, done, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.shipped), len(f.done), len(f.failed)
}

func newWaitHarness(t *testing.T) (*flowtest.Harness, *waitFlow) {
	t.Helper()
	h := flowtest.New(t)
	f := &waitFlow{}
	f.register(t, h.Client)
	return h, f
}

// shipSig is the signature the tests run: ship order ord waits for its approval.
func shipSig(ord string) dsl.Builder {
	return dsl.Sign("ship").With(dsl.KW{"carrier": "dhl"}).
		After(dsl.Event("order-approved", ord).Timeout(30 * time.Minute)).
		OnSuccess(dsl.Sign("ship-done")).
		OnError(dsl.Sign("ship-failed"))
}

// A signature that waits for an event stays pending, its task not run, until the event
// is signalled for its key; the payload then reaches the task in its signal field, and
// the success callback runs once.
func TestWaitReleasedBySignal(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := shipSig("ord-1").Run(ctx, h.Client, ShipIn{OrderID: "ord-1"})
	must(t, err)
	if handle.RunID() != "" || handle.(*hatchetflow.Handle).WaitRunID() == "" {
		t.Fatalf("RunID %q, WaitRunID %q: want no task run yet, a wait run", handle.RunID(), handle.(*hatchetflow.Handle).WaitRunID())
	}
	h.Drain(ctx)
	if n, _, _ := f.counts(); n != 0 {
		t.Fatalf("the task ran %d times before the signal", n)
	}
	sig, err := h.Client.Signature(ctx, handle.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusPending || sig.Wait == nil || sig.Wait.Event != "order-approved" ||
		sig.Wait.Key != "ord-1" || sig.Wait.Timeout != 30*time.Minute || sig.Wait.RunID != handle.(*hatchetflow.Handle).WaitRunID() {
		t.Fatalf("waiting signature: status %s, wait %+v", sig.Status, sig.Wait)
	}
	if runs := h.Runs(hatchetflow.WaitTask); len(runs) != 1 || runs[0].Status != flowtest.StatusWaiting {
		t.Fatalf("wait runs: %+v", runs)
	}
	// A signal of another key, or of another event, releases nothing.
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-2"), Approval{By: "bob"}))
	must(t, h.Client.Signal(ctx, dsl.Event("order-rejected", "ord-1"), nil))
	h.Drain(ctx)
	if n, _, _ := f.counts(); n != 0 {
		t.Fatalf("the task ran %d times after signals for other waits", n)
	}

	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-1"), Approval{By: "ann", Note: "ok"}))
	out, err := hatchetflow.WaitResult[string](ctx, handle)
	must(t, err)
	h.Drain(ctx)
	if out != "shipped ord-1" {
		t.Fatalf("result %q", out)
	}
	shipped, done, failed := f.counts()
	if shipped != 1 || done != 1 || failed != 0 {
		t.Fatalf("task ran %d times, success callback %d, error callback %d; want 1, 1, 0", shipped, done, failed)
	}
	got := f.shipped[0]
	if got.OrderID != "ord-1" || got.Carrier != "dhl" || got.Approval.Value == nil || *got.Approval.Value != (Approval{By: "ann", Note: "ok"}) {
		t.Fatalf("the task received %+v (approval %+v)", got, got.Approval.Value)
	}
	run := h.RequireReceived(t, "ship", nil)
	if run.Meta["hatchetflow_signature"] != handle.SignatureID() {
		t.Fatalf("the task's run carries metadata %v", run.Meta)
	}
	sig, err = h.Client.Signature(ctx, handle.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusDone || sig.RunID != run.ID {
		t.Fatalf("released signature: status %s, run %s (task run %s)", sig.Status, sig.RunID, run.ID)
	}
	// A second signal changes nothing.
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-1"), Approval{By: "ann"}))
	h.Drain(ctx)
	if shipped, done, _ := f.counts(); shipped != 1 || done != 1 {
		t.Fatalf("after a second signal: task %d, callback %d", shipped, done)
	}
}

// A signal pushed after the run but before the wait ran releases it; one pushed
// before the run does not (it was for an earlier wait).
func TestWaitSignalBeforeTheWaitRuns(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-3"), Approval{By: "early"}))
	_, err := shipSig("ord-3").Run(ctx, h.Client, ShipIn{OrderID: "ord-3"})
	must(t, err)
	h.Drain(ctx)
	if n, _, _ := f.counts(); n != 0 {
		t.Fatalf("a signal pushed before the run released it")
	}
	h2, f2 := newWaitHarness(t)
	handle, err := shipSig("ord-4").Run(ctx, h2.Client, ShipIn{OrderID: "ord-4"})
	must(t, err)
	must(t, h2.Client.Signal(ctx, dsl.Event("order-approved", "ord-4"), Approval{By: "quick"}))
	if _, err := handle.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	h2.Drain(ctx)
	if shipped, done, _ := f2.counts(); shipped != 1 || done != 1 || f2.shipped[0].Approval.Value.By != "quick" {
		t.Fatalf("task %d (%+v), callback %d", shipped, f2.shipped, done)
	}
}

// With no signal, the wait ends at its timeout (on the harness clock): the signature
// fails through its error path, the error callback runs once with the original
// message and a TaskError naming the event, and the task never runs.
func TestWaitTimesOut(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := shipSig("ord-5").Run(ctx, h.Client, ShipIn{OrderID: "ord-5"})
	must(t, err)
	h.Drain(ctx)
	// Waiting on the handle cannot end without a signal or the clock.
	if _, err := handle.Wait(ctx); err == nil || !strings.Contains(err.Error(), "waits for event") {
		t.Fatalf("Wait on a waiting signature: %v, want it to say the run waits for an event", err)
	}
	h.FastForward(29 * time.Minute)
	h.Drain(ctx)
	if _, _, failed := f.counts(); failed != 0 {
		t.Fatalf("timed out before its timeout")
	}
	h.FastForward(time.Minute)
	_, err = handle.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.Is(err, hatchetflow.ErrRunFailed) || !errors.As(err, &re) || re.RunID != "" ||
		!strings.Contains(re.Message, `waiting for event "order-approved" (key "ord-5")`) {
		t.Fatalf("Wait after the timeout: %v", err)
	}
	h.Drain(ctx)
	shipped, done, failed := f.counts()
	if shipped != 0 || done != 0 || failed != 1 {
		t.Fatalf("task ran %d times, success callback %d, error callback %d; want 0, 0, 1", shipped, done, failed)
	}
	got := f.failed[0]
	if got.OrderID != "ord-5" || got.Carrier != "dhl" || got.Failure == nil || got.Failure.Task != "ship" ||
		got.Failure.SignatureID != handle.SignatureID() || got.Failure.RunID != "" ||
		got.Failure.Message != `timed out after 30m0s waiting for event "order-approved" (key "ord-5")` {
		t.Fatalf("error callback received %+v (failure %+v)", got, got.Failure)
	}
	h.RequireStatus(t, handle.SignatureID(), hatchetflow.StatusFailed)
	// A signal after the timeout changes nothing.
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-5"), Approval{By: "late"}))
	h.Drain(ctx)
	if shipped, _, failed := f.counts(); shipped != 0 || failed != 1 {
		t.Fatalf("after a late signal: task %d, error callback %d", shipped, failed)
	}
}

// A task whose input marks no signal field gets the payload under "signal"; the
// default timeout is an hour.
func TestWaitDefaultSignalField(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := dsl.Sign("plain-wait").After(dsl.Event("go", "k1")).Run(ctx, h.Client, map[string]any{"a": 1})
	must(t, err)
	sig, err := h.Client.Signature(ctx, handle.SignatureID())
	must(t, err)
	if sig.Wait == nil || sig.Wait.Timeout != dsl.DefaultEventTimeout {
		t.Fatalf("wait %+v, want the default timeout", sig.Wait)
	}
	must(t, h.Client.Signal(ctx, dsl.Event("go", "k1"), map[string]any{"x": "y"}))
	_, err = handle.Wait(ctx)
	must(t, err)
	if len(f.plain) != 1 || f.plain[0]["a"] != float64(1) || f.plain[0]["signal"].(map[string]any)["x"] != "y" {
		t.Fatalf("received %v", f.plain)
	}
}

// Cancel while the signature waits cancels the wait's run and the signature: the
// error callback runs once (cancelled), and a later signal runs nothing.
func TestWaitCancelled(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := shipSig("ord-6").Run(ctx, h.Client, ShipIn{OrderID: "ord-6"})
	must(t, err)
	h.Drain(ctx)
	must(t, h.Client.Cancel(ctx, handle.SignatureID(), &hatchetflow.CancelOptions{Reason: "order withdrawn"}))
	h.Drain(ctx)
	if runs := h.Runs(hatchetflow.WaitTask); len(runs) != 1 || runs[0].Status != flowtest.StatusCancelled {
		t.Fatalf("wait runs after Cancel: %+v", runs)
	}
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-6"), Approval{By: "ann"}))
	h.FastForward(time.Hour)
	h.Drain(ctx)
	shipped, done, failed := f.counts()
	if shipped != 0 || done != 0 || failed != 1 || f.failed[0].Failure == nil || !f.failed[0].Failure.Cancelled ||
		f.failed[0].OrderID != "ord-6" || f.failed[0].Failure.Message != "order withdrawn" {
		t.Fatalf("task %d, success %d, error %d (%+v)", shipped, done, failed, f.failed)
	}
	if _, err := handle.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait after Cancel: %v", err)
	}
	h.RequireStatus(t, handle.SignatureID(), hatchetflow.StatusCancelled)
}

// A wait run cancelled on the engine's side (the dashboard) cancels its signature,
// with its error callbacks once.
func TestWaitRunCancelledOnTheEngine(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := shipSig("ord-7").Run(ctx, h.Client, ShipIn{OrderID: "ord-7"})
	must(t, err)
	h.Drain(ctx)
	must(t, h.CancelRuns(ctx, []string{handle.(*hatchetflow.Handle).WaitRunID()}))
	h.Drain(ctx)
	if _, _, failed := f.counts(); failed != 1 || !f.failed[0].Failure.Cancelled {
		t.Fatalf("error callbacks %d (%+v)", failed, f.failed)
	}
	h.RequireStatus(t, handle.SignatureID(), hatchetflow.StatusCancelled)
}

// A chain's After makes its first step wait; a callback (here a later step's
// successor) can wait too: it waits from when it is dispatched.
func TestWaitInChainsAndCallbacks(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	chain := dsl.Chain(dsl.Sign("plain-wait"), dsl.Sign("plain-wait").With(dsl.KW{"second": true})).
		After(dsl.Event("chain-go", "c1")).OnSuccess(dsl.Sign("plain-wait").With(dsl.KW{"cb": true}).After(dsl.Event("cb-go", "c1")))
	handle, err := chain.Run(ctx, h.Client, map[string]any{"in": "x"})
	must(t, err)
	h.Drain(ctx)
	if len(f.plain) != 0 {
		t.Fatalf("the chain started before its event: %v", f.plain)
	}
	must(t, h.Client.Signal(ctx, dsl.Event("chain-go", "c1"), map[string]any{"go": 1}))
	if _, err := handle.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	if len(f.plain) != 2 || f.plain[0]["signal"] == nil || f.plain[1]["second"] != true {
		t.Fatalf("steps received %v", f.plain)
	}
	st, err := h.Client.Chain(ctx, handle.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusDone {
		t.Fatalf("chain %s", st.Status)
	}
	// The chain's success callback waits for its own event.
	must(t, h.Client.Signal(ctx, dsl.Event("cb-go", "c1"), map[string]any{"cb": "now"}))
	h.Drain(ctx)
	if len(f.plain) != 3 || f.plain[2]["cb"] != true || f.plain[2]["signal"].(map[string]any)["cb"] != "now" ||
		f.plain[2]["mageflow_results"] == nil {
		t.Fatalf("callback received %v", f.plain)
	}
}

// A waiting signature that is suspended goes on waiting; the run its signal releases
// is held, and Resume runs it once.
func TestWaitSuspended(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := shipSig("ord-8").Run(ctx, h.Client, ShipIn{OrderID: "ord-8"})
	must(t, err)
	h.Drain(ctx)
	must(t, h.Client.Suspend(ctx, handle.SignatureID(), nil))
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-8"), Approval{By: "ann"}))
	h.ExpectFailure("ship") // the released run is held: it fails with a SuspendedError
	h.Drain(ctx)
	if shipped, _, _ := f.counts(); shipped != 0 {
		t.Fatalf("the task ran while suspended")
	}
	must(t, h.Client.Resume(ctx, handle.SignatureID()))
	h.Drain(ctx)
	if shipped, done, _ := f.counts(); shipped != 1 || done != 1 || f.shipped[0].Approval.Value.By != "ann" {
		t.Fatalf("after Resume: task %d (%+v), callback %d", shipped, f.shipped, done)
	}
}

// Waits that cannot work are refused before anything is written.
func TestWaitRefusals(t *testing.T) {
	h, _ := newWaitHarness(t)
	ctx := context.Background()
	ev := dsl.Event("order-approved", "ord-9")
	saved, err := dsl.Sign("plain-wait").Save(ctx, h.Client)
	must(t, err)
	for name, tc := range map[string]struct {
		spec dsl.Spec
		opts *hatchetflow.RunOptions
		want error
	}{
		"empty key":               {spec: dsl.Sign("ship").After(dsl.Event("order-approved", "")), want: dsl.ErrInvalidEvent},
		"empty name":              {spec: dsl.Sign("ship").After(dsl.Event("", "k")), want: dsl.ErrInvalidEvent},
		"control character":       {spec: dsl.Sign("ship").After(dsl.Event("a", "k\n")), want: dsl.ErrInvalidEvent},
		"zero timeout":            {spec: dsl.Sign("ship").After(ev.Timeout(0)), want: dsl.ErrInvalidEvent},
		"timeout past half TTL":   {spec: dsl.Sign("ship").After(ev.Timeout(12 * time.Hour)), want: hatchetflow.ErrUnsupportedOption},
		"bad callback wait":       {spec: dsl.Sign("ship").OnError(dsl.Sign("ship-failed").After(dsl.Event("x", ""))), want: dsl.ErrInvalidEvent},
		"bad chain wait":          {spec: dsl.Chain(dsl.Sign("ship"), dsl.Sign("ship")).After(dsl.Event("", "k")), want: dsl.ErrInvalidEvent},
		"swarm item":              {spec: dsl.Swarm(dsl.Sign("ship").After(ev)), want: hatchetflow.ErrWaitPosition},
		"chain item of a swarm":   {spec: dsl.Swarm(dsl.Chain(dsl.Sign("ship"), dsl.Sign("ship")).After(ev)), want: hatchetflow.ErrWaitPosition},
		"chain and step wait":     {spec: dsl.Chain(dsl.Sign("ship").After(ev), dsl.Sign("ship")).After(ev), want: hatchetflow.ErrWaitPosition},
		"chain starting a swarm":  {spec: dsl.Chain(dsl.Swarm(dsl.Sign("ship")), dsl.Sign("ship")).After(ev), want: hatchetflow.ErrWaitPosition},
		"chain starting a saved":  {spec: dsl.Chain(saved, dsl.Sign("ship")).After(ev), want: hatchetflow.ErrWaitPosition},
		"priority on a wait":      {spec: dsl.Sign("ship").After(ev), opts: &hatchetflow.RunOptions{Priority: 2}, want: hatchetflow.ErrUnsupportedOption},
		"worker labels on a wait": {spec: dsl.Sign("ship").After(ev), opts: &hatchetflow.RunOptions{Sticky: true}, want: hatchetflow.ErrUnsupportedOption},
	} {
		before, err := h.Client.List(ctx, nil)
		must(t, err)
		_, err = h.Client.RunWithOptions(ctx, tc.spec, ShipIn{OrderID: "ord-9"}, tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		after, err := h.Client.List(ctx, nil)
		must(t, err)
		if len(after.Entries) != len(before.Entries) {
			t.Errorf("%s: refused, yet %d records were written", name, len(after.Entries)-len(before.Entries))
		}
	}
	var pe *hatchetflow.WaitPositionError
	if _, err := dsl.Swarm(dsl.Sign("ship").After(ev)).Save(ctx, h.Client); !errors.As(err, &pe) || pe.Task != "ship" {
		t.Errorf("swarm item: %v", err)
	}
	if err := h.Client.Signal(ctx, dsl.Event("order-approved", ""), nil); !errors.Is(err, dsl.ErrInvalidEvent) {
		t.Errorf("Signal with an empty key: %v", err)
	}
	if err := h.Client.Signal(ctx, ev, []int{1}); !errors.Is(err, hatchetflow.ErrNotObject) {
		t.Errorf("Signal with a list: %v", err)
	}
	if len(h.Runs("")) != 0 {
		t.Errorf("refusals dispatched runs: %+v", h.Runs(""))
	}
}

// A standing signature cannot wait: its run is already running.
func TestWaitRefusedInStandingSignature(t *testing.T) {
	h := flowtest.New(t)
	_, err := hatchetflow.NewTask(h.Client, "standing-wait", func(_ hatchet.Context, in map[string]any) (any, error) { return nil, nil },
		hatchetflow.WithStandingSignature(dsl.Sign("standing-wait").After(dsl.Event("e", "k"))))
	if !errors.Is(err, hatchetflow.ErrStandingSignature) || !errors.Is(err, hatchetflow.ErrWaitPosition) {
		t.Fatalf("NewTask: %v", err)
	}
}

// Cancelling a chain whose first step waits cancels the wait: the chain's error
// callback runs once, and no step ever runs.
func TestWaitChainCancelled(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	chain := dsl.Chain(dsl.Sign("ship"), dsl.Sign("plain-wait")).After(dsl.Event("order-approved", "ord-10")).
		OnError(dsl.Sign("ship-failed"))
	handle, err := chain.Run(ctx, h.Client, ShipIn{OrderID: "ord-10"})
	must(t, err)
	h.Drain(ctx)
	must(t, h.Client.Cancel(ctx, handle.SignatureID(), nil))
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-10"), Approval{By: "ann"}))
	h.Drain(ctx)
	shipped, _, failed := f.counts()
	if shipped != 0 || len(f.plain) != 0 || failed != 1 || f.failed[0].OrderID != "ord-10" || !f.failed[0].Failure.Cancelled ||
		f.failed[0].Failure.ChainID != handle.SignatureID() {
		t.Fatalf("steps ran %d+%d times, error callbacks %d (%+v)", shipped, len(f.plain), failed, f.failed)
	}
	if runs := h.Runs(hatchetflow.WaitTask); len(runs) != 1 || runs[0].Status != flowtest.StatusCancelled {
		t.Fatalf("wait runs: %+v", runs)
	}
	h.RequireStatus(t, handle.SignatureID(), hatchetflow.StatusCancelled)
}

// A waiting signature deleted before its timeout: the wait's run finds nothing to
// fail (it fails with SignatureNotFoundError, as any run of a deleted signature), and
// no callback runs.
func TestWaitDeleted(t *testing.T) {
	h, f := newWaitHarness(t)
	h.ExpectFailure(hatchetflow.WaitTask)
	ctx := context.Background()
	handle, err := shipSig("ord-11").Run(ctx, h.Client, ShipIn{OrderID: "ord-11"})
	must(t, err)
	h.Drain(ctx)
	if _, err := h.Client.Delete(ctx, handle.SignatureID()); err != nil {
		t.Fatal(err)
	}
	h.FastForward(time.Hour)
	h.Drain(ctx)
	if shipped, done, failed := f.counts(); shipped+done+failed != 0 {
		t.Fatalf("after a delete: task %d, callbacks %d and %d", shipped, done, failed)
	}
	if runs := h.Runs(hatchetflow.WaitTask); len(runs) != 1 || runs[0].Status != flowtest.StatusFailed ||
		!strings.Contains(runs[0].Errors[0], "not found") {
		t.Fatalf("wait runs: %+v", runs)
	}
}

// A wait run with StartAfter begins when its schedule fires: a signal pushed before
// counts for nothing, one pushed after releases it, and its timeout runs from then.
func TestWaitScheduled(t *testing.T) {
	h, f := newWaitHarness(t)
	ctx := context.Background()
	handle, err := h.Client.RunWithOptions(ctx, shipSig("ord-12"), ShipIn{OrderID: "ord-12"},
		&hatchetflow.RunOptions{StartAfter: time.Hour, Metadata: map[string]string{"tenant": "acme"}})
	must(t, err)
	if handle.(*hatchetflow.Handle).ScheduleID() == "" || handle.RunID() != "" {
		t.Fatalf("schedule %q, run %q", handle.(*hatchetflow.Handle).ScheduleID(), handle.RunID())
	}
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-12"), Approval{By: "too-early"}))
	h.FastForward(time.Hour)
	h.Drain(ctx)
	if runs := h.Runs(hatchetflow.WaitTask); len(runs) != 1 || runs[0].Status != flowtest.StatusWaiting {
		t.Fatalf("wait runs after the schedule fired: %+v", runs)
	}
	must(t, h.Client.Signal(ctx, dsl.Event("order-approved", "ord-12"), Approval{By: "ann"}))
	if _, err := handle.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run := h.RequireReceived(t, "ship", nil)
	if shipped, _, _ := f.counts(); shipped != 1 || f.shipped[0].Approval.Value.By != "ann" || run.Meta["tenant"] != "acme" {
		t.Fatalf("task %d (%+v), metadata %v", shipped, f.shipped, run.Meta)
	}
}
