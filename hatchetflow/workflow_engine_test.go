package hatchetflow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/enginetest"
)

// DagIn is the input of the test pipeline: every task of the workflow receives it
// (with the signature's bound kwargs merged).
type DagIn struct {
	OrderID string `json:"order_id"`
	Tenant  string `json:"tenant"`
	Fail    bool   `json:"fail"`
}

// DagRows is the output of the pipeline's tasks.
type DagRows struct {
	Rows int `json:"rows"`
}

// DagResult is the pipeline's result: its final tasks' outputs by task name (audit is
// skipped, so absent).
type DagResult struct {
	Load  *DagRows `json:"load"`
	Audit *DagRows `json:"audit"`
}

// DagDone is the pipeline's success callback.
type DagDone struct {
	Result inject.ReturnValue[DagResult] `json:"mageflow_results"`
	Note   string                        `json:"note"`
}

// DagFailed is the pipeline's error callback.
type DagFailed struct {
	DagIn
	Failure *inject.TaskError `json:"error"`
}

// dagCalls counts, per order id, the pipeline's task calls and callbacks.
type dagCalls struct {
	mu     sync.Mutex
	calls  map[string]int
	done   map[string]DagDone
	failed map[string]DagFailed
}

func (d *dagCalls) count(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[key]++
}

func (d *dagCalls) get(key string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[key]
}

// newDAG builds a four-task pipeline: extract → transform → load, and audit (after
// extract, skipped when extract produced rows). load fails when the input says so.
func newDAG(hc *hatchet.Client, name string, d *dagCalls) *hatchet.Workflow {
	wf := hc.NewWorkflow(name)
	extract := wf.NewTask("extract", func(_ hatchet.Context, in DagIn) (DagRows, error) {
		d.count("extract:" + in.OrderID + ":" + in.Tenant)
		return DagRows{Rows: 3}, nil
	})
	transform := wf.NewTask("transform", func(ctx hatchet.Context, in DagIn) (DagRows, error) {
		d.count("transform:" + in.OrderID)
		var got DagRows
		if err := ctx.ParentOutput(extract, &got); err != nil {
			return DagRows{}, err
		}
		return DagRows{Rows: got.Rows * 2}, nil
	}, hatchet.WithParents(extract))
	wf.NewTask("audit", func(_ hatchet.Context, in DagIn) (DagRows, error) {
		d.count("audit:" + in.OrderID)
		return DagRows{Rows: -1}, nil
	}, hatchet.WithParents(extract), hatchet.WithSkipIf(hatchet.ParentCondition(extract, "output.rows > 0")))
	wf.NewTask("load", func(ctx hatchet.Context, in DagIn) (DagRows, error) {
		d.count("load:" + in.OrderID)
		if in.Fail {
			return DagRows{}, errors.New("warehouse refused " + in.OrderID)
		}
		var got DagRows
		if err := ctx.ParentOutput(transform, &got); err != nil {
			return DagRows{}, err
		}
		return DagRows{Rows: got.Rows}, nil
	}, hatchet.WithParents(transform))
	return wf
}

