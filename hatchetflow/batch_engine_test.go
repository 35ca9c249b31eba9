package hatchetflow_test

import (
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/enginetest"
)

// FanIn is a fan-out callback's input: its bound index and the root's result.
type FanIn struct {
	I      int    `json:"i"`
	Result string `json:"mageflow_results"`
}

// On the engine, the success callbacks of one task go out in batches (the engine's
// bulk trigger, 500 runs a call): every callback runs once, with its own bound kwargs
// and the root's result, under the namespace the client's runs use.
func TestEngineBatchedFanOut(t *testing.T) {
	_, c, _, _ := newSwarmClient(t, "hfbatch-", &swarmFlow{})
	if _, ok := c.Dispatcher().(engine.BatchDispatcher); !ok {
		t.Fatalf("dispatcher %T takes no batches, with HATCHET_CLIENT_TOKEN set", c.Dispatcher())
	}
	const n = 600 // two batches: 500 and 100
	var mu sync.Mutex
	seen := map[int]int{}
	wrong := 0
	all := make(chan struct{})
	_, err := hatchetflow.NewTask(c, "fan-root", func(_ hatchet.Context, in Order) (string, error) {
		return "root-" + in.OrderID, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fan-cb", func(_ hatchet.Context, in FanIn) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		seen[in.I]++
		if in.Result != "root-o-1" {
			wrong++
		}
		if len(seen) == n {
			select {
			case <-all:
			default:
				close(all)
			}
		}
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) {
		return c.NewWorker(ctx, "batch-worker", &hatchetflow.WorkerOptions{Options: []hatchet.WorkerOption{hatchet.WithSlots(100)}})
	})
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	root := dsl.Sign("fan-root")
	for i := range n {
		root = root.OnSuccess(dsl.Sign("fan-cb").With(dsl.KW{"i": i}))
	}
	began := time.Now()
	h, err := root.Run(ctx, c, Order{OrderID: "o-1"})
	must(t, err)
	select {
	case <-all:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d of %d callbacks ran", len(seen), n)
	}
	t.Logf("root started → all %d callbacks ran: %v", n, time.Since(began).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // room for a doubled callback to show
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("callback %d ran %d times, want once", i, seen[i])
		}
	}
	if wrong != 0 {
		t.Fatalf("%d callbacks got another result than the root's", wrong)
	}
	sig, err := c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusDone || len(sig.OnSuccess) != n {
		t.Fatalf("root %s with %d success callbacks", sig.Status, len(sig.OnSuccess))
	}
}
