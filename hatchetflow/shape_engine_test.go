package hatchetflow_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// In both engine shapes a failing task's error callbacks run once with the original
// message. Logs, per shape, the time from the failing attempt's return (the engine's
// verdict follows it) to the error callback's start: the lean shape dispatches them
// from the attempt itself, the on-failure step after the engine ran that step.
func TestEngineErrorPathInBothShapes(t *testing.T) {
	_, c, _, _ := newSwarmClient(t, "hfshape-", &swarmFlow{})
	var mu sync.Mutex
	returned, called := map[string]time.Time{}, map[string]time.Time{}
	calls := map[string]int{}
	fail := func(_ hatchet.Context, in Order) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		returned[in.OrderID] = time.Now()
		return nil, hatchetflow.NonRetryable(errors.New("refused " + in.OrderID))
	}
	_, err := hatchetflow.NewTask(c, "shape-lean", fail)
	must(t, err)
	_, err = hatchetflow.NewTask(c, "shape-step", fail, hatchetflow.WithOnFailureStep())
	must(t, err)
	_, err = hatchetflow.NewTask(c, "shape-err", func(_ hatchet.Context, in ErrorMessage) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[in.OrderID]++
		called[in.OrderID] = time.Now()
		if in.Failure == nil || in.Failure.Message != "refused "+in.OrderID {
			return nil, fmt.Errorf("error callback of %s got failure %+v", in.OrderID, in.Failure)
		}
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 2*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "shape-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	const n = 8
	for _, task := range []string{"shape-lean", "shape-step"} {
		var ids []string
		for i := range n {
			id := fmt.Sprintf("%s-%d", task, i)
			ids = append(ids, id)
			h, err := dsl.Sign(task).OnError(dsl.Sign("shape-err")).Run(ctx, c, Order{OrderID: id})
			must(t, err)
			if _, err := h.Wait(ctx); err == nil {
				t.Fatalf("%s: Wait returned no error", id)
			}
			time.Sleep(50 * time.Millisecond) // one at a time: latency, not throughput
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			done := true
			for _, id := range ids {
				done = done && calls[id] > 0
			}
			mu.Unlock()
			if done || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // room for a duplicate
		mu.Lock()
		var lat []time.Duration
		for _, id := range ids {
			if calls[id] != 1 {
				t.Errorf("%s: error callback ran %d times, want 1", id, calls[id])
				continue
			}
			lat = append(lat, called[id].Sub(returned[id]))
		}
		mu.Unlock()
		slices.Sort(lat)
		if len(lat) > 0 {
			t.Logf("%s: failing attempt returned -> error callback started: min %v, median %v, max %v (%d runs)", task,
				lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))
		}
	}
}

// StrIn receives a string return value.
type StrIn struct {
	V inject.ReturnValue[string] `json:"v"`
}

// In the lean shape a task's non-object return value travels raw: a plain Hatchet
// caller reads a string task's output as a string, and a signed run's Wait and success
// callback get the same string.
func TestEngineLeanOutputTravelsRaw(t *testing.T) {
	hc, c, _, _ := newSwarmClient(t, "hfraw-", &swarmFlow{})
	got := make(chan string, 1)
	_, err := hatchetflow.NewTask(c, "shape-str", func(_ hatchet.Context, in Order) (string, error) {
		return "label-" + in.OrderID, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "shape-str-cb", func(_ hatchet.Context, in StrIn) (any, error) {
		got <- in.V.Value
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "raw-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	res, err := hc.Run(ctx, "shape-str", Order{OrderID: "o-1"})
	must(t, err)
	var s string
	if err := res.TaskOutput("shape-str").Into(&s); err != nil || s != "label-o-1" {
		t.Fatalf("plain caller's TaskOutput.Into(&string) = %q, %v; want label-o-1", s, err)
	}
	h, err := dsl.Sign("shape-str").OnSuccess(dsl.Sign("shape-str-cb")).Run(ctx, c, Order{OrderID: "o-2"})
	must(t, err)
	out, err := hatchetflow.WaitResult[string](ctx, h)
	if err != nil || out != "label-o-2" {
		t.Fatalf("signed run's result = %q, %v; want label-o-2", out, err)
	}
	select {
	case v := <-got:
		if v != "label-o-2" {
			t.Fatalf("success callback got %q, want label-o-2", v)
		}
	case <-ctx.Done():
		t.Fatal("no success callback")
	}
}
