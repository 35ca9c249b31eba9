package flowtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
)

// compensation is the message of the error callback in the cancel tests: the
// original order plus the error details. (Whether a cancel hands the callback the
// original order is hatchetflow's business, not the harness's: it is not checked.)
type compensation struct {
	Order   string           `json:"order"`
	Failure inject.TaskError `json:"failure"`
}

// cancelFlow is a harness (on a fakeT, so the test sees what the cleanup check
// reports) with a task "slow" that blocks until its ctx is done, "never" that ignores
// its ctx, "next" that returns its input, and the error callback "compensate".
type cancelFlow struct {
	h       *Harness
	f       *fakeT
	started chan string // the order of each call of slow or never, when it starts
	// release ends every blocked handler still waiting, at the test's end.
	release chan struct{}

	mu        sync.Mutex
	released  []string // orders whose slow call saw ctx.Done
	ran       []string // tasks whose handlers returned normally
	callbacks []compensation
}

func newCancelFlow(t *testing.T) *cancelFlow {
	t.Helper()
	cf := &cancelFlow{f: &fakeT{}, started: make(chan string, 8), release: make(chan struct{})}
	cf.h = newHarness(cf.f, miniredis.RunT(t))
	cf.h.Quiet()
	t.Cleanup(func() { close(cf.release) })
	type order struct {
		Order string `json:"order"`
	}
	reg := func(name string, fn func(hatchet.Context, order) (order, error), opts ...hatchetflow.TaskOption) {
		if _, err := hatchetflow.NewTask(cf.h.Client, name, fn, opts...); err != nil {
			t.Fatal(err)
		}
	}
	reg("slow", func(ctx hatchet.Context, in order) (order, error) {
		cf.started <- in.Order
		select {
		case <-ctx.Done():
			cf.mu.Lock()
			cf.released = append(cf.released, in.Order)
			cf.mu.Unlock()
			return order{}, ctx.Err()
		case <-cf.release:
			cf.mu.Lock()
			cf.ran = append(cf.ran, "slow")
			cf.mu.Unlock()
			return in, nil
		}
	}, hatchetflow.WithRetries(2)) // a cancelled run is not retried
	reg("never", func(_ hatchet.Context, in order) (order, error) {
		cf.started <- in.Order
		<-cf.release
		cf.mu.Lock()
		cf.ran = append(cf.ran, "never")
		cf.mu.Unlock()
		return in, nil
	})
	reg("next", func(_ hatchet.Context, in order) (order, error) {
		cf.mu.Lock()
		cf.ran = append(cf.ran, "next")
		cf.mu.Unlock()
		return in, nil
	})
	if _, err := hatchetflow.NewTask(cf.h.Client, "compensate", func(_ hatchet.Context, in compensation) (any, error) {
		cf.mu.Lock()
		cf.callbacks = append(cf.callbacks, in)
		cf.mu.Unlock()
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	return cf
}

// drainAsync drains the queue on its own goroutine; the returned channel is closed
// when Drain returned.
// runStarted runs spec with order as its input, drives the queue in the background
// and returns once a handler started.
func (cf *cancelFlow) runStarted(ctx context.Context, t *testing.T, spec dsl.Spec, order string) (dsl.Handle, <-chan struct{}) {
	t.Helper()
	hd, err := cf.h.Client.RunSignature(ctx, spec, map[string]any{"order": order})
	if err != nil {
		t.Fatal(err)
	}
	drained := cf.drainAsync(ctx)
	cf.waitStarted(t)
	return hd, drained
}

func (cf *cancelFlow) drainAsync(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		cf.h.Drain(ctx)
	}()
	return done
}

// waitStarted waits until a blocking handler started, and returns its order.
func (cf *cancelFlow) waitStarted(t *testing.T) string {
	t.Helper()
	select {
	case o := <-cf.started:
		return o
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never started")
		return ""
	}
}

// waitDrained fails t unless done closes soon: a cancelled handler must not keep
// the queue.
func waitDrained(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatalf("Drain still running 3 s after the cancel: %s", what)
	}
}

func (cf *cancelFlow) state() (released, ran []string, callbacks []compensation) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return append([]string(nil), cf.released...), append([]string(nil), cf.ran...), append([]compensation(nil), cf.callbacks...)
}

