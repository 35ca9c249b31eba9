package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
)

// demo runs the seed doc's scenarios against a client, on a real engine or in the
// flowtest harness (settle then drives the in-memory queue).
type demo struct {
	c      *hatchetflow.Client
	t      *tasks
	rec    *recorder
	out    io.Writer
	settle func(ctx context.Context)
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

// wait lets queued runs progress (flowtest) and waits for the callbacks in want.
func (d *demo) wait(ctx context.Context, want map[string]int) error {
	if d.settle != nil {
		d.settle(ctx)
	}
	return d.rec.await(ctx, want)
}

func (d *demo) show(tasks ...string) {
	for _, task := range tasks {
		for _, e := range d.rec.entries(task) {
			d.printf("  %-20s received %s\n", task, e)
		}
	}
}

// run runs every scenario in order.
func (d *demo) run(ctx context.Context) error {
	for _, s := range []struct {
		title string
		fn    func(context.Context) error
	}{
		{"1. Success callbacks: return value injected (ReturnValue field and default mageflow_results)", d.successCallbacks},
		{"2. Kwargs updated after the signature was created", d.updateKwargs},
		{"3. Error callbacks: the original message, bound kwargs and error details", d.errorCallbacks},
		{"4. Validation errors are clear and write nothing", d.validation},
		{"5. A chain: each step gets the previous step's return value", d.chain},
		{"6. A swarm as a success callback: items side by side, results in item order", d.swarm},
		{"7. A native Hatchet DAG signed like a task; a durable task as a chain step", d.workflow},
	} {
		d.printf("\n%s\n", s.title)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	return nil
}

func (d *demo) successCallbacks(ctx context.Context) error {
	sig := dsl.Sign(d.t.processOrder).With(dsl.KW{"priority": "high"}).
		OnSuccess(
			dsl.Sign("send-success-email").With(dsl.KW{"template": "order_confirmed"}),
			dsl.Sign("log-completion").With(dsl.KW{"field_int": 7}))
	h, err := sig.Run(ctx, d.c, Order{OrderID: "ord-1001", Items: []string{"book", "lamp", "mug"}})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	receipt, err := hatchetflow.WaitResult[Receipt](ctx, h)
	if err != nil {
		return err
	}
	d.printf("  process-order        returned %+v\n", receipt)
	if err := d.wait(ctx, map[string]int{"send-success-email": 1, "log-completion": 1}); err != nil {
		return err
	}
	d.show("process-order", "send-success-email", "log-completion")
	return nil
}

func (d *demo) updateKwargs(ctx context.Context) error {
	saved, err := dsl.Sign("process-user-data").Save(ctx, d.c)
	if err != nil {
		return err
	}
	err = d.c.UpdateKwargs(ctx, saved.ID, dsl.KW{
		"user_id":         "12345",
		"preferences":     map[string]any{"theme": "dark", "notifications": true},
		"processing_mode": "batch",
	})
	if err != nil {
		return err
	}
	if _, err := saved.Run(ctx, d.c, map[string]any{}); err != nil {
		return err
	}
	if err := d.wait(ctx, map[string]int{"process-user-data": 1}); err != nil {
		return err
	}
	d.show("process-user-data")
	return nil
}

func (d *demo) errorCallbacks(ctx context.Context) error {
	risky := dsl.Sign(d.t.externalAPI).OnError(
		dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345, "additional_field2": "test"}),
		dsl.Sign("alert-administrator"),
		dsl.Sign("schedule-retry").With(dsl.KW{"delay_seconds": 30}))
	h, err := risky.Run(ctx, d.c, APICall{Endpoint: "https://api.example.com/charge", Attempt: 1})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrRunFailed) {
		return fmt.Errorf("external-api-call: want a failed run, got %v", err)
	}
	d.printf("  external-api-call    failed: %v\n", errUpstream)
	if err := d.wait(ctx, map[string]int{"log-error": 1, "alert-administrator": 1, "schedule-retry": 1}); err != nil {
		return err
	}
	d.show("log-error", "alert-administrator", "schedule-retry")
	return nil
}

