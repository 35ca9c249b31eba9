package flowtest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/testing/flowtest"
)

// recorder collects what task functions observe, safely across the harness's
// goroutines.
type recorder struct {
	mu    sync.Mutex
	tries map[string][]int // task -> ctx.RetryCount() of each call
}

func newRecorder() *recorder { return &recorder{tries: map[string][]int{}} }

func (r *recorder) saw(task string, ctx hatchet.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries[task] = append(r.tries[task], ctx.RetryCount())
}

// calls returns the RetryCount of every call of task's function, in order.
func (r *recorder) calls(task string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int{}, r.tries[task]...)
}

// register adds a task that records its calls, then returns fn's result.
func register(t *testing.T, h *flowtest.Harness, rec *recorder, name string,
	fn func(ctx hatchet.Context, in map[string]any) (any, error), opts ...hatchetflow.TaskOption) {
	t.Helper()
	if fn == nil {
		fn = func(_ hatchet.Context, in map[string]any) (any, error) { return in, nil }
	}
	_, err := hatchetflow.NewTask(h.Client, name, func(ctx hatchet.Context, in map[string]any) (any, error) {
		rec.saw(name, ctx)
		return fn(ctx, in)
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
}

// quietLogs drops the client's own log lines (expected warnings, here).
var quietLogs = hatchetflow.WithLogger(slog.New(slog.DiscardHandler))

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func onlyRun(t *testing.T, h *flowtest.Harness, task string) *flowtest.Run {
	t.Helper()
	runs := h.Runs(task)
	if len(runs) != 1 {
		t.Fatalf("%d runs of %q, want 1", len(runs), task)
	}
	return runs[0]
}

func TestRetryCountRunsFromZero(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	h.ExpectFailure("flaky")
	rec := newRecorder()
	register(t, h, rec, "flaky", func(hatchet.Context, map[string]any) (any, error) {
		return nil, errors.New("down")
	}, hatchetflow.WithRetries(3))
	register(t, h, rec, "report", nil)
	ctx := context.Background()
	hd, err := dsl.Sign("flaky").OnError(dsl.Sign("report")).Run(ctx, h.Client, nil)
	noErr(t, err)
	h.Drain(ctx)

	equal(t, "RetryCount of each call", rec.calls("flaky"), []int{0, 1, 2, 3})
	run := onlyRun(t, h, "flaky")
	equal(t, "Attempts", run.Attempts, 4)
	equal(t, "Errors", run.Errors, []string{"down", "down", "down", "down"})
	equal(t, "Status", run.Status, flowtest.StatusFailed)
	equal(t, "OnFailureRan", run.OnFailureRan, false) // no on-failure step: the last attempt ends it
	sig, err := h.Client.Signature(ctx, hd.SignatureID())
	noErr(t, err)
	equal(t, "signature attempt (1-based)", sig.Attempt, 4)
	equal(t, "error callback calls", rec.calls("report"), []int{0})
}

func TestNonRetryableStopsRetries(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	h.ExpectFailure("charge")
	rec := newRecorder()
	register(t, h, rec, "charge", func(ctx hatchet.Context, _ map[string]any) (any, error) {
		if ctx.RetryCount() == 0 {
			return nil, errors.New("timeout talking to bank")
		}
		return nil, hatchetflow.NonRetryable(errors.New("card declined"))
	}, hatchetflow.WithRetries(5))
	register(t, h, rec, "report", nil)
	ctx := context.Background()
	_, err := dsl.Sign("charge").OnError(dsl.Sign("report")).Run(ctx, h.Client, nil)
	noErr(t, err)
	h.Drain(ctx)

	equal(t, "RetryCount of each call", rec.calls("charge"), []int{0, 1})
	run := onlyRun(t, h, "charge")
	equal(t, "Attempts", run.Attempts, 2)
	equal(t, "Errors", run.Errors, []string{"timeout talking to bank", "card declined"})
	equal(t, "Status", run.Status, flowtest.StatusFailed)
	equal(t, "error callback calls", rec.calls("report"), []int{0})
}

func TestInjectHitsOneAttemptOfEveryRun(t *testing.T) {
	cases := []struct {
		name  string
		fault flowtest.Fault
		opts  []hatchetflow.TaskOption
		want  string
	}{
		{"fail", flowtest.Fail(errors.New("injected")), nil, "injected"},
		{"panic", flowtest.Panic("boom"), nil, "panic: boom"},
		{"timeout", flowtest.Timeout(), nil, "Task exceeded timeout of 60s"},
		{"timeout with execution timeout", flowtest.Timeout(),
			[]hatchetflow.TaskOption{hatchetflow.WithExecutionTimeout(5 * time.Second)}, "Task exceeded timeout of 5s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := flowtest.New(t)
			h.Quiet()
			rec := newRecorder()
			// Attempt 0 fails on its own, attempt 1 meets the fault, attempt 2 succeeds.
			register(t, h, rec, "charge", func(ctx hatchet.Context, in map[string]any) (any, error) {
				if ctx.RetryCount() == 0 {
					return nil, errors.New("natural")
				}
				return in["n"], nil
			}, append(tc.opts, hatchetflow.WithRetries(2))...)
			register(t, h, rec, "other", nil, hatchetflow.WithRetries(2))
			register(t, h, rec, "receipt", nil)
			register(t, h, rec, "report", nil)
			h.Inject("charge", 1, tc.fault)
			ctx := context.Background()
			for n := 1; n <= 2; n++ {
				_, err := dsl.Sign("charge").OnSuccess(dsl.Sign("receipt")).OnError(dsl.Sign("report")).
					Run(ctx, h.Client, map[string]any{"n": n})
				noErr(t, err)
			}
			_, err := dsl.Sign("other").Run(ctx, h.Client, nil)
			noErr(t, err)
			h.Drain(ctx)

			// The fault replaced attempt 1 of both runs, and nothing else.
			equal(t, "charge calls (RetryCount)", rec.calls("charge"), []int{0, 2, 0, 2})
			for i, run := range h.Runs("charge") {
				equal(t, fmt.Sprintf("run %d Errors", i), run.Errors, []string{"natural", tc.want})
				equal(t, fmt.Sprintf("run %d Status", i), run.Status, flowtest.StatusCompleted)
				equal(t, fmt.Sprintf("run %d result", i), string(run.Result), fmt.Sprint(i+1))
			}
			equal(t, "other task calls", rec.calls("other"), []int{0})
			equal(t, "success callbacks", len(rec.calls("receipt")), 2)
			equal(t, "error callbacks", len(rec.calls("report")), 0)
		})
	}
}

// TestExecutionTimeout waits for a real timeout (200 ms: the harness, unlike the
// engine, honours sub-second timeouts).
func TestExecutionTimeout(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	h.ExpectFailure("stuck")
	rec := newRecorder()
	register(t, h, rec, "stuck", func(ctx hatchet.Context, _ map[string]any) (any, error) {
		<-ctx.Done()
		return "too late", ctx.Err()
	}, hatchetflow.WithExecutionTimeout(200*time.Millisecond))
	register(t, h, rec, "report", nil)
	ctx := context.Background()
	hd, err := dsl.Sign("stuck").OnError(dsl.Sign("report")).Run(ctx, h.Client, map[string]any{"job": 7})
	noErr(t, err)

	_, err = hd.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) || re.Message != "Task exceeded timeout of 200ms" {
		t.Fatalf("Wait error = %v, want a RunError with the engine's timeout text", err)
	}
	h.Drain(ctx)
	run := onlyRun(t, h, "stuck")
	equal(t, "Attempts", run.Attempts, 1)
	equal(t, "Errors", run.Errors, []string{"Task exceeded timeout of 200ms"})
	equal(t, "Status", run.Status, flowtest.StatusFailed)
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusFailed)
	h.RequireDispatched(t, "report", &flowtest.Match{Exact: true, Input: map[string]any{"job": 7}})
}