// A native DAG workflow registered through hatchetflow is signed like a task: bound
// kwargs reach every task, success callbacks get the final tasks' outputs by task
// name (a skipped branch left out, not a failure), error callbacks the original input
// and the failed task; Wait returns the workflow's result; it works as a chain step.
func TestEngineSignedDAG(t *testing.T) {
	hc, c, _, _ := newSwarmClient(t, "hfdag-", &swarmFlow{})
	d := &dagCalls{calls: map[string]int{}, done: map[string]DagDone{}, failed: map[string]DagFailed{}}
	name := "hf-dag-pipeline"
	pipeline, err := hatchetflow.RegisterWorkflow[DagIn, DagResult](c, newDAG(hc, name, d))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-dag-done", func(_ hatchet.Context, in DagDone) (any, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.calls["done:"+in.Note]++
		d.done[in.Note] = in
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-dag-failed", func(_ hatchet.Context, in DagFailed) (any, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.calls["failed:"+in.OrderID]++
		d.failed[in.OrderID] = in
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "dag-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	sign := func(note string) dsl.Builder {
		return dsl.Sign(pipeline).With(dsl.KW{"tenant": "acme"}).
			OnSuccess(dsl.Sign("hf-dag-done").With(dsl.KW{"note": note})).
			OnError(dsl.Sign("hf-dag-failed"))
	}

	// Success: Wait returns the result, the callback gets it typed.
	start := time.Now()
	h, err := sign("ok-1").Run(ctx, c, DagIn{OrderID: "ok-1"})
	must(t, err)
	got, err := hatchetflow.WaitResult[DagResult](ctx, h)
	must(t, err)
	hop := time.Since(start)
	if got.Load == nil || got.Load.Rows != 6 || got.Audit != nil {
		t.Fatalf("Wait = %+v, want load 6 rows and no audit (skipped)", got)
	}
	waitFor(ctx, t, "success callback", func() bool { return d.get("done:ok-1") > 0 })
	// Failure: the error callback names the failed task and has the original input.
	h2, err := sign("never").Run(ctx, c, DagIn{OrderID: "bad-1", Fail: true})
	must(t, err)
	_, err = h2.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) {
		t.Fatalf("Wait of the failing pipeline = %v, want a *RunError", err)
	}
	waitFor(ctx, t, "error callback", func() bool { return d.get("failed:bad-1") > 0 })
	// As a chain step: the pipeline's result reaches the next step.
	ch, err := dsl.Chain(dsl.Sign(pipeline).With(dsl.KW{"tenant": "acme"}), dsl.Sign("hf-dag-done").With(dsl.KW{"note": "chained"})).
		Run(ctx, c, DagIn{OrderID: "chain-1"})
	must(t, err)
	_, err = ch.Wait(ctx)
	must(t, err)
	waitFor(ctx, t, "chain's next step", func() bool { return d.get("done:chained") > 0 })
	time.Sleep(2 * time.Second) // anything that would run twice has run by now

	d.mu.Lock()
	defer d.mu.Unlock()
	for key, want := range map[string]int{
		"extract:ok-1:acme": 1, "transform:ok-1": 1, "load:ok-1": 1, "audit:ok-1": 0, "done:ok-1": 1,
		"extract:bad-1:acme": 1, "load:bad-1": 1, "failed:bad-1": 1, "done:never": 0,
		"extract:chain-1:acme": 1, "done:chained": 1,
	} {
		if d.calls[key] != want {
			t.Errorf("%s ran %d times, want %d (all: %v)", key, d.calls[key], want, d.calls)
		}
	}
	if r := d.done["ok-1"].Result.Value; r.Load == nil || r.Load.Rows != 6 || r.Audit != nil {
		t.Errorf("success callback got %+v, want load 6 rows and no audit", r)
	}
	if r := d.done["chained"].Result.Value; r.Load == nil || r.Load.Rows != 6 {
		t.Errorf("chain's next step got %+v, want load 6 rows", r)
	}
	f := d.failed["bad-1"]
	if f.Failure == nil || f.Failure.Step != "load" || f.Failure.Task != name || f.OrderID != "bad-1" || !f.Fail || f.Tenant != "acme" {
		t.Errorf("error callback got %+v (failure %+v), want step load of %s, the original input and kwargs", f, f.Failure, name)
	} else if want := "warehouse refused bad-1"; !strings.Contains(f.Failure.Message, want) {
		t.Errorf("error message %q, want it to contain %q", f.Failure.Message, want)
	}
	t.Logf("signed DAG (4 tasks + end): Run to Wait %v", hop)
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DagChildIn is the input of the child a pipeline task signs and runs.
type DagChildIn struct {
	OrderID string `json:"order_id"`
	From    string `json:"from"`
}

