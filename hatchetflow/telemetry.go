package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hatchetflow/go/redisstore"
)

// InstrumentationName is the name of the tracer and the meter hatchetflow takes from
// the providers of [WithTracerProvider] and [WithMeterProvider].
const InstrumentationName = "github.com/hatchetflow/go/hatchetflow"

// Attribute keys of hatchetflow's spans and metrics (docs/design.md, "Observability").
const (
	attrSignature   = attribute.Key("hatchetflow.signature.id")
	attrParent      = attribute.Key("hatchetflow.parent.id")
	attrTask        = attribute.Key("hatchetflow.task")
	attrRun         = attribute.Key("hatchetflow.run.id")
	attrAttempt     = attribute.Key("hatchetflow.attempt")
	attrOutcome     = attribute.Key("hatchetflow.outcome")
	attrCallback    = attribute.Key("hatchetflow.callback.id")
	attrCallbackRun = attribute.Key("hatchetflow.callback.run.id")
	attrBranch      = attribute.Key("hatchetflow.branch")
	attrStep        = attribute.Key("hatchetflow.step")
	attrError       = attribute.Key("hatchetflow.error")
)

// Outcomes of a run, as the hatchetflow.outcome attribute and the hatchetflow.runs
// counter report them.
const (
	outcomeSuccess = "success" // the signature finished with a result
	outcomeFailure = "failure" // an attempt failed; on the counter: the signature failed
	outcomeRefused = "refused" // not runnable: not pending, not found or an invalid id
	outcomeSkipped = "skipped" // an on-failure step that had nothing to do
)

// telemetry holds the tracer and the instruments of one client. Every method is safe
// on the no-op providers, which is what an application that installs none gets.
type telemetry struct {
	tracer      trace.Tracer
	prop        propagation.TextMapPropagator
	runs        metric.Int64Counter
	dispatchDur metric.Float64Histogram
	redisErrors metric.Int64Counter
	retries     metric.Int64Counter
}

func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	meter := mp.Meter(InstrumentationName)
	t := &telemetry{tracer: tp.Tracer(InstrumentationName), prop: propagation.TraceContext{}}
	var errs [4]error
	t.runs, errs[0] = meter.Int64Counter("hatchetflow.runs", metric.WithUnit("{run}"),
		metric.WithDescription("Signature runs that ended, by task and outcome (success, failure, refused)."))
	t.dispatchDur, errs[1] = meter.Float64Histogram("hatchetflow.dispatch.duration", metric.WithUnit("ms"),
		metric.WithDescription("Time to trigger one callback run on the engine, by callback task."),
		metric.WithExplicitBucketBoundaries(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000))
	t.redisErrors, errs[2] = meter.Int64Counter("hatchetflow.redis.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Redis operations of the lifecycle steps that failed, by step."))
	t.retries, errs[3] = meter.Int64Counter("hatchetflow.step.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Retries inside a lifecycle step (through a Redis or dispatch error), by step."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("hatchetflow: create metric instruments: %w", err)
	}
	return t, nil
}

// metaCarrier is a propagation.TextMapCarrier over run metadata that stores the W3C
// keys under hatchetflow's own names ([engine.MetaTraceParent], [engine.MetaTraceState]), so they
// never collide with the traceparent Hatchet keeps in the same metadata.
type metaCarrier map[string]string

func (m metaCarrier) Get(key string) string { return m[metaKey(key)] }
func (m metaCarrier) Set(key, value string) { m[metaKey(key)] = value }
func (m metaCarrier) Keys() []string {
	var out []string
	for _, k := range []string{"traceparent", "tracestate"} {
		if _, ok := m[metaKey(k)]; ok {
			out = append(out, k)
		}
	}
	return out
}

// metaKey maps a W3C Trace Context header name to its metadata key.
func metaKey(w3c string) string {
	switch w3c {
	case "traceparent":
		return engine.MetaTraceParent
	case "tracestate":
		return engine.MetaTraceState
	}
	return "hatchetflow_" + w3c
}

// runParent returns the context a step's span starts in, and the span context of the
// dispatch that triggered the run, if the metadata carries one. The parent is, in
// order: a span already in ctx (Hatchet's own instrumentation middleware puts one
// there), the traceparent Hatchet carries in the run's metadata, the dispatching span.
func (t *telemetry) runParent(ctx context.Context, meta map[string]string) (context.Context, trace.SpanContext) {
	dispatched := trace.SpanContextFromContext(t.prop.Extract(context.Background(), metaCarrier(meta)))
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, dispatched
	}
	if tp := meta["traceparent"]; tp != "" {
		carrier := propagation.MapCarrier{"traceparent": tp}
		if ts := meta["tracestate"]; ts != "" {
			carrier["tracestate"] = ts
		}
		if ext := t.prop.Extract(ctx, carrier); trace.SpanContextFromContext(ext).IsValid() {
			return ext, dispatched
		}
	}
	if dispatched.IsValid() {
		return trace.ContextWithRemoteSpanContext(ctx, dispatched), dispatched
	}
	return ctx, dispatched
}

// stepState is what a traced step reports about its run before it returns.
type stepState struct{ outcome string }

