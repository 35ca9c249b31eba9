package flowtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type pipeIn struct {
	OrderID string `json:"order_id"`
	Tenant  string `json:"tenant"`
	Fail    bool   `json:"fail"`
}

type pipeRows struct {
	Rows int `json:"rows"`
}

type pipeResult struct {
	Load   *pipeRows `json:"load"`
	Notify *pipeRows `json:"notify"`
}

type pipeDone struct {
	Result inject.ReturnValue[pipeResult] `json:"mageflow_results"`
}

type pipeFailed struct {
	pipeIn
	Failure *inject.TaskError `json:"error"`
}

// buildPipeline is a workflow as an application builds it: extract, then transform
// and notify after it, then load after transform (load fails on request).
func buildPipeline(hc *hatchet.Client, rec *recorder) *hatchet.Workflow {
	wf := hc.NewWorkflow("pipeline")
	extract := wf.NewTask("extract", func(ctx hatchet.Context, in pipeIn) (pipeRows, error) {
		rec.saw("extract:"+in.Tenant, ctx)
		return pipeRows{Rows: 2}, nil
	})
	transform := wf.NewTask("transform", func(ctx hatchet.Context, in pipeIn) (pipeRows, error) {
		rec.saw("transform", ctx)
		var got pipeRows
		if err := ctx.ParentOutput(extract, &got); err != nil {
			return pipeRows{}, err
		}
		if ctx.RetryCount() == 0 {
			return pipeRows{}, errors.New("transform's first attempt fails")
		}
		return pipeRows{Rows: got.Rows * 10}, nil
	}, hatchet.WithParents(extract), hatchet.WithRetries(1))
	wf.NewTask("notify", func(ctx hatchet.Context, in pipeIn) (pipeRows, error) {
		rec.saw("notify", ctx)
		return pipeRows{Rows: 1}, nil
	}, hatchet.WithParents(extract))
	wf.NewTask("load", func(ctx hatchet.Context, in pipeIn) (pipeRows, error) {
		rec.saw("load", ctx)
		if in.Fail {
			return pipeRows{}, errors.New("warehouse down")
		}
		var got pipeRows
		err := ctx.ParentOutput(transform, &got)
		return got, err
	}, hatchet.WithParents(transform))
	return wf
}

// The harness runs a workflow of several tasks in memory as the engine does: each task
// after its parents with their outputs, retries included; the signature's success
// callbacks get the final tasks' outputs by name, its error callbacks the failed task.
func TestWorkflowRunsInMemory(t *testing.T) {
	h := flowtest.New(t)
	rec := newRecorder()
	pipe, err := hatchetflow.RegisterWorkflow[pipeIn, pipeResult](h.Client, buildPipeline(h.Hatchet(), rec))
	if err != nil {
		t.Fatal(err)
	}
	var done []pipeResult
	var failed []pipeFailed
	if _, err := hatchetflow.NewTask(h.Client, "pipe-done", func(_ hatchet.Context, in pipeDone) (any, error) {
		done = append(done, in.Result.Value)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(h.Client, "pipe-failed", func(_ hatchet.Context, in pipeFailed) (any, error) {
		failed = append(failed, in)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sig := dsl.Sign(pipe).With(dsl.KW{"tenant": "acme"}).OnSuccess(dsl.Sign("pipe-done")).OnError(dsl.Sign("pipe-failed"))
	hd, err := sig.Run(ctx, h.Client, pipeIn{OrderID: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := hatchetflow.WaitResult[pipeResult](ctx, hd)
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	if got.Load == nil || got.Load.Rows != 20 || got.Notify == nil || got.Notify.Rows != 1 {
		t.Fatalf("result %+v, want load 20 rows and notify 1", got)
	}
	if len(done) != 1 || done[0].Load == nil || done[0].Load.Rows != 20 {
		t.Fatalf("success callback got %+v, want one with load 20 rows", done)
	}
	if n := len(rec.calls("extract:acme")); n != 1 {
		t.Errorf("extract ran %d times with the bound tenant, want 1", n)
	}
	if tries := rec.calls("transform"); len(tries) != 2 {
		t.Errorf("transform attempts %v, want 2 (one retry)", tries)
	}
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)

	h.ExpectFailure("pipeline")
	hf, err := sig.Run(ctx, h.Client, pipeIn{OrderID: "o2", Fail: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hf.Wait(ctx); err == nil {
		t.Fatal("Wait of a failing workflow returned no error")
	}
	h.Drain(ctx)
	if len(failed) != 1 || failed[0].Failure == nil || failed[0].Failure.Step != "load" ||
		failed[0].Failure.Message != "warehouse down" || failed[0].OrderID != "o2" || failed[0].Tenant != "acme" {
		t.Fatalf("error callbacks got %+v, want one naming step load with the original input", failed)
	}
	h.RequireStatus(t, hf.SignatureID(), hatchetflow.StatusFailed)
	if len(done) != 1 {
		t.Errorf("success callback ran %d times, want 1", len(done))
	}
}

// A workflow task with a condition is the engine's to evaluate: the harness fails the
// run, saying so, and the error callback runs.
func TestWorkflowWithConditionFailsInMemory(t *testing.T) {
	h := flowtest.New(t, quietLogs)
	wf := h.Hatchet().NewWorkflow("conditional")
	first := wf.NewTask("first", func(hatchet.Context, pipeIn) (pipeRows, error) { return pipeRows{Rows: 1}, nil })
	wf.NewTask("maybe", func(hatchet.Context, pipeIn) (pipeRows, error) { return pipeRows{}, nil },
		hatchet.WithParents(first), hatchet.WithSkipIf(hatchet.ParentCondition(first, "output.rows > 0")))
	if _, err := hatchetflow.RegisterWorkflow[pipeIn, map[string]any](h.Client, wf); err != nil {
		t.Fatal(err)
	}
	h.ExpectFailure("conditional")
	hd, err := dsl.Sign("conditional").Run(context.Background(), h.Client, pipeIn{OrderID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hd.Wait(context.Background())
	var re *hatchetflow.RunError
	if !errors.As(err, &re) {
		t.Fatalf("Wait = %v, want a *RunError", err)
	}
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusFailed)
}

// A durable task runs in the harness: its durable sleep returns at once, and it is
// signed and called back like any task.
func TestDurableTaskInMemory(t *testing.T) {
	h := flowtest.New(t)
	_, err := hatchetflow.NewDurableTask(h.Client, "nap", func(ctx hatchet.DurableContext, in pipeIn) (pipeRows, error) {
		if _, err := ctx.SleepFor(time.Hour); err != nil {
			return pipeRows{}, err
		}
		return pipeRows{Rows: len(in.OrderID)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	if _, err := hatchetflow.NewTask(h.Client, "nap-done", func(_ hatchet.Context, in struct {
		R inject.ReturnValue[pipeRows] `json:"mageflow_results"`
	}) (any, error) {
		got = append(got, in.R.Value.Rows)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hd, err := dsl.Sign("nap").OnSuccess(dsl.Sign("nap-done")).Run(ctx, h.Client, pipeIn{OrderID: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	if len(got) != 1 || got[0] != 3 {
		t.Fatalf("callback got %v, want [3]", got)
	}
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)
}
