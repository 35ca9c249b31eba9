package hatchetflow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

func TestTypedRunsWithCallbacks(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	run, err := f.process.RunSignature(ctx, f.orderSig(), Order{OrderID: "T-1"})
	must(t, err)
	got, err := run.Wait(ctx)
	if err != nil || got != (Receipt{OrderID: "T-1", Total: 42}) {
		t.Fatalf("typed Wait = %+v, %v", got, err)
	}
	f.h.Drain(ctx)
	if f.calls.get("send-success-email") != 1 || f.calls.get("log-completion") != 1 {
		t.Fatal("the typed run's callbacks did not run")
	}
	if _, err := f.process.RunSignature(ctx, dsl.Sign("log-completion"), Order{OrderID: "T-2"}); !errors.Is(err, hatchetflow.ErrWrongTask) {
		t.Fatalf("a typed run of another task's signature = %v, want ErrWrongTask", err)
	}
	f.h.ExpectFailure("process-order")
	f.fail = func(int) error { return hatchetflow.NonRetryable(errors.New("declined")) }
	run, err = f.process.Run(ctx, Order{OrderID: "T-3"})
	must(t, err)
	if got, err := run.Wait(ctx); !errors.Is(err, hatchetflow.ErrRunFailed) || got != (Receipt{}) {
		t.Fatalf("typed Wait on a failed run = %+v, %v", got, err)
	}
}
