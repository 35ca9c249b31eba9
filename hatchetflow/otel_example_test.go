package hatchetflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// Spans go to the tracer provider given to the client (or to the global one, which
// records nothing unless the application installs a provider). Here a stdout exporter
// writes them to a buffer, and the example prints each span's name and its parent's:
// the callback's run is a child of the dispatch that triggered it, itself a child of
// the run that finished. In an application, write to os.Stdout, or use an OTLP
// exporter.
func ExampleWithTracerProvider() {
	var buf bytes.Buffer
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(&buf))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	ctx := context.Background()
	defer func() { _ = tp.Shutdown(ctx) }()

	h, stop, err := flowtest.Start(hatchetflow.WithTracerProvider(tp))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	flow := h.Client
	charge, _ := hatchetflow.NewTask(flow, "charge", func(_ hatchet.Context, in ProcessOrder) (OrderTotal, error) {
		return OrderTotal{OrderID: in.OrderID, Total: 42}, nil
	})
	hatchetflow.NewTask(flow, "send-receipt", func(_ hatchet.Context, msg DefaultFieldMessage) (any, error) {
		return nil, nil
	})

	if _, err := dsl.Sign(charge).OnSuccess(dsl.Sign("send-receipt")).Run(ctx, flow, ProcessOrder{OrderID: "A-7"}); err != nil {
		fmt.Println(err)
		return
	}
	h.Drain(ctx)

	// The exporter writes one JSON object per span, as each span ends.
	type spanContext struct{ SpanID string }
	var spans []struct {
		Name        string
		SpanContext spanContext
		Parent      spanContext
	}
	names := map[string]string{}
	for dec := json.NewDecoder(&buf); ; {
		var s struct {
			Name        string
			SpanContext spanContext
			Parent      spanContext
		}
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Println(err)
			return
		}
		spans = append(spans, s)
		names[s.SpanContext.SpanID] = s.Name
	}
	for _, s := range spans {
		parent := names[s.Parent.SpanID]
		if parent == "" {
			parent = "none"
		}
		fmt.Printf("%s (parent: %s)\n", s.Name, parent)
	}
	// Output:
	// hatchetflow.dispatch send-receipt (parent: hatchetflow.run charge)
	// hatchetflow.run charge (parent: none)
	// hatchetflow.run send-receipt (parent: hatchetflow.dispatch send-receipt)
}
