package enginetest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/internal/enginetest"
)

type echoIn struct {
	Msg string `json:"msg"`
}

type echoOut struct {
	Echo string `json:"echo"`
}

// TestSmokeStandaloneTask proves the stack end to end: a worker registers a standalone task,
// triggers are answered with results, and the trigger→result latency is logged.
func TestSmokeStandaloneTask(t *testing.T) {
	c := enginetest.Client(t)
	task := c.NewStandaloneTask("smoke-echo", func(_ hatchet.Context, in echoIn) (echoOut, error) {
		return echoOut{Echo: "echo: " + in.Msg}, nil
	}, hatchet.WithExecutionTimeout(10*time.Second))
	enginetest.StartWorker(t, c, "smoke-echo-worker", task)

	// The first run after an engine (re)start can take much longer than later ones (see
	// docs/stack.md); give every run its own deadline rather than one for the whole test.
	run := func(i int, d time.Duration) time.Duration {
		t.Helper()
		ctx := enginetest.Context(t, d)
		msg := fmt.Sprintf("hi %d", i)
		start := time.Now()
		ref, err := enginetest.Wait(ctx, func() (*hatchet.WorkflowRunRef, error) {
			return task.RunNoWait(ctx, echoIn{Msg: msg})
		})
		if err != nil {
			t.Fatalf("run %d: trigger: %v", i, err)
		}
		res, err := enginetest.Result(ctx, ref)
		if err != nil {
			t.Fatalf("run %d (%s): result: %v", i, ref.RunId, err)
		}
		took := time.Since(start)
		var out echoOut
		if err := res.TaskOutput("smoke-echo").Into(&out); err != nil {
			t.Fatalf("run %d: decode output: %v", i, err)
		}
		if want := "echo: " + msg; out.Echo != want {
			t.Fatalf("run %d: output %q, want %q", i, out.Echo, want)
		}
		return took
	}

	first := run(0, 2*time.Minute)
	t.Logf("first trigger→result (worker just registered): %v", first.Round(time.Millisecond))

	const n = 10
	lat := make([]time.Duration, 0, n)
	for i := 1; i <= n; i++ {
		lat = append(lat, run(i, 30*time.Second))
	}
	slices.Sort(lat)
	t.Logf("trigger→result over %d sequential runs: min %v, median %v, max %v",
		n, lat[0].Round(time.Millisecond), lat[n/2].Round(time.Millisecond), lat[n-1].Round(time.Millisecond))
}

type failureSeen struct {
	input  map[string]any
	errors map[string]string
}

// TestSmokeOnFailure proves that a failing task fails its run and that the workflow's OnFailure
// handler runs with the original input and the failed task's error in StepRunErrors.
func TestSmokeOnFailure(t *testing.T) {
	c := enginetest.Client(t)
	wf := c.NewWorkflow("smoke-fail")
	wf.NewTask("boom", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		return nil, fmt.Errorf("boom for %v", in["id"])
	}, hatchet.WithRetries(0), hatchet.WithExecutionTimeout(10*time.Second))

	seen := make(chan failureSeen, 1)
	var once sync.Once
	// OnFailure must take map[string]any: a typed input would fail to decode on bad input too.
	wf.OnFailure(func(ctx hatchet.Context, in map[string]any) (map[string]any, error) {
		once.Do(func() { seen <- failureSeen{input: in, errors: ctx.StepRunErrors()} })
		return map[string]any{"handled": true}, nil
	})
	enginetest.StartWorker(t, c, "smoke-fail-worker", wf)

	ctx := enginetest.Context(t, 2*time.Minute)
	start := time.Now()
	ref, err := enginetest.Wait(ctx, func() (*hatchet.WorkflowRunRef, error) {
		return wf.RunNoWait(ctx, map[string]any{"id": "order-42"})
	})
	if err != nil {
		t.Fatalf("trigger: %v", err)
	}
	_, err = enginetest.Result(ctx, ref)
	if err == nil {
		t.Fatalf("run %s succeeded, want the task's error", ref.RunId)
	}
	if errors.Is(err, ctx.Err()) && ctx.Err() != nil {
		t.Fatalf("run %s: %v", ref.RunId, err)
	}
	if !strings.Contains(err.Error(), "boom for order-42") {
		t.Fatalf("run error %q does not carry the task's message", err)
	}
	t.Logf("trigger→failed result: %v (error %q)", time.Since(start).Round(time.Millisecond), err)

	select {
	case got := <-seen:
		t.Logf("trigger→OnFailure seen: %v", time.Since(start).Round(time.Millisecond))
		if got.input["id"] != "order-42" {
			t.Errorf("OnFailure input = %v, want the original input {id: order-42}", got.input)
		}
		msg, ok := got.errors["boom"]
		if !ok {
			t.Fatalf("StepRunErrors = %v, want an entry for task \"boom\"", got.errors)
		}
		if !strings.Contains(msg, "boom for order-42") {
			t.Errorf("StepRunErrors[boom] = %q, want the task's error text", msg)
		}
	case <-ctx.Done():
		t.Fatalf("OnFailure handler did not run: %v", ctx.Err())
	}
}
