package hatchetflow_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/testing/flowtest"
)

// otelFixture is a harness whose client reports to an in-memory span recorder and a
// manual metric reader.
type otelFixture struct {
	h      *flowtest.Harness
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newOtelFixture(t *testing.T, opts ...hatchetflow.Option) *otelFixture {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	opts = append([]hatchetflow.Option{hatchetflow.WithTracerProvider(tp), hatchetflow.WithMeterProvider(mp)}, opts...)
	return &otelFixture{h: flowtest.New(t, opts...), spans: rec, tp: tp, reader: reader}
}

// named returns the ended spans called name, in the order they ended.
func (f *otelFixture) named(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range f.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the single ended span called name.
func (f *otelFixture) one(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	got := f.named(name)
	if len(got) != 1 {
		var names []string
		for _, s := range f.spans.Ended() {
			names = append(names, s.Name())
		}
		t.Fatalf("want one span %q, got %d; ended spans: %q", name, len(got), names)
	}
	return got[0]
}

func (f *otelFixture) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := f.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// findMetric returns the metric called name.
func findMetric(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("no metric %q", name)
	return metricdata.Metrics{}
}

// counts returns an int64 sum's values keyed by the given attributes' values, joined
// with "/".
func counts(t *testing.T, m metricdata.Metrics, keys ...attribute.Key) map[string]int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: data is %T, not an int64 sum", m.Name, m.Data)
	}
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		k := ""
		for i, key := range keys {
			v, _ := dp.Attributes.Value(key)
			if i > 0 {
				k += "/"
			}
			k += v.String()
		}
		out[k] += dp.Value
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

func wantAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[attribute.Key]string) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %q: attribute %s = %q, want %q (all: %v)", s.Name(), k, got[k], v, got)
		}
	}
}

func wantChildOf(t *testing.T, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() || child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span %q: parent %s in trace %s, want %q (%s in trace %s)", child.Name(), child.Parent().SpanID(),
			child.SpanContext().TraceID(), parent.Name(), parent.SpanContext().SpanID(), parent.SpanContext().TraceID())
	}
}

const (
	keySig      = attribute.Key("hatchetflow.signature.id")
	keyParent   = attribute.Key("hatchetflow.parent.id")
	keyTask     = attribute.Key("hatchetflow.task")
	keyRun      = attribute.Key("hatchetflow.run.id")
	keyAttempt  = attribute.Key("hatchetflow.attempt")
	keyOutcome  = attribute.Key("hatchetflow.outcome")
	keyCallback = attribute.Key("hatchetflow.callback.id")
	keyCbRun    = attribute.Key("hatchetflow.callback.run.id")
	keyBranch   = attribute.Key("hatchetflow.branch")
	keyStep     = attribute.Key("hatchetflow.step")
)