// requireNoDeclaration runs the harness's cleanup check and fails t if it reported
// anything: what a cancel causes needs no ExpectFailure.
func (cf *cancelFlow) requireNoDeclaration(t *testing.T) {
	t.Helper()
	cf.f.runCleanups()
	requireClean(t, cf.f)
}

// A handler blocked on ctx.Done() is released when its signature is cancelled with
// the client's Cancel; the run ends cancelled (no retry, no on-failure step), the
// error callback fires once, and the test declares
// nothing.
func TestCancelReleasesRunningHandler(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Sign("slow").OnError(dsl.Sign("compensate")), "A-1")
	if err := cf.h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitDrained(t, drained, "the running handler was not released")

	released, ran, callbacks := cf.state()
	if len(released) != 1 || len(ran) != 0 {
		t.Fatalf("handler released %v, returned normally %v; want released once", released, ran)
	}
	if len(callbacks) != 1 || !callbacks[0].Failure.Cancelled || callbacks[0].Failure.SignatureID != hd.SignatureID() {
		t.Fatalf("error callbacks %+v; want one, with the cancellation marked", callbacks)
	}
	run := cf.h.Runs("slow")[0]
	if run.Status != StatusCancelled || run.Attempts != 1 || run.OnFailureRan || len(run.Errors) != 0 {
		t.Fatalf("run %s after %d attempts, on-failure %v, errors %q; want cancelled after 1, no on-failure step, no errors",
			run.Status, run.Attempts, run.OnFailureRan, run.Errors)
	}
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusCancelled)
	if _, err := hd.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait on the cancelled run: %v, want ErrCancelled", err)
	}
	cf.requireNoDeclaration(t)
}

// A run cancelled on the engine itself (Harness.CancelRuns, as from Hatchet's
// dashboard) is settled as on the engine: the handler's ctx is done and the signature
// is cancelled with its error callbacks.
func TestCancelRunsSettlesTheSignature(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Sign("slow").OnError(dsl.Sign("compensate")), "A-2")
	if err := cf.h.CancelRuns(ctx, []string{hd.RunID()}); err != nil {
		t.Fatalf("CancelRuns: %v", err)
	}
	waitDrained(t, drained, "the running handler was not released")
	released, _, callbacks := cf.state()
	if len(released) != 1 {
		t.Fatalf("handler released %v times, want once", released)
	}
	if len(callbacks) != 1 || !callbacks[0].Failure.Cancelled {
		t.Fatalf("error callbacks %+v; want one marked cancelled", callbacks)
	}
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusCancelled)
	if got := cf.h.Runs("slow")[0].Status; got != StatusCancelled {
		t.Fatalf("run status %s, want cancelled", got)
	}
	cf.requireNoDeclaration(t)
}

// A handler that ignores its ctx runs on, but as on the engine its run ends
// cancelled at once and what it returns later is dropped: no success callback.
func TestCancelDropsWhatAHandlerIgnoringCtxReturns(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Sign("never").OnSuccess(dsl.Sign("next")).OnError(dsl.Sign("compensate")), "A-3")
	if err := cf.h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitDrained(t, drained, "the run did not end when cancelled")
	if got := cf.h.Runs("never")[0].Status; got != StatusCancelled {
		t.Fatalf("run status %s, want cancelled", got)
	}
	cf.h.RequireNotDispatched(t, "next", nil)
	if _, _, callbacks := cf.state(); len(callbacks) != 1 {
		t.Fatalf("error callbacks %+v, want one", callbacks)
	}
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusCancelled)
	cf.requireNoDeclaration(t)
}