type stepStateKey struct{}

// ended reports from inside a traced step how its run ended, and counts it on
// hatchetflow.runs. The on-failure step calls it, and so does the main step's last
// attempt when it ends the signature as failed (the lean shape); otherwise the main
// step's outcome is read from its error.
func (t *telemetry) ended(ctx context.Context, task, outcome string) {
	if st, ok := ctx.Value(stepStateKey{}).(*stepState); ok {
		st.outcome = outcome
	}
	t.runs.Add(ctx, 1, metric.WithAttributes(attrTask.String(task), attrOutcome.String(outcome)))
}

// traced wraps a lifecycle step of task def in a span named "<prefix> <task>"
// (signature runs only, a standing signature's included: a plain Hatchet run goes
// straight to fn). The span is the step context's
// current span while fn runs, so the dispatches and the user function's own spans are
// its children. main tells the main step (whose error gives its outcome, counted on
// hatchetflow.runs unless it is a failure) from the on-failure step (which reports
// with ended). A failed run is counted once, with ended: by the last attempt that ends
// the signature in the lean shape, by the on-failure step otherwise.
func (c *Client) traced(def *taskDef, prefix string, main bool, fn engine.StepFunc) engine.StepFunc {
	task := def.name
	return func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		meta := hctx.AdditionalMetadata()
		sigID, _ := runSignature(hctx, def)
		if sigID == "" {
			return fn(hctx, input)
		}
		t := c.tel
		orig := hctx.GetContext()
		parent, dispatched := t.runParent(orig, meta)
		attrs := []attribute.KeyValue{attrSignature.String(sigID), attrTask.String(task),
			attrRun.String(hctx.WorkflowRunId()), attrAttempt.Int(hctx.RetryCount() + 1)}
		if p := meta[engine.MetaParent]; p != "" {
			attrs = append(attrs, attrParent.String(p))
		}
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)}
		if ps := trace.SpanContextFromContext(parent); dispatched.IsValid() &&
			(dispatched.TraceID() != ps.TraceID() || dispatched.SpanID() != ps.SpanID()) {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: dispatched}))
		}
		st := &stepState{}
		ctx, span := t.tracer.Start(context.WithValue(parent, stepStateKey{}, st), prefix+" "+task, opts...)
		hctx.SetContext(ctx)
		defer hctx.SetContext(orig)
		defer span.End()

		out, err := fn(hctx, input)
		if main {
			st.outcome = mainOutcome(err)
			if st.outcome != outcomeFailure { // a failed run is counted once, with ended
				t.runs.Add(ctx, 1, metric.WithAttributes(attrTask.String(task), attrOutcome.String(st.outcome)))
			}
		} else if st.outcome == "" {
			st.outcome = outcomeSkipped
			if err != nil {
				st.outcome = outcomeFailure
			}
		}
		span.SetAttributes(attrOutcome.String(st.outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return out, err
	}
}

// mainOutcome classifies the main step's result.
func mainOutcome(err error) string {
	var np *NotPendingError
	var nf *SignatureNotFoundError
	switch {
	case err == nil:
		return outcomeSuccess
	case errors.As(err, &np), errors.As(err, &nf), errors.Is(err, ErrInvalidSignatureID):
		return outcomeRefused
	}
	return outcomeFailure
}

// startDispatch starts the span of one callback dispatch of parent's branch, as a
// child of ctx's span, and writes its trace context into meta. done ends it and
// records the latency on hatchetflow.dispatch.duration.
func (t *telemetry) startDispatch(ctx context.Context, parent string, cb redisstore.CallbackRef, branch Outcome,
	meta map[string]string) (dctx context.Context, done func(runID string, err error)) {
	dctx, span := t.tracer.Start(ctx, "hatchetflow.dispatch "+cb.Task, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attrCallback.String(cb.ID), attrParent.String(parent), attrTask.String(cb.Task),
			attrBranch.String(string(branch))))
	t.prop.Inject(dctx, metaCarrier(meta))
	start := time.Now()
	return dctx, func(runID string, err error) {
		ms := float64(time.Since(start).Microseconds()) / 1000
		t.dispatchDur.Record(dctx, ms, metric.WithAttributes(attrTask.String(cb.Task),
			attrBranch.String(string(branch)), attrError.Bool(err != nil)))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		} else {
			span.SetAttributes(attrCallbackRun.String(runID))
		}
		span.End()
	}
}

// failedTry counts err on hatchetflow.redis.errors when it came from Redis.
func (t *telemetry) failedTry(ctx context.Context, step string, err error) {
	if op := (*redisstore.OpError)(nil); errors.As(err, &op) {
		t.redisErrors.Add(ctx, 1, metric.WithAttributes(attrStep.String(step)))
	}
}

// retry counts one retry of step on hatchetflow.step.retries and adds an event to the
// current span.
func (t *telemetry) retry(ctx context.Context, step string, err error) {
	t.retries.Add(ctx, 1, metric.WithAttributes(attrStep.String(step)))
	trace.SpanFromContext(ctx).AddEvent("hatchetflow.retry",
		trace.WithAttributes(attrStep.String(step), attribute.String("exception.message", err.Error())))
}