func TestStepRunsExactlyOneRun(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	rec := newRecorder()
	for _, name := range []string{"parent", "child", "plain"} {
		register(t, h, rec, name, nil)
	}
	ctx := context.Background()
	_, err := dsl.Sign("parent").OnSuccess(dsl.Sign("child")).Run(ctx, h.Client, nil)
	noErr(t, err)
	_, err = h.Dispatch(ctx, "plain", nil, nil)
	noErr(t, err)
	equal(t, "queued at start", h.Queued(), 2)

	equal(t, "child runs before the parent ran", len(h.Runs("child")), 0)

	// Each Step runs the oldest queued run; a callback joins the back of the queue.
	const q, done = flowtest.StatusQueued, flowtest.StatusCompleted
	steps := []struct {
		ran    string
		queued int
		status map[string]flowtest.Status
	}{
		{"parent", 2, map[string]flowtest.Status{"parent": done, "plain": q, "child": q}},
		{"plain", 1, map[string]flowtest.Status{"parent": done, "plain": done, "child": q}},
		{"child", 0, map[string]flowtest.Status{"parent": done, "plain": done, "child": done}},
	}
	for i, s := range steps {
		if !h.Step(ctx) {
			t.Fatalf("step %d: Step found no run", i)
		}
		equal(t, fmt.Sprintf("step %d: queued", i), h.Queued(), s.queued)
		for task, want := range s.status {
			equal(t, fmt.Sprintf("step %d: status of %s", i, task), onlyRun(t, h, task).Status, want)
			calls := 0
			if want == done {
				calls = 1
			}
			equal(t, fmt.Sprintf("step %d: calls of %s", i, task), len(rec.calls(task)), calls)
		}
	}
	if h.Step(ctx) {
		t.Fatal("Step reported a run on an empty queue")
	}
}