func (d *demo) validation(ctx context.Context) error {
	_, err := dsl.Sign("send-notification").
		With(dsl.KW{"template": "welcome_email", "priority": "high", "retry_count": "three"}).
		Save(ctx, d.c)
	var ve *inject.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("want a validation error, got %v", err)
	}
	d.printf("  Save refused: %v\n", err)
	_, err = dsl.Sign("no-such-task").Save(ctx, d.c)
	if !errors.Is(err, hatchetflow.ErrUnknownTask) {
		return fmt.Errorf("want ErrUnknownTask, got %v", err)
	}
	d.printf("  Save refused: %v\n", err)
	return nil
}

func (d *demo) chain(ctx context.Context) error {
	chain := dsl.Chain(
		dsl.Sign(d.t.processOrder),
		dsl.Sign("reserve-stock").With(dsl.KW{"warehouse": "north"}),
		dsl.Sign("ship-order").With(dsl.KW{"carrier": "ups"}),
	).OnSuccess(dsl.Sign("notify-shipped"))
	h, err := chain.Run(ctx, d.c, Order{OrderID: "ord-2002", Items: []string{"desk"}})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	shipment, err := hatchetflow.WaitResult[Shipment](ctx, h)
	if err != nil {
		return err
	}
	if err := d.wait(ctx, map[string]int{"notify-shipped": 1}); err != nil {
		return err
	}
	d.show("reserve-stock", "ship-order", "notify-shipped")
	st, err := d.c.Chain(ctx, h.SignatureID())
	if err != nil {
		return err
	}
	d.printf("  chain %s after %d steps; result %+v\n", st.Status, len(st.Steps), shipment)
	return nil
}

func (d *demo) swarm(ctx context.Context) error {
	// process-order's Receipt reaches every item; two run at a time.
	swarm := dsl.Swarm(
		dsl.Sign("reserve-stock").With(dsl.KW{"warehouse": "north"}),
		dsl.Sign("reserve-stock").With(dsl.KW{"warehouse": "south"}),
		dsl.Sign("reserve-stock").With(dsl.KW{"warehouse": "east"}),
	).MaxConcurrency(2).OnSuccess(dsl.Sign("confirm-reservations"))
	h, err := dsl.Sign(d.t.processOrder).OnSuccess(swarm).Run(ctx, d.c, Order{OrderID: "ord-3003", Items: []string{"chair"}})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	if _, err := h.Wait(ctx); err != nil {
		return err
	}
	if err := d.wait(ctx, map[string]int{"confirm-reservations": 1}); err != nil {
		return err
	}
	d.show("confirm-reservations")
	return nil
}

func (d *demo) workflow(ctx context.Context) error {
	// The DAG's result is its final tasks' outputs by name; a chain puts a durable task
	// (it sleeps durably) before it, whose receipt is logged.
	sig := dsl.Sign(d.t.fulfilment).With(dsl.KW{"priority": "express"}).
		OnSuccess(dsl.Sign("announce-fulfilment").With(dsl.KW{"channel": "email"}))
	h, err := sig.Run(ctx, d.c, Order{OrderID: "ord-4004", Items: []string{"desk", "lamp"}})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	res, err := hatchetflow.WaitResult[Fulfilment](ctx, h)
	if err != nil {
		return err
	}
	if err := d.wait(ctx, map[string]int{"announce-fulfilment": 1}); err != nil {
		return err
	}
	d.show("fulfil-order/pick", "announce-fulfilment")
	d.printf("  fulfil-order         returned pack %+v, label %+v\n", *res.Pack, *res.Label)
	ch, err := dsl.Chain(dsl.Sign(d.t.cooldown), dsl.Sign("log-completion")).Run(ctx, d.c, Order{OrderID: "ord-4005", Items: []string{"rug"}})
	if err != nil {
		return err
	}
	if d.settle != nil {
		d.settle(ctx)
	}
	if _, err := ch.Wait(ctx); err != nil {
		return err
	}
	if err := d.wait(ctx, map[string]int{"log-completion": 2}); err != nil {
		return err
	}
	d.printf("  cool-down (durable)  slept, then log-completion received %s\n", d.rec.entries("log-completion")[1])
	return nil
}