// Cancelling a signature whose run is still queued: the run starts later and is
// refused (its signature is cancelled), as on the engine. That refusal is the
// cancel's own consequence: the test declares nothing.
func TestRunRefusedAfterCancelNeedsNoDeclaration(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, err := dsl.Sign("next").OnError(dsl.Sign("compensate")).Run(ctx, cf.h.Client, map[string]any{"order": "A-4"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cf.h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	cf.h.Drain(ctx)
	_, ran, callbacks := cf.state()
	if len(ran) != 0 || len(callbacks) != 1 || !callbacks[0].Failure.Cancelled {
		t.Fatalf("user code ran %v, error callbacks %+v; want none, and one marked cancelled", ran, callbacks)
	}
	if run := cf.h.Runs("next")[0]; run.Status != StatusFailed || run.Received != nil {
		t.Fatalf("the refused run: %s, received %v; want failed without calling user code", run.Status, run.Received)
	}
	cf.requireNoDeclaration(t)
}

// A refusal for any other reason (here a duplicate run of a finished signature) is
// still reported unless declared.
func TestOtherRefusalsStillNeedADeclaration(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, err := dsl.Sign("next").Run(ctx, cf.h.Client, map[string]any{"order": "A-5"})
	if err != nil {
		t.Fatal(err)
	}
	cf.h.Drain(ctx)
	if _, err := cf.h.Dispatch(ctx, "next", map[string]any{"order": "A-5"}, map[string]string{engine.MetaSignature: hd.SignatureID()}); err != nil {
		t.Fatal(err)
	}
	cf.h.Drain(ctx)
	cf.f.runCleanups()
	requireContains(t, onlyError(t, cf.f), `task "next" failed unexpectedly`, "is not pending: it is done")
}

// Cancelling a chain while its step runs releases the step's handler; the chain's
// error callback fires once, its later steps never run, and nothing is declared.
func TestCancelChainReleasesRunningStep(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Chain(dsl.Sign("next"), dsl.Sign("slow"), dsl.Sign("next")).OnError(dsl.Sign("compensate")), "A-6")
	if err := cf.h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitDrained(t, drained, "the chain's running step was not released")
	released, ran, callbacks := cf.state()
	if len(released) != 1 || len(ran) != 1 {
		t.Fatalf("step released %v, steps run %v; want the second released after the first ran", released, ran)
	}
	if len(callbacks) != 1 || !callbacks[0].Failure.Cancelled || callbacks[0].Failure.ChainID != hd.SignatureID() {
		t.Fatalf("error callbacks %+v; want the chain's, once, marked cancelled", callbacks)
	}
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusCancelled)
	cf.requireNoDeclaration(t)
}

// Cancelling a swarm while an item runs releases the item's handler; items dispatched
// but not started are refused, the swarm's error callback fires once, and nothing is
// declared.
func TestCancelSwarmReleasesRunningItem(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Swarm(dsl.Sign("slow"), dsl.Sign("slow"), dsl.Sign("slow")).MaxConcurrency(2).
		OnError(dsl.Sign("compensate")), "A-7")
	if err := cf.h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	waitDrained(t, drained, "the swarm's running item was not released")
	released, ran, callbacks := cf.state()
	if len(released) != 1 || len(ran) != 0 {
		t.Fatalf("items released %v, run %v; want one released, none run", released, ran)
	}
	if len(callbacks) != 1 || !callbacks[0].Failure.Cancelled || callbacks[0].Failure.SignatureID != hd.SignatureID() {
		t.Fatalf("error callbacks %+v; want the swarm's, once, marked cancelled", callbacks)
	}
	statuses := map[Status]int{}
	for _, r := range cf.h.Runs("slow") {
		statuses[r.Status]++
	}
	if statuses[StatusCancelled] != 1 || statuses[StatusFailed] != 1 || len(cf.h.Runs("slow")) != 2 {
		t.Fatalf("item runs by status %v; want one cancelled, one refused", statuses)
	}
	if _, err := hd.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait: %v, want ErrCancelled", err)
	}
	cf.requireNoDeclaration(t)
}

// Suspend with CancelRunning cancels the running attempt through the harness too: the
// handler is released, the signature stays suspended (the cancel is not settled as
// a cancel of the signature), and Resume reruns it.
func TestSuspendCancelRunningReleasesHandler(t *testing.T) {
	cf := newCancelFlow(t)
	ctx := context.Background()
	hd, drained := cf.runStarted(ctx, t, dsl.Sign("slow").OnError(dsl.Sign("compensate")), "A-8")
	if err := cf.h.Client.Suspend(ctx, hd.SignatureID(), &hatchetflow.SuspendOptions{CancelRunning: true}); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	waitDrained(t, drained, "the running handler was not released")
	if released, _, callbacks := cf.state(); len(released) != 1 || len(callbacks) != 0 {
		t.Fatalf("released %v, error callbacks %+v; want released once, no callback", released, callbacks)
	}
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusSuspended)
	if err := cf.h.Client.Resume(ctx, hd.SignatureID()); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	drained = cf.drainAsync(ctx)
	if o := cf.waitStarted(t); o != "A-8" {
		t.Fatalf("the rerun got order %q, want A-8", o)
	}
	cf.release <- struct{}{} // the rerun returns normally
	waitDrained(t, drained, "the rerun did not end")
	cf.h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)
	cf.requireNoDeclaration(t)
}
