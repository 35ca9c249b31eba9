package hatchetflow_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// BlockInput makes "block" wait MS milliseconds, or until its ctx is done. N only
// travels to its error callbacks.
type BlockInput struct {
	MS int `json:"ms"`
	N  int `json:"n,omitempty"`
}

type blockFlow struct {
	started  chan string // run ids, as block starts
	ctxDone  chan time.Duration
	finished atomic.Int64 // block returned after its full wait
}

func newEngineCancelFlow(t *testing.T) (*engineFlow, *swarmFlow, *blockFlow) {
	t.Helper()
	f := &swarmFlow{}
	b := &blockFlow{started: make(chan string, 100), ctxDone: make(chan time.Duration, 100)}
	e := newEngineFlow(t, func(c *hatchetflow.Client) {
		f.register(t, c)
		_, err := hatchetflow.NewTask(c, "block", func(hctx hatchet.Context, in BlockInput) (int, error) {
			b.started <- hctx.WorkflowRunId()
			start := time.Now()
			select {
			case <-hctx.GetContext().Done():
				b.ctxDone <- time.Since(start)
				return 0, hctx.GetContext().Err()
			case <-time.After(time.Duration(in.MS) * time.Millisecond):
				b.finished.Add(1)
				return in.MS, nil
			}
		}, hatchetflow.WithExecutionTimeout(60*time.Second))
		must(t, err)
	})
	return e, f, b
}

// waitFailures waits until n error callbacks ran, then checks no more come.
func waitFailures(t *testing.T, f *swarmFlow, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, fl := f.counts(); fl >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond)
	if _, _, fl := f.counts(); fl != n {
		t.Fatalf("%d error callbacks ran, want %d", fl, n)
	}
}