// A success callback's run span is a child of its parent's dispatch span, which is a
// child of the parent's run span, which is a child of the caller's span; the trace
// context travels in the callback run's metadata.
func TestTelemetrySuccessTrace(t *testing.T) {
	f := newOtelFixture(t)
	flow := f.h.Client
	hatchetflow.NewTask(flow, "tel-parent", func(_ hatchet.Context, in Order) (Receipt, error) {
		return Receipt{OrderID: in.OrderID, Total: 7}, nil
	})
	hatchetflow.NewTask(flow, "tel-child", func(_ hatchet.Context, in LogInput) (any, error) { return nil, nil })

	ctx := context.Background()
	cb, err := dsl.Sign("tel-child").Save(ctx, flow)
	if err != nil {
		t.Fatal(err)
	}
	callerCtx, caller := f.tp.Tracer("test").Start(ctx, "caller")
	handle, err := dsl.Sign("tel-parent").OnSuccess(cb).Run(callerCtx, flow, Order{OrderID: "o-1"})
	caller.End()
	if err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)

	parentRun := f.h.Runs("tel-parent")[0]
	childRun := f.h.Runs("tel-child")[0]
	callerSpan := f.one(t, "caller")
	runSpan := f.one(t, "hatchetflow.run tel-parent")
	dispatch := f.one(t, "hatchetflow.dispatch tel-child")
	cbSpan := f.one(t, "hatchetflow.run tel-child")

	wantChildOf(t, runSpan, callerSpan)
	wantChildOf(t, dispatch, runSpan)
	wantChildOf(t, cbSpan, dispatch)
	if runSpan.SpanKind() != trace.SpanKindConsumer || dispatch.SpanKind() != trace.SpanKindProducer {
		t.Errorf("span kinds: run %v, dispatch %v", runSpan.SpanKind(), dispatch.SpanKind())
	}
	wantAttrs(t, runSpan, map[attribute.Key]string{keySig: handle.SignatureID(), keyTask: "tel-parent",
		keyRun: parentRun.ID, keyAttempt: "1", keyOutcome: "success"})
	if _, ok := attrs(runSpan)[keyParent]; ok {
		t.Errorf("a top-level run span has %s", keyParent)
	}
	wantAttrs(t, dispatch, map[attribute.Key]string{keyCallback: cb.ID, keyParent: handle.SignatureID(),
		keyTask: "tel-child", keyBranch: "success", keyCbRun: childRun.ID})
	wantAttrs(t, cbSpan, map[attribute.Key]string{keySig: cb.ID, keyParent: handle.SignatureID(),
		keyTask: "tel-child", keyRun: childRun.ID, keyOutcome: "success"})
	// Hatchet's traceparent (set by the harness as the SDK does) names the dispatch
	// span too, so the parent is enough: no link.
	if n := len(cbSpan.Links()); n != 0 {
		t.Errorf("callback run span has %d links, want 0 when its parent is the dispatch span", n)
	}
	want := fmt.Sprintf("00-%s-%s-01", dispatch.SpanContext().TraceID(), dispatch.SpanContext().SpanID())
	if got := childRun.Meta[engine.MetaTraceParent]; got != want {
		t.Errorf("callback run metadata %s = %q, want %q", engine.MetaTraceParent, got, want)
	}
	for _, s := range []sdktrace.ReadOnlySpan{runSpan, dispatch, cbSpan} {
		if s.Status().Code == codes.Error {
			t.Errorf("span %q has status %v", s.Name(), s.Status())
		}
	}

	rm := f.metrics(t)
	runs := counts(t, findMetric(t, rm, "hatchetflow.runs"), keyTask, keyOutcome)
	if len(runs) != 2 || runs["tel-parent/success"] != 1 || runs["tel-child/success"] != 1 {
		t.Errorf("hatchetflow.runs = %v, want one success of each task", runs)
	}
	lat := findMetric(t, rm, "hatchetflow.dispatch.duration")
	hist, ok := lat.Data.(metricdata.Histogram[float64])
	if !ok || len(hist.DataPoints) != 1 || hist.DataPoints[0].Count != 1 || lat.Unit != "ms" {
		t.Fatalf("hatchetflow.dispatch.duration = %+v (unit %q), want one point with one dispatch, in ms", lat.Data, lat.Unit)
	}
	if v, _ := hist.DataPoints[0].Attributes.Value(keyTask); v.AsString() != "tel-child" {
		t.Errorf("dispatch latency recorded for task %q, want tel-child", v.AsString())
	}
}

