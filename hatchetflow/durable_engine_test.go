package hatchetflow_test

import (
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// NapIn is the durable task's input.
type NapIn struct {
	OrderID string `json:"order_id"`
	SleepMS int    `json:"sleep_ms"`
}

// NapOut is the durable task's result.
type NapOut struct {
	OrderID string        `json:"order_id"`
	Slept   time.Duration `json:"slept"`
}

// NapDone is the durable task's success callback.
type NapDone struct {
	Result inject.ReturnValue[NapOut] `json:"mageflow_results"`
}

// A durable task registered with NewDurableTask sleeps durably (2 s) and is signed like
// any task: its success callback runs once with its result. A second durable task is
// evicted while it sleeps (eviction TTL 1 s) and restored, so its function runs again
// from the start: the replay is admitted as the same attempt, the child it signed and
// ran before the sleep runs once, and its callback once.
func TestEngineDurableTask(t *testing.T) {
	_, c, _, _ := newSwarmClient(t, "hfdurable-", &swarmFlow{})
	var mu sync.Mutex
	calls := map[string]int{}
	done := map[string]NapOut{}
	count := func(k string) {
		mu.Lock()
		defer mu.Unlock()
		calls[k]++
	}
	nap := func(ctx hatchet.DurableContext, in NapIn) (NapOut, error) {
		count("nap:" + in.OrderID)
		h, err := dsl.Sign("hf-nap-child").Run(ctx.GetContext(), c.InTask(ctx), NapIn{OrderID: in.OrderID})
		if err != nil {
			return NapOut{}, err
		}
		mu.Lock()
		calls["child-id:"+in.OrderID+":"+h.SignatureID()]++
		mu.Unlock()
		start := time.Now()
		if _, err := ctx.SleepFor(time.Duration(in.SleepMS) * time.Millisecond); err != nil {
			return NapOut{}, err
		}
		return NapOut{OrderID: in.OrderID, Slept: time.Since(start)}, nil
	}
	_, err := hatchetflow.NewDurableTask(c, "hf-nap", nap, hatchetflow.WithExecutionTimeout(time.Minute))
	must(t, err)
	_, err = hatchetflow.NewDurableTask(c, "hf-nap-evicted", nap, hatchetflow.WithExecutionTimeout(time.Minute),
		hatchetflow.WithHatchetTaskOptions(hatchet.WithEvictionPolicy(&hatchet.EvictionPolicy{TTL: time.Second, AllowCapacityEviction: true})))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-nap-child", func(_ hatchet.Context, in NapIn) (any, error) {
		count("child:" + in.OrderID)
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-nap-done", func(_ hatchet.Context, in NapDone) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls["done:"+in.Result.Value.OrderID]++
		done[in.Result.Value.OrderID] = in.Result.Value
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "nap-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	for _, run := range []struct{ task, order string }{{"hf-nap", "n1"}, {"hf-nap-evicted", "n2"}} {
		start := time.Now()
		h, err := dsl.Sign(run.task).OnSuccess(dsl.Sign("hf-nap-done")).Run(ctx, c, NapIn{OrderID: run.order, SleepMS: 2000})
		must(t, err)
		out, err := hatchetflow.WaitResult[NapOut](ctx, h)
		if err != nil {
			t.Fatalf("%s: %v", run.task, err)
		}
		took := time.Since(start)
		if took < 2*time.Second || out.OrderID != run.order {
			t.Errorf("%s: result %+v after %v, want order %s after 2 s or more", run.task, out, took, run.order)
		}
		waitFor(ctx, t, "callback of "+run.order, func() bool { mu.Lock(); defer mu.Unlock(); return calls["done:"+run.order] > 0 })
		t.Logf("%s: Run → Wait %v (the function ran %d times)", run.task, took.Round(time.Millisecond), calls["nap:"+run.order])
	}
	time.Sleep(2 * time.Second) // a duplicate would have run by now
	mu.Lock()
	defer mu.Unlock()
	for _, o := range []string{"n1", "n2"} {
		if calls["done:"+o] != 1 || calls["child:"+o] != 1 {
			t.Errorf("%s: callback ran %d times, child %d; want 1 each (all: %v)", o, calls["done:"+o], calls["child:"+o], calls)
		}
		ids := 0
		for k := range calls {
			if len(k) > len("child-id:"+o+":") && k[:len("child-id:"+o+":")] == "child-id:"+o+":" {
				ids++
			}
		}
		if ids != 1 {
			t.Errorf("%s: the function signed %d different child ids, want 1", o, ids)
		}
	}
}
