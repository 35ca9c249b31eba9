package hatchetflow_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// Refund is a task that must not run before someone approved it: the approval arrives
// in the field typed inject.Signal.
type Refund struct {
	OrderID  string                  `json:"order_id"`
	Amount   int                     `json:"amount"`
	Approval inject.Signal[RefundOK] `json:"approval,omitzero"`
	Failure  *inject.TaskError       `json:"failure,omitempty"`
}

// RefundOK is what the approver signals.
type RefundOK struct {
	By string `json:"by"`
}

// A signature that waits for an outside event: After makes the refund wait until
// "refund-approved" is signalled for its order; Signal (from a webhook handler, say)
// releases it, its payload reaching the task. A second refund is never approved: at
// its timeout its error callback runs once, with the original message and why.
func ExampleClient_Signal() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client
	hatchetflow.NewTask(flow, "refund", func(_ hatchet.Context, in Refund) (string, error) {
		return fmt.Sprintf("refunded %d on %s, approved by %s", in.Amount, in.OrderID, in.Approval.Value.By), nil
	})
	hatchetflow.NewTask(flow, "refund-expired", func(_ hatchet.Context, in Refund) (any, error) {
		fmt.Printf("refund-expired got order %s: %s\n", in.OrderID, in.Failure.Message)
		return nil, nil
	})
	ctx := context.Background()
	refund := func(order string) dsl.Builder {
		return dsl.Sign("refund").
			After(dsl.Event("refund-approved", order).Timeout(2 * time.Hour)).
			OnError(dsl.Sign("refund-expired"))
	}

	approved, _ := refund("A-1").Run(ctx, flow, Refund{OrderID: "A-1", Amount: 30})
	expired, _ := refund("A-2").Run(ctx, flow, Refund{OrderID: "A-2", Amount: 45})
	h.Drain(ctx) // both wait: their tasks have not run
	sig, _ := flow.Signature(ctx, approved.SignatureID())
	fmt.Println(sig.Status, "waiting for", sig.Wait.Event, sig.Wait.Key)

	// Elsewhere, when the approval comes in:
	flow.Signal(ctx, dsl.Event("refund-approved", "A-1"), RefundOK{By: "ann"})
	out, _ := hatchetflow.WaitResult[string](ctx, approved)
	fmt.Println(out)

	h.FastForward(2 * time.Hour) // the harness clock: nobody approved A-2
	_, err := expired.Wait(ctx)
	fmt.Println(errors.Is(err, hatchetflow.ErrRunFailed))
	h.Drain(ctx)
	// Output:
	// pending waiting for refund-approved A-1
	// refunded 30 on A-1, approved by ann
	// true
	// refund-expired got order A-2: timed out after 2h0m0s waiting for event "refund-approved" (key "A-2")
}
