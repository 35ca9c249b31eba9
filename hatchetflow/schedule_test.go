package hatchetflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// A run with StartAfter saves its signature pending at once and is a schedule, not a
// run, until the harness clock reaches it; its run then carries the usual metadata,
// starts the signature and dispatches the callbacks.
func TestStartAfterSchedulesTheRun(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	start := f.h.Now()
	h, err := f.h.Client.RunWithOptions(ctx, f.orderSig(), Order{OrderID: "S-1"},
		&hatchetflow.RunOptions{StartAfter: 2 * time.Hour, Priority: 2, Metadata: map[string]string{"tenant": "acme"}})
	must(t, err)
	hh := h.(*hatchetflow.Handle)
	if h.RunID() != "" || hh.ScheduleID() == "" {
		t.Fatalf("scheduled handle: run %q, schedule %q; want no run and a schedule", h.RunID(), hh.ScheduleID())
	}
	sig, err := f.h.Client.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusPending || sig.ScheduleID != hh.ScheduleID() {
		t.Fatalf("signature before the schedule fired: %s, schedule %q", sig.Status, sig.ScheduleID)
	}
	sched := f.h.Scheduled("process-order")
	if len(sched) != 1 || sched[0].ID != hh.ScheduleID() || !sched[0].At.Equal(start.Add(2*time.Hour)) ||
		sched[0].Meta[hatchetflow.MetaSignature] != h.SignatureID() || sched[0].Meta["tenant"] != "acme" {
		t.Fatalf("schedules %+v", sched)
	}
	if n := len(f.h.Runs("")); n != 0 {
		t.Fatalf("%d runs exist before the schedule fired", n)
	}

	f.h.FastForward(time.Hour)
	if n := len(f.h.Runs("")); n != 0 || len(f.h.Scheduled("")) != 1 {
		t.Fatalf("an hour in: %d runs, %d schedules; want none and one", n, len(f.h.Scheduled("")))
	}
	f.h.FastForward(time.Hour)
	if len(f.h.Scheduled("")) != 0 || f.h.Queued() != 1 {
		t.Fatalf("two hours in: %d schedules, %d queued runs; want the run queued", len(f.h.Scheduled("")), f.h.Queued())
	}
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	if err != nil || got.OrderID != "S-1" {
		t.Fatalf("WaitResult = %+v, %v", got, err)
	}
	f.h.Drain(ctx)
	run := f.h.Runs("process-order")[0]
	if run.Meta[hatchetflow.MetaSignature] != h.SignatureID() || run.Options == nil ||
		run.Options.StartAfter != 2*time.Hour || run.Options.Priority != 2 {
		t.Fatalf("the scheduled run: meta %v, options %+v", run.Meta, run.Options)
	}
	wantCalls(t, f, map[string]int32{"process-order": 1, "send-success-email": 1, "log-completion": 1, "log-error": 0})
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
}

// Waiting on a scheduled run skips the harness clock to it, as Drain does: a test
// needs no FastForward to see it end.
func TestWaitingOnAScheduledRunSkipsTheClock(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	start := f.h.Now()
	typed, err := f.process.RunWith(ctx, Order{OrderID: "S-2"}, &hatchetflow.RunOptions{StartAfter: 30 * time.Minute})
	must(t, err)
	if typed.ScheduleID() == "" || typed.RunID() != "" {
		t.Fatalf("typed scheduled run: schedule %q, run %q", typed.ScheduleID(), typed.RunID())
	}
	got, err := typed.Wait(ctx)
	if err != nil || got.OrderID != "S-2" {
		t.Fatalf("Wait = %+v, %v", got, err)
	}
	if d := f.h.Now().Sub(start); d != 30*time.Minute {
		t.Fatalf("the harness clock moved %v, want 30m", d)
	}
	// A chain's first step is what the schedule starts; Wait follows the chain.
	h, err := f.h.Client.RunWithOptions(ctx, dsl.Chain(dsl.Sign("scalar"), dsl.Sign("scalar")),
		map[string]any{"n": 1}, &hatchetflow.RunOptions{StartAfter: time.Minute})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatalf("scheduled chain: %v", err)
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
}

// A cancel before the schedule fires deletes the schedule: no run is ever created,
// the error callbacks fire once with the input, and Wait says cancelled rather than
// returning a zero value.
func TestCancelBeforeTheScheduleFires(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	h, err := f.h.Client.RunWithOptions(ctx, f.orderSig(), Order{OrderID: "S-3"}, &hatchetflow.RunOptions{StartAfter: time.Hour})
	must(t, err)
	must(t, f.h.Client.Cancel(ctx, h.SignatureID(), nil))
	if n := len(f.h.Scheduled("")); n != 0 {
		t.Fatalf("%d schedules left after the cancel", n)
	}
	_, err = h.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) || !errors.Is(err, hatchetflow.ErrCancelled) || re.RunID != "" || re.Task != "process-order" {
		t.Fatalf("Wait after a cancel before the schedule fired = %v, want a cancelled RunError without a run", err)
	}
	f.h.FastForward(2 * time.Hour)
	f.h.Drain(ctx)
	if n := len(f.h.Runs("process-order")); n != 0 {
		t.Fatalf("%d runs of the cancelled schedule", n)
	}
	wantCalls(t, f, map[string]int32{"process-order": 0, "send-success-email": 0, "log-error": 1})
	if e := <-f.errs; e.OrderID != "S-3" || e.AdditionalField1 != 12345 {
		t.Fatalf("error callback input %+v", e)
	}
}

// A schedule that fires after its signature was cancelled (the engine did not delete
// it) is refused at start, as a queued run of a cancelled signature is.
func TestAScheduleFiringAfterACancelIsRefused(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	h, err := f.h.Client.RunWithOptions(ctx, dsl.Sign(f.process), Order{OrderID: "S-4"}, &hatchetflow.RunOptions{StartAfter: time.Hour})
	must(t, err)
	// The schedule is gone from the signature's record, so the cancel cannot delete it.
	rdb := redis.NewClient(&redis.Options{Addr: f.h.Redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	must(t, rdb.HDel(ctx, f.h.Client.Store().SignatureKey(h.SignatureID()), "sch").Err())
	must(t, f.h.Client.Cancel(ctx, h.SignatureID(), &hatchetflow.CancelOptions{Silent: true}))
	if n := len(f.h.Scheduled("")); n != 1 {
		t.Fatalf("%d schedules, want the one the cancel could not delete", n)
	}
	f.h.Drain(ctx)
	if n := f.calls.get("process-order"); n != 0 {
		t.Fatalf("process-order ran %d times after its signature was cancelled", n)
	}
	if runs := f.h.Runs("process-order"); len(runs) != 1 || runs[0].Status != flowtest.StatusFailed {
		t.Fatalf("the late run: %+v", runs)
	}
}

// A dispatcher that cannot schedule refuses StartAfter before anything is written.
func TestStartAfterNeedsAScheduler(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(nopDispatcher{}))
	must(t, err)
	f := &flow{}
	f.register(t, c)
	ctx := context.Background()
	must(t, c.RegisterTasks(ctx))
	before := len(mr.Keys())
	_, err = c.RunWithOptions(ctx, dsl.Sign(f.process), Order{OrderID: "X"}, &hatchetflow.RunOptions{StartAfter: time.Minute})
	if !errors.Is(err, hatchetflow.ErrUnsupportedOption) {
		t.Fatalf("StartAfter without a scheduler = %v, want ErrUnsupportedOption", err)
	}
	if len(mr.Keys()) != before {
		t.Fatal("a refused scheduled run wrote keys")
	}
}
