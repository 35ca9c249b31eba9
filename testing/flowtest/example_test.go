package flowtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// Order is the input of the example's "charge" task.
type Order struct {
	OrderID string `json:"order_id"`
}

// Receipt is what "charge" returns.
type Receipt struct {
	OrderID string `json:"order_id"`
	Total   int    `json:"total"`
}

// ReceiptMail is the input of the success callback "send-receipt": charge's return
// value arrives in mageflow_results, template is a bound kwarg.
type ReceiptMail struct {
	Receipt  Receipt `json:"mageflow_results"`
	Template string  `json:"template"`
}

// exampleT stands in for the *testing.T a real test passes to flowtest, since
// examples get none. It drops log lines, prints failures (which breaks the example's
// expected output) and panics on Fatalf. The embedded nil testing.TB makes any other
// method panic.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (*exampleT) Helper()                      {}
func (*exampleT) Logf(string, ...any)          {}
func (e *exampleT) Cleanup(fn func())          { e.cleanups = append(e.cleanups, fn) }
func (*exampleT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (*exampleT) Errorf(f string, args ...any) { fmt.Printf("FAIL: "+f+"\n", args...) }

// cleanup runs what was registered with Cleanup, last first, as a test's end does.
func (e *exampleT) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// registerShop registers the Harness examples' tasks: "charge" (up to 2 retries) and its
// callbacks "send-receipt" and "notify-failure", which print what they get.
func registerShop(h *flowtest.Harness) error {
	if _, err := hatchetflow.NewTask(h.Client, "charge", func(ctx hatchet.Context, in Order) (Receipt, error) {
		fmt.Println("charge: attempt", ctx.RetryCount())
		return Receipt{OrderID: in.OrderID, Total: 42}, nil
	}, hatchetflow.WithRetries(2)); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(h.Client, "send-receipt", func(_ hatchet.Context, in ReceiptMail) (string, error) {
		fmt.Printf("send-receipt: %+v\n", in)
		return "sent", nil
	}); err != nil {
		return err
	}
	_, err := hatchetflow.NewTask(h.Client, "notify-failure", func(_ hatchet.Context, in Order) (any, error) {
		fmt.Println("notify-failure:", in.OrderID)
		return nil, nil
	})
	return err
}

// order is the signature the Harness examples run.
var order = dsl.Sign("charge").
	OnSuccess(dsl.Sign("send-receipt").With(dsl.KW{"template": "thanks"})).
	OnError(dsl.Sign("notify-failure"))

func ExampleNew() {
	t := &exampleT{} // in a test: your *testing.T
	defer t.cleanup()

	h := flowtest.New(t)
	_, err := hatchetflow.NewTask(h.Client, "charge", func(_ hatchet.Context, in Order) (Receipt, error) {
		return Receipt{OrderID: in.OrderID, Total: 42}, nil
	})
	if err != nil {
		panic(err)
	}
	_, err = hatchetflow.NewTask(h.Client, "send-receipt", func(_ hatchet.Context, in ReceiptMail) (string, error) {
		fmt.Printf("send-receipt received %+v\n", in)
		return "sent", nil
	})
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	sig := dsl.Sign("charge").OnSuccess(dsl.Sign("send-receipt").With(dsl.KW{"template": "thanks"}))
	if _, err := sig.Run(ctx, h.Client, Order{OrderID: "A-1"}); err != nil {
		panic(err)
	}
	h.Drain(ctx) // runs charge, then the callback it dispatched
	// Output:
	// send-receipt received {Receipt:{OrderID:A-1 Total:42} Template:thanks}
}

func ExampleHarness_Inject() {
	t := &exampleT{}
	defer t.cleanup()

	h := flowtest.New(t)
	if err := registerShop(h); err != nil {
		panic(err)
	}
	// Attempt 0 fails before charge's function is called; the retry succeeds.
	h.Inject("charge", 0, flowtest.Fail(errors.New("gateway timeout")))
	ctx := context.Background()
	if _, err := order.Run(ctx, h.Client, Order{OrderID: "A-2"}); err != nil {
		panic(err)
	}
	h.Drain(ctx)

	run := h.Runs("charge")[0]
	fmt.Println("attempts:", run.Attempts, "errors:", run.Errors)
	fmt.Println("error callback runs:", len(h.Runs("notify-failure")))
	// Output:
	// charge: attempt 1
	// send-receipt: {Receipt:{OrderID:A-2 Total:42} Template:thanks}
	// attempts: 2 errors: [gateway timeout]
	// error callback runs: 0
}

func ExampleHarness_RequireDispatched() {
	t := &exampleT{}
	defer t.cleanup()

	h := flowtest.New(t)
	if err := registerShop(h); err != nil {
		panic(err)
	}
	ctx := context.Background()
	hd, err := order.Run(ctx, h.Client, Order{OrderID: "A-3"})
	if err != nil {
		panic(err)
	}
	h.Drain(ctx)

	// Partial match: keys not in Input are ignored. The bound kwarg "template" is
	// not in the dispatched input, only in what the task received.
	run := h.RequireDispatched(t, "send-receipt", &flowtest.Match{
		Input: map[string]any{"mageflow_results": map[string]any{"total": 42}},
	})
	h.RequireReceived(t, "send-receipt", &flowtest.Match{Exact: true, Input: map[string]any{
		"mageflow_results": map[string]any{"order_id": "A-3", "total": 42},
		"template":         "thanks",
	}})
	h.RequireNotDispatched(t, "notify-failure", nil)
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)
	fmt.Println("callback run:", run.Status)
	// Output:
	// charge: attempt 0
	// send-receipt: {Receipt:{OrderID:A-3 Total:42} Template:thanks}
	// callback run: completed
}
