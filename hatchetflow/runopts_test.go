package hatchetflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

func TestRunOptions(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	h, err := f.h.Client.RunWithOptions(ctx, f.orderSig(), Order{OrderID: "O-1"},
		&hatchetflow.RunOptions{Priority: 3, Metadata: map[string]string{"tenant": "acme"}, Sticky: true})
	must(t, err)
	f.h.Drain(ctx)
	run := f.h.Runs("process-order")[0]
	if run.Meta["tenant"] != "acme" || run.Meta[hatchetflow.MetaSignature] != h.SignatureID() ||
		run.Options == nil || run.Options.Priority != 3 || !run.Options.Sticky {
		t.Fatalf("run dispatched with meta %v options %+v", run.Meta, run.Options)
	}
	// Callbacks are runs of their own: they inherit none of it.
	if cb := f.h.Runs("send-success-email")[0]; cb.Options != nil || cb.Meta["tenant"] != "" {
		t.Fatalf("callback inherited options %+v / meta %v", cb.Options, cb.Meta)
	}
	typed, err := f.process.RunWith(ctx, Order{OrderID: "O-2"}, &hatchetflow.RunOptions{Priority: 1})
	must(t, err)
	if got, err := typed.Wait(ctx); err != nil || got.OrderID != "O-2" {
		t.Fatalf("typed run with options = %+v, %v", got, err)
	}
	before := len(f.h.Redis.Keys())
	runs := len(f.h.Runs(""))
	for name, tc := range map[string]struct {
		opts *hatchetflow.RunOptions
		want error
	}{
		"reserved metadata": {&hatchetflow.RunOptions{Metadata: map[string]string{hatchetflow.MetaParent: "x"}}, hatchetflow.ErrReservedMetadata},
		"bad priority":      {&hatchetflow.RunOptions{Priority: 7}, hatchetflow.ErrUnsupportedOption},
		// A delayed run is a Hatchet schedule (schedule_test.go), which takes no
		// stickiness or worker labels, and must start well within the active TTL.
		"delayed sticky run": {&hatchetflow.RunOptions{StartAfter: time.Minute, Sticky: true}, hatchetflow.ErrUnsupportedOption},
		"negative delay":     {&hatchetflow.RunOptions{StartAfter: -time.Second}, hatchetflow.ErrUnsupportedOption},
		"delay past the TTL": {&hatchetflow.RunOptions{StartAfter: 12 * time.Hour}, hatchetflow.ErrUnsupportedOption},
	} {
		if _, err := f.h.Client.RunWithOptions(ctx, dsl.Sign(f.process), Order{OrderID: "X"}, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: RunWithOptions = %v, want %v", name, err, tc.want)
		}
	}
	if len(f.h.Redis.Keys()) != before || len(f.h.Runs("")) != runs {
		t.Fatal("a refused run wrote keys or dispatched")
	}
}