// A failing task with retries: one run span per attempt, one on-failure span whose
// dispatch starts the error callback's trace, and the run counted once as a failure;
// a success and a refused duplicate run are counted beside it.
func TestTelemetryFailureAndOutcomes(t *testing.T) {
	f := newOtelFixture(t)
	flow := f.h.Client
	boom := errors.New("boom")
	hatchetflow.NewTask(flow, "tel-flaky", func(_ hatchet.Context, in Order) (any, error) { return nil, boom },
		hatchetflow.WithRetries(2))
	hatchetflow.NewTask(flow, "tel-ok", func(_ hatchet.Context, in Order) (any, error) { return nil, nil })
	hatchetflow.NewTask(flow, "tel-on-error", func(_ hatchet.Context, in ErrorMessage) (any, error) { return nil, nil })
	f.h.ExpectFailure("tel-flaky")
	f.h.ExpectFailure("tel-ok") // the refused duplicate

	ctx := context.Background()
	errCb, err := dsl.Sign("tel-on-error").Save(ctx, flow)
	if err != nil {
		t.Fatal(err)
	}
	failing, err := dsl.Sign("tel-flaky").OnError(errCb).Run(ctx, flow, Order{OrderID: "o-2"})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := dsl.Sign("tel-ok").Save(ctx, flow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Run(ctx, flow, Order{OrderID: "o-3"}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	// An engine run of a signature that already ran (a duplicate trigger) is refused.
	if _, err := f.h.Dispatch(ctx, "tel-ok", map[string]any{"order_id": "o-3"},
		map[string]string{hatchetflow.MetaSignature: ok.ID}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)

	attempts := f.named("hatchetflow.run tel-flaky")
	if len(attempts) != 3 {
		t.Fatalf("%d run spans of tel-flaky, want one per attempt (3)", len(attempts))
	}
	for i, s := range attempts {
		wantAttrs(t, s, map[attribute.Key]string{keySig: failing.SignatureID(), keyAttempt: fmt.Sprint(i + 1), keyOutcome: "failure"})
		if s.Status().Code != codes.Error || s.Status().Description != "boom" {
			t.Errorf("attempt %d: status %+v, want error boom", i+1, s.Status())
		}
	}
	// No on-failure step (the lean shape): the last attempt ends the signature, so the
	// error callback's dispatch is a child of its run span.
	if n := len(f.named("hatchetflow.on_failure tel-flaky")); n != 0 {
		t.Fatalf("%d on-failure spans of tel-flaky, want none (the task has no on-failure step)", n)
	}
	dispatch := f.one(t, "hatchetflow.dispatch tel-on-error")
	wantChildOf(t, dispatch, attempts[2])
	wantAttrs(t, dispatch, map[attribute.Key]string{keyBranch: "error", keyCallback: errCb.ID, keyParent: failing.SignatureID()})
	wantChildOf(t, f.one(t, "hatchetflow.run tel-on-error"), dispatch)

	okSpans := f.named("hatchetflow.run tel-ok")
	if len(okSpans) != 2 {
		t.Fatalf("%d run spans of tel-ok, want 2 (the run and the refused duplicate)", len(okSpans))
	}
	wantAttrs(t, okSpans[0], map[attribute.Key]string{keyOutcome: "success"})
	wantAttrs(t, okSpans[1], map[attribute.Key]string{keyOutcome: "refused"})
	if okSpans[1].Status().Code != codes.Error {
		t.Errorf("refused run span status %+v, want error", okSpans[1].Status())
	}
	if n := len(f.named("hatchetflow.on_failure tel-ok")); n != 0 {
		t.Fatalf("%d on-failure spans of tel-ok, want none", n)
	}

	runs := counts(t, findMetric(t, f.metrics(t), "hatchetflow.runs"), keyTask, keyOutcome)
	want := map[string]int64{"tel-flaky/failure": 1, "tel-on-error/success": 1, "tel-ok/success": 1, "tel-ok/refused": 1}
	if fmt.Sprint(runs) != fmt.Sprint(want) {
		t.Errorf("hatchetflow.runs = %v, want %v", runs, want)
	}
}

// While Redis answers errors after the user function returned, the main step retries
// its finish: each try is a Redis error, each retry is counted and is an event on the
// run span, and the run still succeeds. (Redis answers errors rather than refusing
// connections because go-redis retries a refused connection itself for seconds.)
func TestTelemetryRedisRetries(t *testing.T) {
	f := newOtelFixture(t)
	flow := f.h.Client
	hatchetflow.NewTask(flow, "tel-outage", func(_ hatchet.Context, in Order) (any, error) {
		f.h.Redis.SetError("ERR injected outage")
		time.AfterFunc(300*time.Millisecond, func() { f.h.Redis.SetError("") })
		return map[string]any{"ok": true}, nil
	})
	ctx := context.Background()
	if _, err := dsl.Sign("tel-outage").Run(ctx, flow, Order{OrderID: "o-4"}); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	if r := f.h.Runs("tel-outage")[0]; r.Status != flowtest.StatusCompleted || r.Attempts != 1 {
		t.Fatalf("run %s after %d attempts, want completed in one", r.Status, r.Attempts)
	}

	rm := f.metrics(t)
	retries := counts(t, findMetric(t, rm, "hatchetflow.step.retries"), keyStep)
	redisErrs := counts(t, findMetric(t, rm, "hatchetflow.redis.errors"), keyStep)
	if retries["finish"] < 1 || len(retries) != 1 {
		t.Errorf("hatchetflow.step.retries = %v, want at least one retry of finish only", retries)
	}
	// Every failed try was a Redis error and was retried, until one succeeded.
	if redisErrs["finish"] != retries["finish"] || len(redisErrs) != 1 {
		t.Errorf("hatchetflow.redis.errors = %v, want as many as the retries %v", redisErrs, retries)
	}
	span := f.one(t, "hatchetflow.run tel-outage")
	wantAttrs(t, span, map[attribute.Key]string{keyOutcome: "success"})
	events := 0
	for _, e := range span.Events() {
		if e.Name == "hatchetflow.retry" {
			events++
		}
	}
	if int64(events) != retries["finish"] {
		t.Errorf("run span has %d retry events, want %d", events, retries["finish"])
	}
	runs := counts(t, findMetric(t, rm, "hatchetflow.runs"), keyTask, keyOutcome)
	if runs["tel-outage/success"] != 1 {
		t.Errorf("hatchetflow.runs = %v, want one success", runs)
	}
}

// On Hatchet, a run's metadata also carries the engine's traceparent (the SDK's span
// around the trigger), and the worker's context may already hold a span (Hatchet's
// instrumentation middleware): the run span is a child of that and links to the
// dispatching span.
func TestTelemetryHatchetParentAndLink(t *testing.T) {
	f := newOtelFixture(t)
	flow := f.h.Client
	hatchetflow.NewTask(flow, "tel-linked", func(_ hatchet.Context, in Order) (any, error) { return nil, nil })
	steps, _ := flow.Steps("tel-linked")
	ctx := context.Background()
	tracer := f.tp.Tracer("test")
	_, dispatcher := tracer.Start(ctx, "dispatcher")
	dispatcher.End()
	_, hatchetSpan := tracer.Start(ctx, "hatchet run workflow")
	hatchetSpan.End()
	tp := func(sc trace.SpanContext) string { return fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()) }

	for _, tc := range []struct {
		name     string
		ctx      func() (context.Context, trace.Span)
		wantFrom string // the span the run span must be a child of
	}{
		{"metadata traceparent", func() (context.Context, trace.Span) { return ctx, nil }, "hatchet run workflow"},
		{"span in context", func() (context.Context, trace.Span) { return tracer.Start(ctx, "hatchet.start_step_run") }, "hatchet.start_step_run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.spans.Reset()
			sig, err := dsl.Sign("tel-linked").Save(ctx, flow)
			if err != nil {
				t.Fatal(err)
			}
			stepCtx, mw := tc.ctx()
			hctx := flowtest.NewContext(stepCtx, &flowtest.ContextOptions{Task: "tel-linked", RunID: "run-1",
				Metadata: map[string]string{hatchetflow.MetaSignature: sig.ID, hatchetflow.MetaParent: "p-1",
					"traceparent": tp(hatchetSpan.SpanContext()), engine.MetaTraceParent: tp(dispatcher.SpanContext())}})
			if _, err := steps.Main(hctx, map[string]any{"order_id": "o-5"}); err != nil {
				t.Fatal(err)
			}
			if hctx.GetContext() != stepCtx {
				t.Error("the main step left its span in the step's context")
			}
			var parent trace.SpanContext
			if mw != nil {
				mw.End()
				parent = mw.SpanContext()
			} else {
				parent = hatchetSpan.SpanContext()
			}
			run := f.one(t, "hatchetflow.run tel-linked")
			if run.Parent().SpanID() != parent.SpanID() || run.SpanContext().TraceID() != parent.TraceID() {
				t.Errorf("run span's parent is %s, want %s (%s)", run.Parent().SpanID(), tc.wantFrom, parent.SpanID())
			}
			links := run.Links()
			if len(links) != 1 || links[0].SpanContext.SpanID() != dispatcher.SpanContext().SpanID() ||
				links[0].SpanContext.TraceID() != dispatcher.SpanContext().TraceID() {
				t.Errorf("run span links %+v, want one to the dispatching span %s", links, dispatcher.SpanContext().SpanID())
			}
			wantAttrs(t, run, map[attribute.Key]string{keySig: sig.ID, keyParent: "p-1", keyRun: "run-1", keyOutcome: "success"})
		})
	}
}

// Without providers (the global no-op ones), nothing is recorded and no trace
// context is added to the runs' metadata.
func TestTelemetryOffByDefault(t *testing.T) {
	h := flowtest.New(t)
	flow := h.Client
	hatchetflow.NewTask(flow, "tel-a", func(_ hatchet.Context, in Order) (Receipt, error) { return Receipt{}, nil })
	hatchetflow.NewTask(flow, "tel-b", func(_ hatchet.Context, in LogInput) (any, error) { return nil, nil })
	ctx := context.Background()
	if _, err := dsl.Sign("tel-a").OnSuccess(dsl.Sign("tel-b")).Run(ctx, flow, Order{OrderID: "o-6"}); err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	for _, r := range h.Runs("") {
		for _, k := range []string{engine.MetaTraceParent, engine.MetaTraceState, "traceparent"} {
			if v, ok := r.Meta[k]; ok {
				t.Errorf("run of %s has metadata %s = %q with no tracer provider", r.Task, k, v)
			}
		}
	}
	if n := len(h.Runs("tel-b")); n != 1 {
		t.Fatalf("%d runs of tel-b, want 1", n)
	}
}
