package hatchetflow_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

func TestCancelPendingSignatureNeverRunsUserCode(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures() // the refused run
	ctx := context.Background()
	c := f.h.Client
	s, err := sq(3).OnSuccess(dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed").With(dsl.KW{"n": 3})).Save(ctx, c)
	must(t, err)
	must(t, c.Cancel(ctx, s.ID, nil))
	f.h.RequireStatus(t, s.ID, hatchetflow.StatusCancelled)
	// A run of it later is refused before user code, at Run and on the engine.
	if _, err := s.Run(ctx, c, map[string]any{}); !errors.Is(err, hatchetflow.ErrNotPending) {
		t.Fatalf("Run of a cancelled signature: %v, want ErrNotPending", err)
	}
	if _, err := f.h.Dispatch(ctx, "sq", map[string]any{}, map[string]string{hatchetflow.MetaSignature: s.ID}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	squared, lists, failures := f.counts()
	if squared != 0 || lists != 0 || failures != 1 {
		t.Fatalf("user code %d, success callbacks %d, error callbacks %d; want 0, 0, 1", squared, lists, failures)
	}
	if fl := f.failures[0]; fl.Failure == nil || !fl.Failure.Cancelled || fl.Failure.SignatureID != s.ID || fl.N != 3 {
		t.Fatalf("error callback got %+v / %+v, want the cancellation marked", fl, fl.Failure)
	}
	// Cancelling again: it ended.
	var np *hatchetflow.NotPendingError
	if err := c.Cancel(ctx, s.ID, nil); !errors.As(err, &np) || np.Status != hatchetflow.StatusCancelled {
		t.Fatalf("second Cancel: %v", err)
	}
}

func TestCancelSilently(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	s, err := sq(3).OnError(dsl.Sign("swarm-failed")).Save(ctx, c)
	must(t, err)
	must(t, c.Cancel(ctx, s.ID, &hatchetflow.CancelOptions{Silent: true, Reason: "user asked"}))
	f.h.Drain(ctx)
	if _, _, failures := f.counts(); failures != 0 {
		t.Fatalf("a silent cancel fired %d error callbacks", failures)
	}
	sig, err := c.Signature(ctx, s.ID)
	must(t, err)
	if sig.Status != hatchetflow.StatusCancelled || sig.Error != "user asked" {
		t.Fatalf("signature %+v", sig)
	}
}

func TestCancelDoneSignatureIsRefused(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	h, err := sq(2).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	_, err = h.Wait(ctx)
	must(t, err)
	var np *hatchetflow.NotPendingError
	if err := f.h.Client.Cancel(ctx, h.SignatureID(), nil); !errors.As(err, &np) || np.Status != hatchetflow.StatusDone {
		t.Fatalf("Cancel of a done signature: %v, want *NotPendingError (done)", err)
	}
}

func TestCancelChainMidway(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	c := f.h.Client
	ch := dsl.Chain(sq(2), dsl.Sign("sq"), dsl.Sign("sq")).OnSuccess(dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed"))
	h, err := ch.Run(ctx, c, map[string]any{"n": 9})
	must(t, err)
	f.h.Step(ctx) // step 1 runs and dispatches step 2
	must(t, c.Cancel(ctx, h.SignatureID(), nil))
	f.h.Drain(ctx)
	squared, lists, failures := f.counts()
	if squared != 1 || lists != 0 || failures != 1 {
		t.Fatalf("steps run %d, success %d, error callbacks %d; want 1, 0, 1", squared, lists, failures)
	}
	if fl := f.failures[0].Failure; fl == nil || !fl.Cancelled || fl.ChainID != h.SignatureID() {
		t.Fatalf("chain error callback details %+v", fl)
	}
	st, err := c.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusCancelled || st.Current != 1 || st.Steps[2].Status != hatchetflow.StatusCancelled {
		t.Fatalf("chain state %+v", st)
	}
	if _, err := h.Wait(ctx); err == nil {
		t.Fatalf("Wait on a cancelled chain returned no error")
	}
}

func TestCancelSwarm(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	c := f.h.Client
	sw := dsl.Swarm(sq(1), sq(2), sq(3), sq(4), sq(5)).MaxConcurrency(2).
		OnSuccess(dsl.Sign("sum-list")).OnError(dsl.Sign("swarm-failed"))
	h, err := sw.Run(ctx, c, map[string]any{"n": 7})
	must(t, err)
	f.h.Step(ctx) // the swarm starts: items 0 and 1 are dispatched
	f.h.Step(ctx) // item 0 runs; item 2 is dispatched
	must(t, c.Cancel(ctx, h.SignatureID(), nil))
	f.h.Drain(ctx)
	squared, lists, failures := f.counts()
	if squared != 1 || lists != 0 || failures != 1 {
		t.Fatalf("items run %d, success %d, error callbacks %d; want 1, 0, 1 (queued and dispatched items never run)", squared, lists, failures)
	}
	if fl := f.failures[0]; fl.N != 7 || fl.Failure == nil || !fl.Failure.Cancelled || fl.Failure.SignatureID != h.SignatureID() {
		t.Fatalf("swarm error callback %+v / %+v", fl, fl.Failure)
	}
	st, err := c.Swarm(ctx, h.SignatureID())
	must(t, err)
	// Every item that had not ended ends failed, with the cancellation as its error.
	if st.Status != hatchetflow.StatusCancelled || st.Done != 1 || st.Failed != 4 || st.Queued != 0 || st.Items[4].Error != "cancelled" {
		t.Fatalf("swarm after cancel: %s done %d failed %d queued %d (%+v); want cancelled 1 4 0", st.Status, st.Done, st.Failed, st.Queued, st.Items[4])
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	if _, err := c.AddItems(ctx, h.SignatureID(), hatchetflow.SwarmItem{Spec: sq(9)}); !errors.Is(err, hatchetflow.ErrNotPending) {
		t.Fatalf("AddItems to a cancelled swarm: %v, want ErrNotPending", err)
	}
}

func TestDeleteRemovesTheWholeTree(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	c := f.h.Client
	before := len(f.h.Redis.Keys())
	sw := dsl.Swarm(sq(1).OnSuccess(dsl.Sign("sq")), dsl.Chain(sq(2), dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed"))).
		OnSuccess(dsl.Sign("sum-list").OnSuccess(dsl.Sign("sq"))).OnError(dsl.Sign("swarm-failed"))
	saved, err := sw.Save(ctx, c)
	must(t, err)
	n, err := c.Delete(ctx, saved.ID)
	must(t, err)
	// swarm + item 1 + its callback + chain + 2 steps + chain error callback + 2 callbacks + nested callback
	if n != 10 {
		t.Errorf("Delete removed %d records, want 10", n)
	}
	if after := len(f.h.Redis.Keys()); after != before {
		t.Fatalf("keys before %d, after %d: %v", before, after, f.h.Redis.Keys())
	}
	// A run of the deleted swarm calls no user code.
	if _, err := f.h.Dispatch(ctx, hatchetflow.SwarmTask, map[string]any{}, map[string]string{hatchetflow.MetaSignature: saved.ID}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	if s, l, fl := f.counts(); s+l+fl != 0 {
		t.Fatalf("user code ran after Delete: %d %d %d", s, l, fl)
	}
	if _, err := c.Delete(ctx, saved.ID); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestSuspendPendingThenResume(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures() // the held run fails without user code
	ctx := context.Background()
	c := f.h.Client
	s, err := sq(4).OnSuccess(dsl.Sign("sq")).Save(ctx, c)
	must(t, err)
	must(t, c.Suspend(ctx, s.ID, nil))
	must(t, c.Suspend(ctx, s.ID, nil)) // again: nothing changes
	f.h.RequireStatus(t, s.ID, hatchetflow.StatusSuspended)
	// Run is refused before dispatching (it is not pending); a run from elsewhere is held.
	if _, err := s.Run(ctx, c, map[string]any{}); !errors.Is(err, hatchetflow.ErrNotPending) {
		t.Fatalf("Run of a suspended signature: %v", err)
	}
	if _, err := f.h.Dispatch(ctx, "sq", map[string]any{"tag": "held"}, map[string]string{hatchetflow.MetaSignature: s.ID}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	if n, _, _ := f.counts(); n != 0 {
		t.Fatalf("user code ran %d times while suspended", n)
	}
	must(t, c.Resume(ctx, s.ID))
	f.h.Drain(ctx)
	// The held run went out once, with its message; its callback ran once.
	if got := len(f.squared); got != 2 || f.tags[4] != "held" {
		t.Fatalf("after Resume: %v calls (tags %v), want sq(4) then its callback sq(16)", f.squared, f.tags)
	}
	f.h.RequireStatus(t, s.ID, hatchetflow.StatusDone)
	var np *hatchetflow.NotPendingError
	if err := c.Resume(ctx, s.ID); !errors.As(err, &np) {
		t.Fatalf("Resume of a done signature: %v", err)
	}
}

func TestSuspendChainThenResume(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	c := f.h.Client
	h, err := dsl.Chain(sq(2), dsl.Sign("sq"), dsl.Sign("sq")).Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Step(ctx) // step 1 ran and dispatched step 2
	must(t, c.Suspend(ctx, h.SignatureID(), nil))
	f.h.Drain(ctx)
	st, err := c.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusSuspended || len(f.squared) != 1 {
		t.Fatalf("suspended chain: %s after %v, want suspended after one step", st.Status, f.squared)
	}
	must(t, c.Resume(ctx, h.SignatureID()))
	// Wait follows the held run of step 2, then the one Resume dispatched.
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "256" {
		t.Fatalf("Wait on the resumed chain: %s", out)
	}
	st, err = c.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusDone || string(st.Result) != "256" || fmt.Sprint(f.squared) != "[2 4 16]" {
		t.Fatalf("resumed chain: %s result %s after %v, want done 256 after [2 4 16]", st.Status, st.Result, f.squared)
	}
}

func TestSuspendSwarmThenResume(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	h, err := dsl.Swarm(sq(1), sq(2), sq(3), sq(4)).MaxConcurrency(1).Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Step(ctx) // the swarm starts: item 0 dispatched
	must(t, c.Suspend(ctx, h.SignatureID(), nil))
	f.h.Drain(ctx) // item 0 ends; nothing new starts
	if len(f.squared) != 1 {
		t.Fatalf("items run while suspended: %v", f.squared)
	}
	st, err := c.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusSuspended || st.Done != 1 || st.Queued != 3 {
		t.Fatalf("suspended swarm %+v", st)
	}
	must(t, c.Resume(ctx, h.SignatureID()))
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,4,9,16]" {
		t.Fatalf("resumed swarm result %s", out)
	}
}

func TestSuspendCancelRunningOptions(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	sw, err := dsl.Swarm(sq(1)).Save(ctx, c)
	must(t, err)
	if err := c.Suspend(ctx, sw.ID, &hatchetflow.SuspendOptions{CancelRunning: true}); !errors.Is(err, hatchetflow.ErrUnsupportedOption) {
		t.Fatalf("CancelRunning on a swarm: %v, want ErrUnsupportedOption", err)
	}
	// On a pending signature there is no running attempt: it is suspended as usual.
	s, err := sq(2).Save(ctx, c)
	must(t, err)
	must(t, c.Suspend(ctx, s.ID, &hatchetflow.SuspendOptions{CancelRunning: true}))
	f.h.RequireStatus(t, s.ID, hatchetflow.StatusSuspended)
}

func TestTreeReadsSignaturesChainsAndSwarms(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	sw := dsl.Swarm(sq(1).OnSuccess(dsl.Sign("sq")), dsl.Chain(sq(2), dsl.Sign("sq"))).OnSuccess(dsl.Sign("sum-list"))
	h, err := sw.Run(ctx, c, map[string]any{})
	must(t, err)
	_, err = h.Wait(ctx)
	must(t, err)
	f.h.Drain(ctx)
	root, err := c.Tree(ctx, h.SignatureID())
	must(t, err)
	if root.Kind != "swarm" || root.Status != hatchetflow.StatusDone || len(root.Items) != 2 || len(root.OnSuccess) != 1 {
		t.Fatalf("root %+v", root)
	}
	item0, chain := root.Items[0], root.Items[1]
	if item0.Task != "sq" || string(item0.Result) != "1" || len(item0.OnSuccess) != 1 || item0.OnSuccess[0].Status != hatchetflow.StatusDone {
		t.Fatalf("item 0 %+v", item0)
	}
	if chain.Kind != "chain" || chain.Status != hatchetflow.StatusDone || len(chain.Steps) != 2 ||
		len(chain.Steps[0].OnSuccess) != 0 || string(chain.Steps[1].Result) != "16" {
		t.Fatalf("chain item %+v", chain)
	}
	if root.OnSuccess[0].Task != "sum-list" || root.OnSuccess[0].Status != hatchetflow.StatusDone {
		t.Fatalf("swarm callback %+v", root.OnSuccess[0])
	}
	if _, err := c.Tree(ctx, "0193f1d0-0000-7000-8000-000000000000"); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("Tree of a missing id: %v", err)
	}
}

// A cancelled signature's error callbacks get the message it was run with, as on
// failure: whether it was cancelled while queued (run from a builder or from a saved
// signature) or while its user function ran.
func TestCancelKeepsTheOriginalMessage(t *testing.T) {
	f := newFlow(t)
	f.h.AllowFailures() // the refused queued runs
	ctx := context.Background()
	c := f.h.Client
	onErr := dsl.Sign("log-error").With(dsl.KW{"additional_field1": 7})

	h, err := dsl.Sign(f.process).OnError(onErr).Run(ctx, c, Order{OrderID: "vid-queued"})
	must(t, err)
	must(t, c.Cancel(ctx, h.SignatureID(), nil))

	saved, err := dsl.Sign(f.process).OnError(onErr).Save(ctx, c)
	must(t, err)
	_, err = saved.Run(ctx, c, Order{OrderID: "vid-saved"})
	must(t, err)
	must(t, c.Cancel(ctx, saved.ID, nil))
	f.h.Drain(ctx)

	slow, err := dsl.Sign("slow").OnError(onErr).Run(ctx, c, map[string]any{"order_id": "vid-active"})
	must(t, err)
	drained := make(chan struct{})
	go func() { defer close(drained); f.h.Drain(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		sig, err := c.Signature(ctx, slow.SignatureID())
		must(t, err)
		if sig.Status == hatchetflow.StatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow signature is %s, never active", sig.Status)
		}
	}
	if err := c.Cancel(ctx, slow.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel of a running signature: %v", err)
	}
	<-drained
	f.h.Drain(ctx)

	got := map[string]ErrorMessage{}
	for len(f.errs) > 0 {
		m := <-f.errs
		got[m.OrderID] = m
	}
	for _, id := range []string{"vid-queued", "vid-saved", "vid-active"} {
		m, ok := got[id]
		if !ok || m.AdditionalField1 != 7 || m.Failure == nil || !m.Failure.Cancelled {
			t.Errorf("error callback for %s: %+v (ok %v); got %d callbacks: %+v", id, m, ok, len(got), got)
		}
	}
}

// Delete of a signature whose callback is a chain with its own error callbacks removes
// the chain's record and those callbacks too, index entries included.
func TestDeleteRemovesChainCallbacks(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	before := len(f.h.Redis.Keys())
	inner := dsl.Chain(dsl.Sign("sq"), dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed"))
	nested := dsl.Chain(dsl.Chain(dsl.Sign("sq"), dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed")), dsl.Sign("sq")).
		OnError(dsl.Sign("swarm-failed"))
	saved, err := sq(1).OnSuccess(inner).OnError(nested).Save(ctx, c)
	must(t, err)
	page, err := c.List(ctx, nil)
	must(t, err)
	stored := len(page.Entries)
	n, err := c.Delete(ctx, saved.ID)
	must(t, err)
	// root + (chain + 2 steps + error callback) + (outer chain + inner chain + 3 steps + 2 error callbacks)
	if n != 12 || stored != 12 {
		t.Errorf("Delete removed %d records of %d listed, want 12", n, stored)
	}
	if after := len(f.h.Redis.Keys()); after != before {
		t.Fatalf("keys before %d, after %d: %v", before, after, f.h.Redis.Keys())
	}
	if page, err := c.List(ctx, nil); err != nil || len(page.Entries) != 0 {
		t.Fatalf("List after Delete: %d items, %v", len(page.Entries), err)
	}
}

// A run cancelled on the engine while still queued runs no step of ours; the
// reconciler settles its signature from the engine's verdict: cancelled, error
// callbacks once with the message it was run with.
func TestQueuedRunCancelledOnTheEngineIsSettled(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	c := f.h.Client
	h, err := dsl.Sign(f.process).OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 3})).
		Run(ctx, c, Order{OrderID: "vid-q"})
	must(t, err)
	must(t, f.h.CancelRuns(ctx, []string{h.RunID()}))
	f.h.Drain(ctx)
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusCancelled)
	if len(f.errs) != 1 {
		t.Fatalf("%d error callbacks, want 1", len(f.errs))
	}
	if got := <-f.errs; got.OrderID != "vid-q" || got.AdditionalField1 != 3 || got.Failure == nil || !got.Failure.Cancelled {
		t.Fatalf("error callback got %+v / %+v", got, got.Failure)
	}
	if n := f.calls.get("process-order"); n != 0 {
		t.Fatalf("user code ran %d times", n)
	}
	// A second pass changes nothing.
	must(t, f.h.CancelRuns(ctx, []string{h.RunID()}))
	f.h.Drain(ctx)
	if len(f.errs) != 0 {
		t.Fatal("a second pass fired the error callbacks again")
	}
}
