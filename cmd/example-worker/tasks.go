package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
)

// Order is process-order's input.
type Order struct {
	OrderID  string   `json:"order_id"`
	Items    []string `json:"items,omitempty"`
	Priority string   `json:"priority,omitempty"`
}

// Receipt is process-order's return value.
type Receipt struct {
	OrderID string `json:"order_id"`
	Total   int    `json:"total"`
}

// SuccessMessage marks the field that receives the return value (MageFlow's ReturnValue).
type SuccessMessage struct {
	TaskResult inject.ReturnValue[Receipt] `json:"task_result"`
	Template   string                      `json:"template,omitempty"`
}

// CompletionMessage marks no field: the return value goes to mageflow_results.
type CompletionMessage struct {
	MageflowResults Receipt `json:"mageflow_results"`
	FieldInt        int     `json:"field_int,omitempty"`
}

// UserData is process-user-data's input; its kwargs are updated after signing.
type UserData struct {
	UserID         string         `json:"user_id"`
	Preferences    map[string]any `json:"preferences,omitempty"`
	ProcessingMode string         `json:"processing_mode,omitempty"`
}

// APICall is external-api-call's input: the "original message".
type APICall struct {
	Endpoint string `json:"endpoint"`
	Attempt  int    `json:"attempt,omitempty"`
}

// ErrorMessage is the original message plus bound fields (struct embedding), and the
// opt-in error details.
type ErrorMessage struct {
	APICall
	AdditionalField1 int               `json:"additional_field1"`
	AdditionalField2 string            `json:"additional_field2"`
	Failure          *inject.TaskError `json:"failure,omitempty" hatchetflow:"task_error"`
}

// Notification is send-notification's input, used to show a validation error.
type Notification struct {
	Template   string `json:"template"`
	Priority   string `json:"priority,omitempty"`
	RetryCount int    `json:"retry_count,omitempty"`
}

// recorder keeps what each callback received, so the demo can print it.
type recorder struct {
	mu     sync.Mutex
	got    map[string][]string
	signal chan struct{}
}

func newRecorder() *recorder {
	return &recorder{got: map[string][]string{}, signal: make(chan struct{}, 1)}
}

func (r *recorder) add(task string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%q", err.Error()))
	}
	r.mu.Lock()
	r.got[task] = append(r.got[task], string(b))
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// await waits until every task in want has at least want[task] entries.
func (r *recorder) await(ctx context.Context, want map[string]int) error {
	for {
		r.mu.Lock()
		var missing []string
		for task, n := range want {
			if len(r.got[task]) < n {
				missing = append(missing, task)
			}
		}
		r.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		sort.Strings(missing)
		select {
		case <-ctx.Done():
			return fmt.Errorf("callbacks %v did not arrive: %w", missing, ctx.Err())
		case <-r.signal:
		}
	}
}

func (r *recorder) entries(task string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[task]...)
}

// tasks are the example's registered tasks.
type tasks struct {
	processOrder *hatchetflow.Task[Order, Receipt]
	externalAPI  *hatchetflow.Task[APICall, any]
	fulfilment   *hatchetflow.Task[Order, Fulfilment]
	cooldown     *hatchetflow.Task[Order, Receipt]
}

// errUpstream is what external-api-call always fails with.
var errUpstream = errors.New("upstream answered 503 Service Unavailable")

