package hatchetflow_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// A run with StartAfter is a Hatchet schedule: the signature is pending at once, the
// run the schedule creates carries our metadata, starts the signature no sooner than
// the delay, and its success callback runs once; Wait follows it.
func TestEngineScheduledRun(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	const delay = 2 * time.Second
	asked := time.Now()
	h, err := e.c.RunWithOptions(ctx, e.orderSig(), Order{OrderID: "sched-1"},
		&hatchetflow.RunOptions{StartAfter: delay, Metadata: map[string]string{"tenant": "acme"}})
	must(t, err)
	if h.RunID() != "" || h.(*hatchetflow.Handle).ScheduleID() == "" {
		t.Fatalf("scheduled handle: run %q, schedule %q", h.RunID(), h.(*hatchetflow.Handle).ScheduleID())
	}
	sig, err := e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusPending {
		t.Fatalf("signature right after Run: %s, want pending", sig.Status)
	}
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	must(t, err)
	if got != (Receipt{OrderID: "sched-1", Total: 42}) {
		t.Fatalf("result %+v", got)
	}
	email := <-e.emails
	took := time.Since(asked)
	t.Logf("Run with StartAfter %v → success callback running: %v", delay, took)
	if took < delay-100*time.Millisecond {
		t.Fatalf("the success callback ran %v after Run, before the %v delay", took, delay)
	}
	if email.TaskResult.Value != got {
		t.Fatalf("email input %+v", email)
	}
	sig, err = e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	e.settle(ctx, t, sig.RunID, h.SignatureID())
	det, err := e.hc.Runs().GetDetails(ctx, uuid.MustParse(sig.RunID))
	must(t, err)
	meta := map[string]any{}
	must(t, json.Unmarshal(det.AdditionalMetadata, &meta))
	if meta["tenant"] != "acme" || meta[hatchetflow.MetaSignature] != h.SignatureID() {
		t.Fatalf("the scheduled run's metadata %v", meta)
	}
	wantCalls(t, e.flow, map[string]int32{"process-order": 1, "send-success-email": 1, "log-completion": 1, "log-error": 0})
}

// A cancel before the schedule fires deletes the schedule: the run is never created,
// the error callback runs once, and Wait says cancelled.
func TestEngineScheduledRunCancelledBeforeItFires(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	h, err := e.c.RunWithOptions(ctx, e.orderSig(), Order{OrderID: "sched-2"}, &hatchetflow.RunOptions{StartAfter: 2 * time.Second})
	must(t, err)
	must(t, e.c.Cancel(ctx, h.SignatureID(), nil))
	if _, err := e.hc.Schedules().Get(ctx, h.(*hatchetflow.Handle).ScheduleID()); err == nil {
		t.Fatal("the schedule still exists after the cancel")
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait = %v, want ErrCancelled", err)
	}
	if e := <-e.errs; e.OrderID != "sched-2" {
		t.Fatalf("error callback input %+v", e)
	}
	time.Sleep(4 * time.Second) // past the schedule's time
	wantCalls(t, e.flow, map[string]int32{"process-order": 0, "log-error": 1})
}