// A signed DAG works as a swarm item (each item's result in the swarm's list), and
// its tasks sign and run children through Client.InTask: a retried task's attempts get
// the same child signature, run once, and two tasks of one run get different ones.
func TestEngineDAGAsSwarmItemAndSigningInside(t *testing.T) {
	hc, c, _, _ := newSwarmClient(t, "hfdag2-", &swarmFlow{})
	var mu sync.Mutex
	childIDs := map[string]map[string]bool{} // "<order>/<task>" -> child signature ids seen
	childCalls := map[string]int{}
	var swarmResult []DagResult
	swarmDone := 0
	note := func(order, task, id string) {
		mu.Lock()
		defer mu.Unlock()
		k := order + "/" + task
		if childIDs[k] == nil {
			childIDs[k] = map[string]bool{}
		}
		childIDs[k][id] = true
	}
	wf := hc.NewWorkflow("hf-dag-signing")
	a := wf.NewTask("a", func(ctx hatchet.Context, in DagIn) (DagRows, error) {
		h, err := dsl.Sign("hf-dag-child").With(dsl.KW{"from": "a"}).Run(ctx.GetContext(), c.InTask(ctx), DagChildIn{OrderID: in.OrderID})
		if err != nil {
			return DagRows{}, err
		}
		note(in.OrderID, "a", h.SignatureID())
		if ctx.RetryCount() == 0 {
			return DagRows{}, errors.New("first attempt of a fails after signing")
		}
		return DagRows{Rows: 1}, nil
	}, hatchet.WithRetries(1))
	wf.NewTask("load", func(ctx hatchet.Context, in DagIn) (DagRows, error) {
		h, err := dsl.Sign("hf-dag-child").With(dsl.KW{"from": "load"}).Run(ctx.GetContext(), c.InTask(ctx), DagChildIn{OrderID: in.OrderID})
		if err != nil {
			return DagRows{}, err
		}
		note(in.OrderID, "load", h.SignatureID())
		return DagRows{Rows: len(in.OrderID)}, nil
	}, hatchet.WithParents(a))
	pipeline, err := hatchetflow.RegisterWorkflow[DagIn, DagResult](c, wf)
	must(t, err)
	_, err = hatchetflow.NewTask(c, "hf-dag-child", func(_ hatchet.Context, in DagChildIn) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		childCalls[in.OrderID+"/"+in.From]++
		return nil, nil
	})
	must(t, err)
	type swarmIn struct {
		Results inject.ReturnValue[[]DagResult] `json:"mageflow_results"`
	}
	_, err = hatchetflow.NewTask(c, "hf-dag-swarm-done", func(_ hatchet.Context, in swarmIn) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		swarmDone++
		swarmResult = in.Results.Value
		return nil, nil
	})
	must(t, err)
	ctx := enginetest.Context(t, 3*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "dag2-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })

	orders := []string{"s1", "s22", "s333"}
	var items []dsl.Spec
	for _, o := range orders {
		items = append(items, dsl.Sign(pipeline).With(dsl.KW{"order_id": o}))
	}
	h, err := dsl.Swarm(items...).OnSuccess(dsl.Sign("hf-dag-swarm-done")).Run(ctx, c, map[string]any{})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatalf("swarm of DAGs: %v", err)
	}
	waitFor(ctx, t, "swarm callback", func() bool { mu.Lock(); defer mu.Unlock(); return swarmDone > 0 })
	waitFor(ctx, t, "children", func() bool { mu.Lock(); defer mu.Unlock(); return len(childCalls) == 2*len(orders) })
	time.Sleep(2 * time.Second) // a duplicate child would have run by now

	mu.Lock()
	defer mu.Unlock()
	if swarmDone != 1 || len(swarmResult) != len(orders) {
		t.Fatalf("swarm callback ran %d times with %d results, want once with %d", swarmDone, len(swarmResult), len(orders))
	}
	for i, o := range orders {
		if r := swarmResult[i]; r.Load == nil || r.Load.Rows != len(o) {
			t.Errorf("item %d (%s): result %+v, want load %d rows", i, o, r, len(o))
		}
		ida, idl := childIDs[o+"/a"], childIDs[o+"/load"]
		if len(ida) != 1 || len(idl) != 1 {
			t.Errorf("%s: task a signed %d child ids over its two attempts, load %d; want 1 each", o, len(ida), len(idl))
		}
		for id := range ida {
			if idl[id] {
				t.Errorf("%s: tasks a and load got the same child signature %s", o, id)
			}
		}
		for _, from := range []string{"a", "load"} {
			if n := childCalls[o+"/"+from]; n != 1 {
				t.Errorf("child of %s signed by %s ran %d times, want 1", o, from, n)
			}
		}
	}
}