// register registers every task of the example on c (the fulfilment DAG built on
// hc); callbacks report to rec.
func register(c *hatchetflow.Client, hc *hatchet.Client, rec *recorder) (*tasks, error) {
	var t tasks
	var err error
	add := func(e error) {
		if err == nil {
			err = e
		}
	}
	t.processOrder, err = hatchetflow.NewTask(c, "process-order", func(_ hatchet.Context, in Order) (Receipt, error) {
		rec.add("process-order", in)
		return Receipt{OrderID: in.OrderID, Total: 10 * len(in.Items)}, nil
	})
	add(err)
	_, e := hatchetflow.NewTask(c, "send-success-email", func(_ hatchet.Context, in SuccessMessage) (string, error) {
		rec.add("send-success-email", in)
		return "sent", nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "log-completion", func(_ hatchet.Context, in CompletionMessage) (any, error) {
		rec.add("log-completion", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "process-user-data", func(_ hatchet.Context, in UserData) (any, error) {
		rec.add("process-user-data", in)
		return map[string]any{"processed": in.UserID}, nil
	})
	add(e)
	t.externalAPI, e = hatchetflow.NewTask(c, "external-api-call", func(_ hatchet.Context, in APICall) (any, error) {
		rec.add("external-api-call", in)
		return nil, hatchetflow.NonRetryable(errUpstream)
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "log-error", func(_ hatchet.Context, in ErrorMessage) (any, error) {
		rec.add("log-error", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "alert-administrator", func(_ hatchet.Context, in APICall) (any, error) {
		rec.add("alert-administrator", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "schedule-retry", func(_ hatchet.Context, in map[string]any) (any, error) {
		rec.add("schedule-retry", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "send-notification", func(_ hatchet.Context, in Notification) (any, error) {
		rec.add("send-notification", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "reserve-stock", func(_ hatchet.Context, in StockRequest) (Reservation, error) {
		rec.add("reserve-stock", in)
		return Reservation{OrderID: in.Receipt.Value.OrderID, Warehouse: in.Warehouse}, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "ship-order", func(_ hatchet.Context, in ShipRequest) (Shipment, error) {
		rec.add("ship-order", in)
		return Shipment{OrderID: in.Reservation.Value.OrderID, Tracking: in.Carrier + "-" + in.Reservation.Value.Warehouse + "-1"}, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "notify-shipped", func(_ hatchet.Context, in ShippedMessage) (any, error) {
		rec.add("notify-shipped", in)
		return nil, nil
	})
	add(e)
	_, e = hatchetflow.NewTask(c, "confirm-reservations", func(_ hatchet.Context, in ReservationsMessage) (any, error) {
		rec.add("confirm-reservations", in)
		return nil, nil
	})
	add(e)
	t.fulfilment, e = hatchetflow.RegisterWorkflow[Order, Fulfilment](c, fulfilmentWorkflow(hc, rec))
	add(e)
	_, e = hatchetflow.NewTask(c, "announce-fulfilment", func(_ hatchet.Context, in FulfilledMessage) (any, error) {
		rec.add("announce-fulfilment", in)
		return nil, nil
	})
	add(e)
	t.cooldown, e = hatchetflow.NewDurableTask(c, "cool-down", func(ctx hatchet.DurableContext, in Order) (Receipt, error) {
		if _, err := ctx.SleepFor(time.Second); err != nil { // durable: no worker slot held
			return Receipt{}, err
		}
		return Receipt{OrderID: in.OrderID, Total: 10 * len(in.Items)}, nil
	})
	add(e)
	return &t, err
}

// fulfilmentWorkflow is a native Hatchet DAG, built with the SDK's workflow builder as
// any Hatchet application builds one: pick, then pack and label side by side; gift-wrap
// only when the order asks for it (a skipped branch is not a failure).
func fulfilmentWorkflow(hc *hatchet.Client, rec *recorder) *hatchet.Workflow {
	wf := hc.NewWorkflow("fulfil-order")
	pick := wf.NewTask("pick", func(_ hatchet.Context, in Order) (Parcel, error) {
		rec.add("fulfil-order/pick", in)
		return Parcel{OrderID: in.OrderID, Items: len(in.Items)}, nil
	})
	wf.NewTask("pack", func(ctx hatchet.Context, in Order) (Parcel, error) {
		var p Parcel
		err := ctx.ParentOutput(pick, &p)
		p.Box = fmt.Sprintf("box-%d", p.Items)
		return p, err
	}, hatchet.WithParents(pick))
	wf.NewTask("label", func(_ hatchet.Context, in Order) (Label, error) {
		return Label{Carrier: "ups", Priority: in.Priority}, nil
	}, hatchet.WithParents(pick))
	return wf
}

// Parcel is what the fulfilment DAG's pick and pack tasks return.
type Parcel struct {
	OrderID string `json:"order_id"`
	Items   int    `json:"items"`
	Box     string `json:"box,omitempty"`
}

// Label is what the fulfilment DAG's label task returns.
type Label struct {
	Carrier  string `json:"carrier"`
	Priority string `json:"priority,omitempty"`
}

// Fulfilment is the fulfilment DAG's result: its final tasks' outputs by task name.
type Fulfilment struct {
	Pack  *Parcel `json:"pack"`
	Label *Label  `json:"label"`
}

// FulfilledMessage is the fulfilment DAG's success callback.
type FulfilledMessage struct {
	Fulfilment inject.ReturnValue[Fulfilment] `json:"fulfilment"`
	Channel    string                         `json:"channel,omitempty"`
}

// ReservationsMessage is the swarm's success callback: every reserve-stock item's
// Reservation, in item order.
type ReservationsMessage struct {
	Reservations inject.ReturnValue[[]*Reservation] `json:"reservations"`
}

// StockRequest is the chain's second step: it receives process-order's Receipt.
type StockRequest struct {
	Receipt   inject.ReturnValue[Receipt] `json:"receipt"`
	Warehouse string                      `json:"warehouse,omitempty"`
}

// Reservation is reserve-stock's return value.
type Reservation struct {
	OrderID   string `json:"order_id"`
	Warehouse string `json:"warehouse"`
}

// ShipRequest is the chain's third step: it receives reserve-stock's Reservation.
type ShipRequest struct {
	Reservation inject.ReturnValue[Reservation] `json:"reservation"`
	Carrier     string                          `json:"carrier,omitempty"`
}

// Shipment is ship-order's return value, the chain's result.
type Shipment struct {
	OrderID  string `json:"order_id"`
	Tracking string `json:"tracking"`
}

// ShippedMessage is the chain's success callback.
type ShippedMessage struct {
	Shipment inject.ReturnValue[Shipment] `json:"shipment"`
}