func TestDrainRunsCallbacksOfCallbacks(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	rec := newRecorder()
	for _, name := range []string{"a", "b", "c", "never"} {
		register(t, h, rec, name, nil)
	}
	ctx := context.Background()
	hd, err := dsl.Sign("a").With(dsl.KW{"level": 1}).
		OnSuccess(dsl.Sign("b").With(dsl.KW{"level": 2}).
			OnSuccess(dsl.Sign("c").With(dsl.KW{"level": 3}))).
		OnError(dsl.Sign("never")).
		Run(ctx, h.Client, nil)
	noErr(t, err)
	h.Drain(ctx)

	equal(t, "queued after Drain", h.Queued(), 0)
	for _, name := range []string{"a", "b", "c"} {
		run := onlyRun(t, h, name)
		equal(t, name+" status", run.Status, flowtest.StatusCompleted)
		h.RequireStatus(t, run.SignatureID(), hatchetflow.StatusDone)
	}
	equal(t, "error callback runs", len(h.Runs("never")), 0)
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)
	// c got b's return value, which holds a's.
	h.RequireReceived(t, "c", &flowtest.Match{Input: map[string]any{"level": 3,
		"mageflow_results": map[string]any{"level": 2, "mageflow_results": map[string]any{"level": 1}}}})
}

func TestDispatchOfUnregisteredTaskFails(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	register(t, h, newRecorder(), "known", nil)
	ctx := context.Background()
	if _, err := h.Dispatch(ctx, "ghost", map[string]any{"x": 1}, nil); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("Dispatch error = %v, want one naming the task", err)
	}
	// A signature with a validator may name a task no worker registered; running it
	// fails at dispatch, as on an engine that does not know the workflow.
	_, err := dsl.Sign("ghost").Validate(map[string]any{}).Run(ctx, h.Client, nil)
	if err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("Run error = %v, want one naming the task", err)
	}
	equal(t, "queued", h.Queued(), 0)
	equal(t, "runs", len(h.Runs("")), 0)
}