func TestEngineCancelRunningTask(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Sign("block").With(dsl.KW{"ms": 20000}).OnSuccess(dsl.Sign("sq")).
		OnError(dsl.Sign("swarm-failed")).Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	asked := time.Now()
	must(t, e.c.Cancel(ctx, h.SignatureID(), nil))
	select {
	case d := <-b.ctxDone:
		took := time.Since(asked)
		t.Logf("cancel → user ctx done: %v (block ran %v)", took, d)
		if took > time.Second {
			t.Errorf("user ctx done %v after Cancel, want within 1 s", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the user function's ctx was not cancelled")
	}
	waitFailures(t, f, 1)
	if fl := f.failures[0].Failure; fl == nil || !fl.Cancelled {
		t.Fatalf("error callback details %+v, want Cancelled", fl)
	}
	sig, err := e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusCancelled {
		t.Fatalf("status %s", sig.Status)
	}
	if s, _, _ := f.counts(); s != 0 {
		t.Fatalf("success callback ran")
	}
}

func TestEngineCancelFromTheSDK(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Sign("block").With(dsl.KW{"ms": 20000}).OnError(dsl.Sign("swarm-failed")).Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	id := uuid.MustParse(h.RunID())
	if _, err := e.hc.Runs().Cancel(ctx, rest.V1CancelTaskRequest{ExternalIds: &[]uuid.UUID{id}}); err != nil {
		t.Fatal(err)
	}
	waitFailures(t, f, 1)
	if fl := f.failures[0].Failure; fl == nil || !fl.Cancelled {
		t.Fatalf("error callback details %+v", fl)
	}
	sig, err := e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusCancelled {
		t.Fatalf("a run cancelled from the SDK left status %s", sig.Status)
	}
}

func TestEngineCancelChainMidway(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	ch := dsl.Chain(sq(2), dsl.Sign("block").With(dsl.KW{"ms": 20000}), dsl.Sign("sq")).OnError(dsl.Sign("swarm-failed"))
	h, err := ch.Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	must(t, e.c.Cancel(ctx, h.SignatureID(), nil))
	select {
	case <-b.ctxDone:
	case <-time.After(5 * time.Second):
		t.Fatalf("the running step was not cancelled")
	}
	waitFailures(t, f, 1)
	if s, _, _ := f.counts(); s != 1 {
		t.Fatalf("sq ran %d times, want 1 (the step after the cancelled one never starts)", s)
	}
	st, err := e.c.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusCancelled || st.Current != 1 {
		t.Fatalf("chain %+v", st)
	}
}

func TestEngineCancelSwarm(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	var items []dsl.Spec
	for i := 0; i < 6; i++ {
		items = append(items, dsl.Sign("block").With(dsl.KW{"ms": 20000}))
	}
	h, err := dsl.Swarm(items...).MaxConcurrency(2).OnError(dsl.Sign("swarm-failed")).Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	<-b.started
	must(t, e.c.Cancel(ctx, h.SignatureID(), nil))
	for i := 0; i < 2; i++ {
		select {
		case <-b.ctxDone:
		case <-time.After(5 * time.Second):
			t.Fatalf("running item %d not cancelled", i)
		}
	}
	waitFailures(t, f, 1)
	if n := len(b.started); n != 0 {
		t.Fatalf("%d queued items started after the cancel", n)
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait: %v", err)
	}
}

// TestEngineCancelRacingCompletion: 50 short tasks each raced by a cancel; each ends
// with exactly one outcome: done with its success callback, or cancelled with its
// error callback, never both, never neither.
func TestEngineCancelRacingCompletion(t *testing.T) {
	e, f, _ := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, 2*time.Minute)
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		h, err := dsl.Sign("block").With(dsl.KW{"ms": 5 + i%20}).OnSuccess(dsl.Sign("sq")).
			OnError(dsl.Sign("swarm-failed")).Run(ctx, e.c, map[string]any{})
		must(t, err)
		ids[i] = h.SignatureID()
		wg.Add(1)
		go func(id string, d time.Duration) {
			defer wg.Done()
			time.Sleep(d)
			if err := e.c.Cancel(ctx, id, nil); err != nil && !errors.Is(err, hatchetflow.ErrNotPending) {
				t.Errorf("cancel %s: %v", id, err)
			}
		}(h.SignatureID(), time.Duration(i)*25*time.Millisecond) // 0 to 1.2 s: before, during and after the runs
	}
	wg.Wait()
	var done, cancelled int
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for {
			sig, err := e.c.Signature(ctx, id)
			must(t, err)
			if sig.Status == hatchetflow.StatusDone || sig.Status == hatchetflow.StatusCancelled {
				if sig.Status == hatchetflow.StatusDone {
					done++
				} else {
					cancelled++
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("signature %s still %s", id, sig.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(2 * time.Second)
	squared, _, failures := f.counts()
	t.Logf("%d done, %d cancelled", done, cancelled) // both are expected; either alone is still one outcome each
	if squared != done || failures != cancelled {
		t.Fatalf("success callbacks %d for %d done, error callbacks %d for %d cancelled", squared, done, failures, cancelled)
	}
}

func TestEngineSuspendResumePendingSignature(t *testing.T) {
	e, f, _ := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	s, err := sq(5).OnSuccess(dsl.Sign("sq")).Save(ctx, e.c)
	must(t, err)
	must(t, e.c.Suspend(ctx, s.ID, nil))
	// A run of it (from elsewhere) is held: no user code.
	if _, err := e.hc.RunNoWait(ctx, "sq", map[string]any{"tag": "held"},
		hatchet.WithRunMetadata(map[string]string{hatchetflow.MetaSignature: s.ID})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n, _, _ := f.counts(); n != 0 {
		t.Fatalf("user code ran %d times while suspended", n)
	}
	must(t, e.c.Resume(ctx, s.ID))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _, _ := f.counts(); n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.squared) != "[5 25]" || f.tags[5] != "held" {
		t.Fatalf("after Resume: %v (tags %v), want [5 25] once with the held message", f.squared, f.tags)
	}
}

func TestEngineSuspendResumeChain(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	// Step 2 blocks 1.5 s: suspend while it runs; its result is held and step 3 waits.
	ch := dsl.Chain(sq(2), dsl.Sign("block").With(dsl.KW{"ms": 1500}), dsl.Sign("sq"))
	h, err := ch.Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	must(t, e.c.Suspend(ctx, h.SignatureID(), nil))
	time.Sleep(2500 * time.Millisecond)
	st, err := e.c.Chain(ctx, h.SignatureID())
	must(t, err)
	if n, _, _ := f.counts(); st.Status != hatchetflow.StatusSuspended || n != 1 {
		t.Fatalf("suspended chain: %s with %d sq calls, want suspended after 1", st.Status, n)
	}
	must(t, e.c.Resume(ctx, h.SignatureID()))
	got, err := hatchetflow.WaitResult[int](ctx, h)
	if err != nil || got != 1500*1500 {
		t.Fatalf("resumed chain result %d, %v; want %d", got, err, 1500*1500)
	}
	if b.finished.Load() != 1 {
		t.Fatalf("block finished %d times, want once", b.finished.Load())
	}
}

func TestEngineSuspendCancelRunningThenResume(t *testing.T) {
	e, f, b := newEngineCancelFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	ch := dsl.Chain(dsl.Sign("block").With(dsl.KW{"ms": 3000}), dsl.Sign("sq"))
	h, err := ch.Run(ctx, e.c, map[string]any{})
	must(t, err)
	<-b.started
	must(t, e.c.Suspend(ctx, h.SignatureID(), &hatchetflow.SuspendOptions{CancelRunning: true}))
	select {
	case <-b.ctxDone:
	case <-time.After(5 * time.Second):
		t.Fatalf("the running attempt was not cancelled")
	}
	time.Sleep(time.Second)
	st, err := e.c.Chain(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusSuspended {
		t.Fatalf("chain %s, want suspended", st.Status)
	}
	must(t, e.c.Resume(ctx, h.SignatureID()))
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err = e.c.Chain(ctx, h.SignatureID())
		must(t, err)
		if st.Status == hatchetflow.StatusDone || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.Status != hatchetflow.StatusDone || string(st.Result) != "9000000" {
		t.Fatalf("resumed chain %s result %s", st.Status, st.Result)
	}
	// Started twice (the cancelled attempt, the rerun), finished once; the next step once.
	if n := b.finished.Load(); n != 1 || len(b.started) != 1 {
		t.Fatalf("block finished %d times, %d more starts", n, len(b.started))
	}
	if s, _, _ := f.counts(); s != 1 {
		t.Fatalf("sq ran %d times", s)
	}
}
