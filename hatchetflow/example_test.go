package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// The examples run on the flowtest harness: a real client on miniredis whose
// dispatcher runs the production steps in memory. On a real engine, replace
// flowtest.Start with hatchetflow.New(hatchetClient, redisClient) and start a worker
// with Client.NewWorker.

type ProcessOrder struct {
	OrderID string `json:"order_id"`
}

type OrderTotal struct {
	OrderID string `json:"order_id"`
	Total   int    `json:"total"`
}

// SuccessMessage marks the field that receives the parent's return value.
type SuccessMessage struct {
	TaskResult inject.ReturnValue[OrderTotal] `json:"task_result"`
	FieldInt   int                            `json:"field_int"`
}

// DefaultFieldMessage marks nothing: the return value goes to mageflow_results.
type DefaultFieldMessage struct {
	MageflowResults OrderTotal `json:"mageflow_results"`
	FieldInt        int        `json:"field_int"`
}

func printJSON(label string, v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("%s %s\n", label, b)
}

// Success callbacks receive the task's return value in the field marked with
// inject.ReturnValue, or in mageflow_results when none is marked. Bound kwargs are
// merged over the injected value.
func Example_successCallbacks() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client

	processOrder, _ := hatchetflow.NewTask(flow, "process-order",
		func(_ hatchet.Context, in ProcessOrder) (OrderTotal, error) {
			return OrderTotal{OrderID: in.OrderID, Total: 99}, nil
		})
	hatchetflow.NewTask(flow, "send-success-email", func(_ hatchet.Context, msg SuccessMessage) (any, error) {
		printJSON("send-success-email got", msg)
		return nil, nil
	})
	hatchetflow.NewTask(flow, "log-completion", func(_ hatchet.Context, msg DefaultFieldMessage) (any, error) {
		printJSON("log-completion got", msg)
		return nil, nil
	})

	ctx := context.Background()
	mainTask, err := dsl.Sign(processOrder).
		OnSuccess(
			dsl.Sign("send-success-email").With(dsl.KW{"field_int": 1}),
			dsl.Sign("log-completion").With(dsl.KW{"field_int": 2})).
		Save(ctx, flow)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := mainTask.Run(ctx, flow, ProcessOrder{OrderID: "A-1"}); err != nil {
		fmt.Println(err)
		return
	}
	h.Drain(ctx)
	// Unordered output:
	// send-success-email got {"task_result":{"order_id":"A-1","total":99},"field_int":1}
	// log-completion got {"mageflow_results":{"order_id":"A-1","total":99},"field_int":2}
}

type APIRequest struct {
	URL string `json:"url"`
}

// APIErrorMessage is the original message plus fields bound to the error callback, and
// the opt-in error details.
type APIErrorMessage struct {
	APIRequest
	AdditionalField1 int               `json:"additional_field1"`
	AdditionalField2 string            `json:"additional_field2"`
	Error            *inject.TaskError `json:"error,omitempty"`
}

// Error callbacks receive the message the failed task was sent, merged with their own
// bound kwargs, once after the last attempt.
func Example_errorCallbacks() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client

	hatchetflow.NewTask(flow, "external-api-call", func(_ hatchet.Context, in APIRequest) (any, error) {
		return nil, errors.New("connection refused")
	}, hatchetflow.WithRetries(2))
	hatchetflow.NewTask(flow, "log-error", func(_ hatchet.Context, msg APIErrorMessage) (any, error) {
		fmt.Printf("log-error got url=%s field1=%d field2=%s error=%q attempt=%d\n",
			msg.URL, msg.AdditionalField1, msg.AdditionalField2, msg.Error.Message, msg.Error.Attempt)
		return nil, nil
	})
	hatchetflow.NewTask(flow, "alert-administrator", func(_ hatchet.Context, msg APIRequest) (any, error) {
		fmt.Println("alert-administrator got url=" + msg.URL)
		return nil, nil
	})

	ctx := context.Background()
	errorLogger := dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345, "additional_field2": "test"})
	risky := dsl.Sign("external-api-call").OnError(errorLogger, dsl.Sign("alert-administrator"))
	if _, err := risky.Run(ctx, flow, APIRequest{URL: "https://api.example.com"}); err != nil {
		fmt.Println(err)
		return
	}
	h.Drain(ctx)
	// Unordered output:
	// log-error got url=https://api.example.com field1=12345 field2=test error="connection refused" attempt=3
	// alert-administrator got url=https://api.example.com
}

type Notification struct {
	UserID      string         `json:"user_id"`
	Preferences map[string]any `json:"preferences,omitempty"`
	Mode        string         `json:"processing_mode,omitempty"`
}

