package dsl_test

import (
	"context"
	"fmt"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type Order struct {
	OrderID  string `json:"order_id"`
	Priority string `json:"priority,omitempty"`
}

// register adds the tasks the examples sign; every callback prints what it received.
func register(flow *hatchetflow.Client) *hatchetflow.Task[Order, string] {
	task, _ := hatchetflow.NewTask(flow, "process-order", func(_ hatchet.Context, in Order) (string, error) {
		if in.OrderID == "" {
			return "", hatchetflow.NonRetryable(fmt.Errorf("no order id"))
		}
		return "processed " + in.OrderID, nil
	})
	for _, name := range []string{"send-success-email", "log-completion", "log-error"} {
		hatchetflow.NewTask(flow, name, func(_ hatchet.Context, in map[string]any) (any, error) {
			fmt.Printf("%s received %v\n", name, in)
			return nil, nil
		})
	}
	return task
}

// Sign takes a task name or a typed task handle.
func ExampleSign() {
	h, stop, _ := flowtest.Start()
	defer stop()
	task := register(h.Client)

	byName := dsl.Sign("process-order")
	byHandle := dsl.Sign(task)
	fmt.Println(byName.Task(), byHandle.Task())
	fmt.Println(dsl.Sign(42).Err())
	// Output:
	// process-order process-order
	// dsl: invalid sign target int: want a task name or a value with TaskName() string
}

// Builders are values: With returns a copy, so a partly built signature can be shared.
func ExampleBuilder_With() {
	base := dsl.Sign("process-order").With(dsl.KW{"priority": "low"})
	urgent := base.With(dsl.KW{"priority": "high"})
	fmt.Println(base.Kwargs()["priority"], urgent.Kwargs()["priority"])
	// Output:
	// low high
}

// OnSuccess callbacks run after the task succeeded, with its return value injected
// (here into mageflow_results, as the callbacks' input types mark no field).
func ExampleBuilder_OnSuccess() {
	h, stop, _ := flowtest.Start()
	defer stop()
	register(h.Client)
	ctx := context.Background()

	sig := dsl.Sign("process-order").With(dsl.KW{"priority": "high"}).
		OnSuccess(dsl.Sign("send-success-email").With(dsl.KW{"template": "welcome"}))
	if _, err := sig.Run(ctx, h.Client, Order{OrderID: "A-7"}); err != nil {
		fmt.Println(err)
		return
	}
	h.Drain(ctx)
	// Output:
	// send-success-email received map[mageflow_results:processed A-7 template:welcome]
}

// OnError callbacks run once after the task failed for good, with the message the
// task received and their own bound kwargs.
func ExampleBuilder_OnError() {
	h, stop, _ := flowtest.Start()
	defer stop()
	register(h.Client)
	ctx := context.Background()

	sig := dsl.Sign("process-order").
		OnSuccess(dsl.Sign("send-success-email")).
		OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345}))
	saved, err := sig.Save(ctx, h.Client)
	if err != nil {
		fmt.Println(err)
		return
	}
	saved.Run(ctx, h.Client, Order{Priority: "high"}) // no order id: the task fails
	h.Drain(ctx)
	// Output:
	// log-error received map[additional_field1:12345 order_id: priority:high]
}

// LockRelease is a finally callback's input: a field of the original message, and the
// outcome in the field typed inject.Outcome.
type LockRelease struct {
	OrderID string         `json:"order_id"`
	Outcome inject.Outcome `json:"outcome"`
}

// Finally callbacks run once after the task ended, whatever the end: done, failed or
// cancelled. They get the message the task received and the outcome: its status, and
// the result or the error details.
func ExampleBuilder_Finally() {
	h, stop, _ := flowtest.Start()
	defer stop()
	register(h.Client)
	hatchetflow.NewTask(h.Client, "release-lock", func(_ hatchet.Context, in LockRelease) (any, error) {
		if in.Outcome.Succeeded() {
			fmt.Printf("release-lock %q: %s, result %s\n", in.OrderID, in.Outcome.Status, in.Outcome.Result)
		} else {
			fmt.Printf("release-lock %q: %s, error %q\n", in.OrderID, in.Outcome.Status, in.Outcome.Error.Message)
		}
		return nil, nil
	})
	ctx := context.Background()

	sig := dsl.Sign("process-order").Finally(dsl.Sign("release-lock"))
	sig.Run(ctx, h.Client, Order{OrderID: "A-7"})
	sig.Run(ctx, h.Client, Order{Priority: "high"}) // no order id: the task fails
	// A cancel dispatches at once (a silent one too: finally is cleanup), so this one
	// prints first.
	saved, _ := sig.Save(ctx, h.Client)
	h.Client.Cancel(ctx, saved.ID, &hatchetflow.CancelOptions{Silent: true, Reason: "not needed"})
	h.Drain(ctx)
	// Output:
	// release-lock "": cancelled, error "not needed"
	// release-lock "A-7": done, result "processed A-7"
	// release-lock "": failed, error "no order id"
}

func ExampleSwarm() {
	resize := dsl.Sign("resize")
	swarm := dsl.Swarm(resize.With(dsl.KW{"width": 320}), resize.With(dsl.KW{"width": 640})).
		With(dsl.KW{"format": "webp"}).MaxConcurrency(2).StopAfter(1).OnSuccess(dsl.Sign("publish"))
	fmt.Println(len(swarm.Items()), swarm.Concurrency(), swarm.StopAfterFailures(), swarm.Kwargs(), swarm.Err())
	fmt.Println(dsl.Swarm().Concurrency(), dsl.Swarm().MaxConcurrency(0).Err())
	// Output:
	// 2 2 1 map[format:webp] <nil>
	// 30 dsl: swarm MaxConcurrency(0): must be at least 1
}
