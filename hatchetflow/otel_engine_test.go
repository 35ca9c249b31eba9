package hatchetflow_test

import (
	"context"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// On the engine, with the application's provider installed globally (so Hatchet's SDK
// records its own trigger span): a success callback's run span is a child of the
// traceparent Hatchet carried in the run's metadata (the SDK's hatchet.run_workflow
// span, itself a child of our dispatch span) and links to the dispatch span.
func TestEngineTelemetryCallbackTrace(t *testing.T) {
	hc := enginetest.Client(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	prefix := "hfit-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix), hatchetflow.WithTracerProvider(tp))
	must(t, err)
	done := make(chan struct{}, 1)
	_, err = hatchetflow.NewTask(c, "otel-parent", func(_ hatchet.Context, in Order) (Receipt, error) {
		return Receipt{OrderID: in.OrderID, Total: 1}, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "otel-child", func(_ hatchet.Context, in LogInput) (any, error) {
		done <- struct{}{}
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 90*time.Second)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "otel-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	if _, err := dsl.Sign("otel-parent").OnSuccess(dsl.Sign("otel-child")).Run(ctx, c, Order{OrderID: "E-otel"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the callback never ran")
	}
	find := func(name string) sdktrace.ReadOnlySpan {
		for ctx.Err() == nil {
			for _, s := range rec.Ended() {
				if s.Name() == name {
					return s
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("no span %q", name)
		return nil
	}
	dispatch := find("hatchetflow.dispatch otel-child")
	child := find("hatchetflow.run otel-child")
	var trigger sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "hatchet.run_workflow" && s.Parent().SpanID() == dispatch.SpanContext().SpanID() {
			trigger = s
		}
	}
	if trigger == nil {
		t.Fatal("no hatchet.run_workflow span under the dispatch span: the SDK did not get the dispatch context")
	}
	wantChildOf(t, child, trigger)
	links := child.Links()
	if len(links) != 1 || links[0].SpanContext.SpanID() != dispatch.SpanContext().SpanID() {
		t.Errorf("callback run span links %+v, want one to the dispatch span %s", links, dispatch.SpanContext().SpanID())
	}
	wantChildOf(t, dispatch, find("hatchetflow.run otel-parent"))
}