// Bound kwargs can be updated after the signature was saved; a run that starts later
// sees them.
func ExampleClient_UpdateKwargs() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client
	hatchetflow.NewTask(flow, "process-user-data", func(_ hatchet.Context, in Notification) (any, error) {
		printJSON("process-user-data got", in)
		return nil, nil
	})

	ctx := context.Background()
	userTask, _ := dsl.Sign("process-user-data").Save(ctx, flow)
	err := flow.UpdateKwargs(ctx, userTask.ID, dsl.KW{
		"user_id":         "12345",
		"preferences":     map[string]any{"theme": "dark", "notifications": true},
		"processing_mode": "batch",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	userTask.Run(ctx, flow, nil)
	h.Drain(ctx)
	// Output:
	// process-user-data got {"user_id":"12345","preferences":{"notifications":true,"theme":"dark"},"processing_mode":"batch"}
}

type ContextMessage struct {
	Data string `json:"data"`
}

// Bound kwargs are checked against the task's input schema when the signature is
// saved; Validate overrides that schema with a Go type's (MageFlow's model_validators).
func ExampleClient_SaveSignature_validation() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client
	hatchetflow.NewTask(flow, "send-notification", func(_ hatchet.Context, in Notification) (any, error) { return nil, nil })

	ctx := context.Background()
	_, err := dsl.Sign("send-notification").With(dsl.KW{"user_id": 7, "colour": "red"}).Save(ctx, flow)
	fmt.Println(errors.Is(err, inject.ErrValidation))
	fmt.Println(err)

	_, err = dsl.Sign("validate-data").Save(ctx, flow)
	fmt.Println(err)

	_, err = dsl.Sign("validate-data").Validate(ContextMessage{}).With(dsl.KW{"data": "ok"}).Save(ctx, flow)
	fmt.Println(err)
	// Output:
	// true
	// hatchetflow: invalid input for task "send-notification": colour: unknown field; user_id: got number, want string
	// hatchetflow: unknown task "validate-data": no worker registered it (start a worker, or give a validator with Validate)
	// <nil>
}

// A typed task handle runs with its own input type and waits with its own output type:
// passing anything else does not compile.
func ExampleTask_Run() {
	h, stop, _ := flowtest.Start()
	defer stop()
	type Order struct {
		OrderID string `json:"order_id"`
	}
	type Receipt struct {
		OrderID string `json:"order_id"`
		Total   int    `json:"total"`
	}
	task, _ := hatchetflow.NewTask(h.Client, "total-order", func(_ hatchet.Context, in Order) (Receipt, error) {
		return Receipt{OrderID: in.OrderID, Total: 42}, nil
	})
	ctx := context.Background()
	run, _ := task.Run(ctx, Order{OrderID: "o-7"}) // task.Run(ctx, "o-7") would not compile
	receipt, err := run.Wait(ctx)                  // a Receipt, not JSON
	fmt.Println(receipt.OrderID, receipt.Total, err)
	// Output: o-7 42 <nil>
}

// A worker the application builds itself serves hatchetflow's tasks next to its own
// Hatchet workflows; the application writes the registry with its own call.
func ExampleClient_Workflows() {
	hc, err := hatchet.NewClient() // HATCHET_CLIENT_TOKEN and friends from the environment
	if err != nil {
		return
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	flow, err := hatchetflow.New(hc, rdb)
	if err != nil {
		return
	}
	if _, err := hatchetflow.NewTask(flow, "charge", func(_ hatchet.Context, in map[string]any) (any, error) { return nil, nil }); err != nil {
		return
	}
	plain := hc.NewStandaloneTask("plain-report", func(_ hatchet.Context, in map[string]any) (map[string]any, error) { return in, nil })

	ctx := context.Background()
	wfs, err := flow.Workflows()
	if err != nil {
		return
	}
	if err := flow.RegisterTasks(ctx); err != nil {
		return
	}
	worker, err := hc.NewWorker("app", hatchet.WithWorkflows(append(wfs, plain)...), hatchet.WithSlots(50))
	if err != nil {
		return
	}
	cleanup, err := worker.Start()
	if err != nil {
		return
	}
	defer func() { _ = cleanup() }()
}

type Thumb struct {
	Width int    `json:"width"`
	URL   string `json:"url"`
}

type Gallery struct {
	Thumbs inject.ReturnValue[[]*Thumb] `json:"thumbs"`
}

// A swarm runs its items side by side, at most MaxConcurrency at a time, and gives its
// success callbacks the items' results in item order.
func Example_swarm() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client
	hatchetflow.NewTask(flow, "resize", func(_ hatchet.Context, in Thumb) (Thumb, error) {
		return Thumb{Width: in.Width, URL: fmt.Sprintf("%s?w=%d", in.URL, in.Width)}, nil
	})
	hatchetflow.NewTask(flow, "publish", func(_ hatchet.Context, g Gallery) (any, error) {
		printJSON("publish got", g)
		return nil, nil
	})

	ctx := context.Background()
	swarm := dsl.Swarm(
		dsl.Sign("resize").With(dsl.KW{"width": 640}),
		dsl.Sign("resize").With(dsl.KW{"width": 320}),
	).MaxConcurrency(2).OnSuccess(dsl.Sign("publish"))
	run, err := swarm.Run(ctx, flow, map[string]any{"url": "cat.png"})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("swarm result %s\n", out)
	h.Drain(ctx)
	// Output:
	// swarm result [{"width":640,"url":"cat.png?w=640"},{"width":320,"url":"cat.png?w=320"}]
	// publish got {"thumbs":[{"width":640,"url":"cat.png?w=640"},{"width":320,"url":"cat.png?w=320"}]}
}

