package flowtest_test

import (
	"context"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// TestCancelStopsTheCharge is the example of docs/testing.md ("Cancel"), as a user
// writes it: a handler blocked on ctx.Done() is released by Client.Cancel, the error
// callback fires, and no failure is declared (the harness's cleanup check runs on t).
// Unlike the example, it bounds its waits, so that it fails instead of hanging when
// the handler is not released.
func TestCancelStopsTheCharge(t *testing.T) {
	h := flowtest.New(t)
	started := make(chan struct{})
	stuck := make(chan struct{}) // closed at the end, for a handler never released
	t.Cleanup(func() { close(stuck) })
	_, err := hatchetflow.NewTask(h.Client, "charge", func(ctx hatchet.Context, in Order) (Receipt, error) {
		close(started)
		select {
		case <-ctx.Done(): // the gateway call, honouring ctx
		case <-stuck:
		}
		return Receipt{}, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	failures := make(chan inject.TaskError, 1)
	_, err = hatchetflow.NewTask(h.Client, "notify-failure", func(_ hatchet.Context, in struct {
		Failure inject.TaskError `json:"failure"`
	}) (any, error) {
		failures <- in.Failure
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hd, err := dsl.Sign("charge").OnError(dsl.Sign("notify-failure")).Run(ctx, h.Client, Order{OrderID: "A-9"})
	if err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() { defer close(drained); h.Drain(ctx) }()
	<-started
	if err := h.Client.Cancel(ctx, hd.SignatureID(), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drained: // charge was released; notify-failure ran
	case <-time.After(5 * time.Second):
		t.Fatal("Drain still running 5 s after Cancel: the handler's ctx was not cancelled")
	}
	select {
	case f := <-failures:
		if !f.Cancelled {
			t.Fatalf("error details %+v", f)
		}
	default:
		t.Fatal("the error callback did not run")
	}
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusCancelled)
	// No ExpectFailure: the cancelled run is not a failure.
}
