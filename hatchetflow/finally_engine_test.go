package hatchetflow_test

import (
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// waitCleanup waits until the finally callback tagged tag ran, then checks that it
// ran once and returns what it got.
func waitCleanup(t *testing.T, f *finFlow, tag string) Cleanup {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(f.tagged(tag)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(700 * time.Millisecond) // a second dispatch would run by now
	return f.one(t, tag)
}

// Finally callbacks on the engine: once after a success, a failure and a cancel of a
// running task, each with the outcome and the original message.
func TestEngineFinally(t *testing.T) {
	f := &finFlow{}
	started := make(chan string, 10)
	e := newEngineFlow(t, func(c *hatchetflow.Client) {
		f.register(t, c)
		_, err := hatchetflow.NewTask(c, "fin-block", func(hctx hatchet.Context, in FinJob) (any, error) {
			started <- hctx.WorkflowRunId()
			select {
			case <-hctx.GetContext().Done():
				return nil, hctx.GetContext().Err()
			case <-time.After(30 * time.Second):
				return nil, nil
			}
		}, hatchetflow.WithExecutionTimeout(60*time.Second))
		must(t, err)
	})
	t.Run("success", func(t *testing.T) {
		ctx := enginetest.Context(t, time.Minute)
		h, err := dsl.Sign("fin-job").With(dsl.KW{"note": "bound"}).OnError(dsl.Sign("fin-error")).
			Finally(cleanup("ok")).Run(ctx, e.c, FinJob{ID: "e1"})
		must(t, err)
		_, err = h.Wait(ctx)
		must(t, err)
		got := waitCleanup(t, f, "ok")
		if got.ID != "e1" || got.Note != "bound" || got.Outcome.Status != inject.OutcomeDone || string(got.Outcome.Result) != `{"id":"e1","n":1}` {
			t.Fatalf("finally after success got %+v (result %s)", got, got.Outcome.Result)
		}
	})
	t.Run("failure", func(t *testing.T) {
		ctx := enginetest.Context(t, time.Minute)
		h, err := dsl.Sign("fin-job").OnError(dsl.Sign("fin-error")).Finally(cleanup("failed")).
			Run(ctx, e.c, FinJob{ID: "e2", Fail: true})
		must(t, err)
		got := waitCleanup(t, f, "failed")
		if e := got.Outcome.Error; got.ID != "e2" || got.Outcome.Status != inject.OutcomeFailed || e == nil ||
			e.Message != "job refused" || e.RunID != h.RunID() || e.SignatureID != h.SignatureID() {
			t.Fatalf("finally after failure got %+v / %+v", got, got.Outcome.Error)
		}
		if n := f.errorCallbacks(); n != 1 {
			t.Fatalf("error callbacks ran %d times, want 1", n)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx := enginetest.Context(t, time.Minute)
		h, err := dsl.Sign("fin-block").Finally(cleanup("cancelled")).Run(ctx, e.c, FinJob{ID: "e3"})
		must(t, err)
		select {
		case <-started:
		case <-ctx.Done():
			t.Fatal("fin-block never started")
		}
		must(t, e.c.Cancel(ctx, h.SignatureID(), &hatchetflow.CancelOptions{Silent: true, Reason: "stop"}))
		got := waitCleanup(t, f, "cancelled")
		if e := got.Outcome.Error; got.ID != "e3" || got.Outcome.Status != inject.OutcomeCancelled || e == nil ||
			!e.Cancelled || e.Message != "stop" {
			t.Fatalf("finally after cancel got %+v / %+v", got, got.Outcome.Error)
		}
	})
}