// FulfilIn is the input of the fulfilment workflow.
type FulfilIn struct {
	OrderID string `json:"order_id"`
	Items   int    `json:"items"`
}

// Box is what the workflow's tasks return.
type Box struct {
	Size string `json:"size"`
}

// Fulfilled is the workflow's result: its final tasks' outputs by task name.
type Fulfilled struct {
	Pack  *Box `json:"pack"`
	Label *Box `json:"label"`
}

// A workflow of several tasks, built with the Hatchet SDK, is signed like a task: its
// success callbacks get the final tasks' outputs by task name.
func ExampleRegisterWorkflow() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client

	wf := h.Hatchet().NewWorkflow("fulfil")
	pick := wf.NewTask("pick", func(_ hatchet.Context, in FulfilIn) (Box, error) {
		return Box{Size: fmt.Sprintf("%d items", in.Items)}, nil
	})
	wf.NewTask("pack", func(ctx hatchet.Context, _ FulfilIn) (Box, error) {
		var picked Box
		err := ctx.ParentOutput(pick, &picked)
		return Box{Size: "box for " + picked.Size}, err
	}, hatchet.WithParents(pick))
	wf.NewTask("label", func(_ hatchet.Context, in FulfilIn) (Box, error) {
		return Box{Size: "A6 " + in.OrderID}, nil
	}, hatchet.WithParents(pick))
	fulfil, _ := hatchetflow.RegisterWorkflow[FulfilIn, Fulfilled](flow, wf)
	hatchetflow.NewTask(flow, "announce", func(_ hatchet.Context, in struct {
		Done inject.ReturnValue[Fulfilled] `json:"done"`
	}) (any, error) {
		fmt.Printf("announce: packed %q, labelled %q\n", in.Done.Value.Pack.Size, in.Done.Value.Label.Size)
		return nil, nil
	})

	ctx := context.Background()
	dsl.Sign(fulfil).OnSuccess(dsl.Sign("announce")).Run(ctx, flow, FulfilIn{OrderID: "o-7", Items: 3})
	h.Drain(ctx)
	// Output:
	// announce: packed "box for 3 items", labelled "A6 o-7"
}

// A durable task sleeps (and waits for events) durably, holding no worker slot, and is
// signed like any task. In flowtest its sleeps return at once.
func ExampleNewDurableTask() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client

	hatchetflow.NewDurableTask(flow, "remind", func(ctx hatchet.DurableContext, in ProcessOrder) (string, error) {
		if _, err := ctx.SleepFor(24 * time.Hour); err != nil {
			return "", err
		}
		return "reminded about " + in.OrderID, nil
	})
	hatchetflow.NewTask(flow, "log", func(_ hatchet.Context, in struct {
		Said inject.ReturnValue[string] `json:"said"`
	}) (any, error) {
		fmt.Println(in.Said.Value)
		return nil, nil
	})

	ctx := context.Background()
	dsl.Sign("remind").OnSuccess(dsl.Sign("log")).Run(ctx, flow, ProcessOrder{OrderID: "o-8"})
	h.Drain(ctx)
	// Output:
	// reminded about o-8
}

// A flow is a root and everything under it: its Wait returns once every branch that
// will run ended, naming the first node that failed; Retry runs a failed chain again
// from its failed step.
func ExampleClient_Retry() {
	h, stop, _ := flowtest.Start()
	defer stop()
	h.ExpectFailure("charge")
	flow := h.Client
	declined := true
	hatchetflow.NewTask(flow, "reserve", func(_ hatchet.Context, in ProcessOrder) (ProcessOrder, error) {
		fmt.Println("reserve", in.OrderID)
		return in, nil
	})
	hatchetflow.NewTask(flow, "charge", func(_ hatchet.Context, in struct {
		Order inject.ReturnValue[ProcessOrder] `json:"order"`
	}) (ProcessOrder, error) {
		if declined {
			return ProcessOrder{}, hatchetflow.NonRetryable(errors.New("card declined"))
		}
		fmt.Println("charge", in.Order.Value.OrderID)
		return in.Order.Value, nil
	})

	ctx := context.Background()
	run, _ := dsl.Chain(dsl.Sign("reserve"), dsl.Sign("charge")).Run(ctx, flow, ProcessOrder{OrderID: "o-9"})
	_, err := run.(*hatchetflow.Handle).Flow().Wait(ctx)
	var fe *hatchetflow.FlowError
	if errors.As(err, &fe) {
		fmt.Println("flow failed at", fe.Task+":", fe.Message)
	}

	declined = false
	retried, _ := flow.Retry(ctx, run.SignatureID(), nil)
	st, _ := retried.(*hatchetflow.Handle).Flow().Wait(ctx)
	fmt.Println("flow", st.Status)
	// Output:
	// reserve o-9
	// flow failed at charge: card declined
	// charge o-9
	// flow done
}