func TestRunsReturnsSnapshots(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	rec := newRecorder()
	register(t, h, rec, "job", func(ctx hatchet.Context, in map[string]any) (any, error) {
		if ctx.RetryCount() == 0 {
			return nil, errors.New("once")
		}
		return map[string]any{"total": 3}, nil
	}, hatchetflow.WithRetries(1))
	ctx := context.Background()
	_, err := dsl.Sign("job").With(dsl.KW{"bound": true}).
		Run(ctx, h.Client, map[string]any{"nested": map[string]any{"k": 1}})
	noErr(t, err)
	queued := onlyRun(t, h, "job")
	h.Drain(ctx)
	equal(t, "status of a snapshot taken before Drain", queued.Status, flowtest.StatusQueued)

	s := onlyRun(t, h, "job")
	s.Input["nested"].(map[string]any)["k"] = 2
	s.Input["added"] = true
	s.Received["bound"] = false
	s.Meta[engine.MetaSignature] = "changed"
	s.Errors[0] = "changed"
	s.Result[0] = 'X'
	s.Status, s.Attempts = flowtest.StatusFailed, 99

	got := onlyRun(t, h, "job")
	equal(t, "Input", got.Input, map[string]any{"nested": map[string]any{"k": float64(1)}})
	equal(t, "Received[bound]", got.Received["bound"], any(true))
	equal(t, "SignatureID", got.SignatureID() != "changed" && got.SignatureID() != "", true)
	equal(t, "Errors", got.Errors, []string{"once"})
	equal(t, "Result", string(got.Result), `{"total":3}`)
	equal(t, "Status", got.Status, flowtest.StatusCompleted)
	equal(t, "Attempts", got.Attempts, 2)
}

func TestFastForwardExpiresSignatures(t *testing.T) {
	t.Run("done TTL", func(t *testing.T) {
		h := flowtest.New(t, hatchetflow.WithDoneTTL(time.Hour))
		h.Quiet()
		register(t, h, newRecorder(), "job", nil)
		register(t, h, newRecorder(), "report", nil)
		ctx := context.Background()
		hd, err := dsl.Sign("job").OnError(dsl.Sign("report")).Run(ctx, h.Client, nil)
		noErr(t, err)
		h.Drain(ctx)
		sig, err := h.Client.Signature(ctx, hd.SignatureID())
		noErr(t, err)
		dead := sig.OnError[0].ID // the branch that will never run

		h.FastForward(59 * time.Minute)
		for _, id := range []string{hd.SignatureID(), dead} {
			if _, err := h.Client.Signature(ctx, id); err != nil {
				t.Fatalf("signature %s gone before its done TTL: %v", id, err)
			}
		}
		h.FastForward(2 * time.Minute)
		for _, id := range []string{hd.SignatureID(), dead} {
			if _, err := h.Client.Signature(ctx, id); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
				t.Fatalf("signature %s after its done TTL: err = %v, want ErrSignatureNotFound", id, err)
			}
		}
	})
	t.Run("active TTL of a queued run", func(t *testing.T) {
		h := flowtest.New(t, hatchetflow.WithActiveTTL(time.Hour), quietLogs)
		h.Quiet()
		rec := newRecorder()
		register(t, h, rec, "job", nil, hatchetflow.WithRetries(2))
		h.ExpectFailure("job")
		ctx := context.Background()
		_, err := dsl.Sign("job").Run(ctx, h.Client, nil)
		noErr(t, err)
		h.FastForward(2 * time.Hour)
		h.Drain(ctx)
		run := onlyRun(t, h, "job")
		equal(t, "user function calls", len(rec.calls("job")), 0)
		equal(t, "Attempts (not found is not retried)", run.Attempts, 1)
		if run.Status != flowtest.StatusFailed || !strings.Contains(run.Errors[0], "not found") {
			t.Fatalf("run of an expired signature: status %s, errors %q", run.Status, run.Errors)
		}
	})
}

func TestWaitHonoursCancelledContext(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	rec := newRecorder()
	register(t, h, rec, "job", func(hatchet.Context, map[string]any) (any, error) { return 5, nil })
	ctx := context.Background()
	hd, err := dsl.Sign("job").Run(ctx, h.Client, nil)
	noErr(t, err)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := hd.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
	equal(t, "queued after the cancelled Wait", h.Queued(), 1)
	equal(t, "calls after the cancelled Wait", len(rec.calls("job")), 0)

	got, err := hatchetflow.WaitResult[int](ctx, hd)
	noErr(t, err)
	equal(t, "result", got, 5)
	if _, err := h.Wait(ctx, "no-such-run", "job"); err == nil {
		t.Fatal("Wait for an unknown run succeeded")
	}
}
