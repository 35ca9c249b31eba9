package hatchetflow_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

func TestUpdateKwargsRefusesSignaturesThatAreNotPending(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	done, err := dsl.Sign("log-completion").Save(ctx, f.h.Client)
	must(t, err)
	_, err = done.Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	active, err := dsl.Sign("log-completion").Save(ctx, f.h.Client)
	must(t, err)
	_, _, err = f.h.Client.Store().Start(ctx, active.ID, "run-1", 1)
	must(t, err)
	for _, tc := range []struct {
		id     string
		status hatchetflow.Status
	}{{done.ID, hatchetflow.StatusDone}, {active.ID, hatchetflow.StatusActive}} {
		err := f.h.Client.UpdateKwargs(ctx, tc.id, dsl.KW{"level": "debug"})
		var np *hatchetflow.NotPendingError
		if !errors.Is(err, hatchetflow.ErrNotPending) || !errors.As(err, &np) || np.ID != tc.id || np.Status != tc.status {
			t.Fatalf("UpdateKwargs on a %s signature = %v", tc.status, err)
		}
		rec, err := f.h.Client.Signature(ctx, tc.id)
		must(t, err)
		if _, written := rec.Kwargs["level"]; written {
			t.Fatalf("a refused update wrote kwargs %v", rec.Kwargs)
		}
	}
}

func TestUpdateKwargsMeasuresTheWholeKwargs(t *testing.T) {
	f := newFlow(t, hatchetflow.WithMaxKwargsBytes(60))
	ctx := context.Background()
	stored := map[string]any{"level": strings.Repeat("a", 30)} // 42 bytes: under the limit
	saved, err := dsl.Sign("scalar").With(stored).Save(ctx, f.h.Client)
	must(t, err)
	// The update alone is small; with what is stored it is over the limit.
	merged, _ := json.Marshal(map[string]any{"level": stored["level"], "other": "bbbbbbbb"})
	err = f.h.Client.UpdateKwargs(ctx, saved.ID, dsl.KW{"other": "bbbbbbbb"})
	var tl *hatchetflow.KwargsTooLargeError
	if !errors.Is(err, hatchetflow.ErrKwargsTooLarge) || !errors.As(err, &tl) || tl.Size != len(merged) || tl.Limit != 60 {
		t.Fatalf("UpdateKwargs past the limit = %v (%+v); want size %d", err, tl, len(merged))
	}
	rec, err := f.h.Client.Signature(ctx, saved.ID)
	must(t, err)
	if len(rec.Kwargs) != 1 {
		t.Fatalf("a refused update wrote kwargs %v", rec.Kwargs)
	}
	// Replacing the big value with a small one keeps the total under: accepted.
	must(t, f.h.Client.UpdateKwargs(ctx, saved.ID, dsl.KW{"level": "b", "other": "bbbbbbbb"}))
}

func TestNewTaskRefusesInputsThatCannotHoldAnObject(t *testing.T) {
	h := flowtest.New(t)
	c := h.Client
	for name, err := range map[string]error{
		"string": register[string](c, "string"),
		"int":    register[int](c, "int"),
		"slice":  register[[]Order](c, "slice"),
		"bool":   register[*bool](c, "bool"),
	} {
		if !errors.Is(err, hatchetflow.ErrInputNotObject) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("NewTask with a %s input = %v, want ErrInputNotObject naming the task", name, err)
		}
	}
	for name, err := range map[string]error{
		"struct":  register[Order](c, "struct"),
		"pointer": register[*Order](c, "pointer"),
		"map":     register[map[string]any](c, "map"),
		"any":     register[any](c, "any"),
		"raw":     register[json.RawMessage](c, "raw"),
	} {
		if err != nil {
			t.Errorf("NewTask with a %s input = %v", name, err)
		}
	}
}

func register[I any](c *hatchetflow.Client, name string) error {
	_, err := hatchetflow.NewTask(c, name, func(hatchet.Context, I) (any, error) { return nil, nil })
	return err
}

func TestRetriesGivenTwiceMustAgree(t *testing.T) {
	h := flowtest.New(t)
	c := h.Client
	noop := func(hatchet.Context, Order) (any, error) { return nil, nil }
	_, err := hatchetflow.NewTask(c, "both", noop, hatchetflow.WithRetries(2),
		hatchetflow.WithHatchetTaskOptions(hatchet.WithRetries(5)))
	var ce *hatchetflow.ConflictingOptionError
	if !errors.Is(err, hatchetflow.ErrConflictingOptions) || !errors.As(err, &ce) || ce.Task != "both" || ce.Option != "retries" {
		t.Fatalf("NewTask with disagreeing retries = %v", err)
	}
	_, err = hatchetflow.NewTask(c, "timeouts", noop, hatchetflow.WithExecutionTimeout(time.Second),
		hatchetflow.WithHatchetTaskOptions(hatchet.WithExecutionTimeout(time.Minute)))
	if !errors.As(err, &ce) || ce.Option != "execution timeout" {
		t.Fatalf("NewTask with disagreeing timeouts = %v", err)
	}
	// Given only through the SDK's option, the value is the task's own: the harness
	// retries as the engine would.
	calls := 0
	_, err = hatchetflow.NewTask(c, "sdk-retries", func(hatchet.Context, Order) (any, error) {
		calls++
		return nil, errors.New("down")
	}, hatchetflow.WithHatchetTaskOptions(hatchet.WithRetries(3)))
	must(t, err)
	steps, _ := c.Steps("sdk-retries")
	if steps.Retries != 3 {
		t.Fatalf("Steps.Retries = %d, want 3 from hatchet.WithRetries", steps.Retries)
	}
	h.ExpectFailure("sdk-retries")
	ctx := context.Background()
	_, err = dsl.Sign("sdk-retries").Run(ctx, c, Order{OrderID: "r"})
	must(t, err)
	h.Drain(ctx)
	if calls != 4 {
		t.Fatalf("user function called %d times, want 4 (3 retries)", calls)
	}
	// Agreeing values are fine.
	_, err = hatchetflow.NewTask(c, "agree", noop, hatchetflow.WithRetries(1), hatchetflow.WithHatchetTaskOptions(hatchet.WithRetries(1)))
	must(t, err)
}

// offlineHatchet returns a Hatchet client for a token whose engine does not exist; it
// makes no connection until used.
func offlineHatchet(t *testing.T) *hatchet.Client {
	t.Helper()
	t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	claims, _ := json.Marshal(map[string]any{"sub": "707d0855-80ab-4e1f-a156-f1c4546cbf52",
		"server_url": "http://127.0.0.1:1", "grpc_broadcast_address": "127.0.0.1:1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	enc := base64.RawURLEncoding.EncodeToString
	t.Setenv("HATCHET_CLIENT_TOKEN", enc([]byte(`{"alg":"none"}`))+"."+enc(claims)+".x")
	hc, err := hatchet.NewClient()
	must(t, err)
	return hc
}

func TestNewWorkerRefusesWithWorkflowsInOptions(t *testing.T) {
	h := flowtest.New(t)
	rdb := redis.NewClient(&redis.Options{Addr: h.Redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := hatchetflow.New(offlineHatchet(t), rdb)
	must(t, err)
	_, err = hatchetflow.NewTask(c, "t", func(hatchet.Context, Order) (any, error) { return nil, nil })
	must(t, err)
	plain := c.Hatchet().NewStandaloneTask("plain", func(hatchet.Context, map[string]any) (map[string]any, error) { return nil, nil })
	_, err = c.NewWorker(context.Background(), "w", &hatchetflow.WorkerOptions{
		Options: []hatchet.WorkerOption{hatchet.WithSlots(5), hatchet.WithWorkflows(plain)}})
	var ce *hatchetflow.ConflictingOptionError
	if !errors.Is(err, hatchetflow.ErrConflictingOptions) || !errors.As(err, &ce) || ce.Option != "workflows" {
		t.Fatalf("NewWorker with hatchet.WithWorkflows = %v", err)
	}
	// Nothing was registered: tasks can still be added.
	if _, err := hatchetflow.NewTask(c, "later", func(hatchet.Context, Order) (any, error) { return nil, nil }); err != nil {
		t.Fatalf("NewTask after a refused NewWorker = %v", err)
	}
}

func TestErrorsReadOnce(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order")
	ctx := context.Background()
	saved, err := dsl.Sign("process-order").Save(ctx, f.h.Client)
	must(t, err)
	_, err = f.h.Client.Dispatcher().Dispatch(ctx, "process-order", map[string]any{"order_id": 17},
		map[string]string{hatchetflow.MetaSignature: saved.ID})
	must(t, err)
	f.h.Drain(ctx)
	decodeErr := f.h.Runs("process-order")[0].Errors[0]
	_, notFound := f.h.Client.Signature(ctx, "0190f2a0-0000-7000-8000-00000000beef")
	_, refNotFound := dsl.Sign("process-order").OnSuccess(dsl.Ref("0190f2a0-0000-7000-8000-00000000beef")).Save(ctx, f.h.Client)
	for _, msg := range []string{decodeErr, notFound.Error(), refNotFound.Error()} {
		if n := strings.Count(msg, "hatchetflow:"); n != 1 || strings.Contains(msg, "redisstore:") {
			t.Errorf("error reads its prefix %d times: %s", n, msg)
		}
		if strings.Count(msg, "not found") > 1 || strings.Count(msg, "decode") > 1 {
			t.Errorf("error repeats itself: %s", msg)
		}
	}
	if !strings.Contains(decodeErr, `task "process-order"`) || !strings.Contains(decodeErr, "order_id") {
		t.Errorf("decode error %q names neither task nor field", decodeErr)
	}
	if !errors.Is(notFound, hatchetflow.ErrSignatureNotFound) || !errors.Is(refNotFound, hatchetflow.ErrSignatureNotFound) {
		t.Errorf("not-found errors do not match ErrSignatureNotFound: %v, %v", notFound, refNotFound)
	}
	cancelled := hatchetflow.NewRunError("run-1", "t", "CANCELLED", true)
	if !errors.Is(cancelled, hatchetflow.ErrCancelled) || errors.Is(cancelled, hatchetflow.ErrRunFailed) ||
		strings.Contains(cancelled.Error(), "CANCELLED") {
		t.Errorf("cancelled run error = %v", cancelled)
	}
	failed := hatchetflow.NewRunError("run-1", "t", `"card declined"`, false)
	if !errors.Is(failed, hatchetflow.ErrRunFailed) || errors.Is(failed, hatchetflow.ErrCancelled) || failed.Message != "card declined" {
		t.Errorf("failed run error = %v (%q)", failed, failed.Message)
	}
}

// The engine (v0.104/v0.105) sometimes starts an attempt beyond a task's retries. Such
// an attempt never calls user code; the failure path ends the signature once, and the
// error callbacks get the original message: in the lean shape the attempt itself does,
// with an on-failure step that step does.
func TestAttemptBeyondRetriesNeverCallsUserCode(t *testing.T) {
	for _, withStep := range []bool{false, true} {
		t.Run(fmt.Sprintf("on-failure step %v", withStep), func(t *testing.T) {
			h := flowtest.New(t)
			c := h.Client
			calls := 0
			var opts []hatchetflow.TaskOption
			if withStep {
				opts = append(opts, hatchetflow.WithOnFailureStep())
			}
			_, err := hatchetflow.NewTask(c, "no-retries", func(hatchet.Context, Order) (any, error) {
				calls++
				return nil, nil
			}, opts...)
			must(t, err)
			var got []ErrorMessage
			_, err = hatchetflow.NewTask(c, "log-error", func(_ hatchet.Context, in ErrorMessage) (any, error) {
				got = append(got, in)
				return nil, nil
			})
			must(t, err)
			ctx := context.Background()
			saved, err := dsl.Sign("no-retries").OnError(dsl.Sign("log-error")).Save(ctx, c)
			must(t, err)
			steps, _ := c.Steps("no-retries")
			if (steps.OnFailure != nil) != withStep {
				t.Fatalf("on-failure step present: %v, want %v", steps.OnFailure != nil, withStep)
			}
			in := map[string]any{"order_id": "o-7"}
			meta := map[string]string{hatchetflow.MetaSignature: saved.ID}
			// Attempt 1 started the signature and timed out (the engine ended it).
			_, _, err = c.Store().Start(ctx, saved.ID, "run-x", 1)
			must(t, err)
			for range 2 { // the engine's second (and a third) attempt of a task with 0 retries
				_, err = steps.Main(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "no-retries", RunID: "run-x",
					RetryCount: 1, Metadata: meta, Input: in}), in)
				if !errors.Is(err, hatchetflow.ErrRetriesExhausted) && !errors.Is(err, hatchetflow.ErrNotPending) || !hatchetflow.IsNonRetryable(err) {
					t.Fatalf("attempt 2 of a retries-0 task = %v, want a non-retryable refusal", err)
				}
				if calls != 0 {
					t.Fatalf("user code ran %d times, want 0", calls)
				}
				if withStep { // the engine then runs the on-failure step
					_, err = steps.OnFailure(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "no-retries", RunID: "run-x",
						Metadata: meta, Input: in, StepErrors: map[string]string{"no-retries": err.Error()}}), in)
					must(t, err)
				}
			}
			h.Drain(ctx)
			h.RequireStatus(t, saved.ID, hatchetflow.StatusFailed)
			if len(got) != 1 || got[0].OrderID != "o-7" || got[0].Failure == nil || !strings.Contains(got[0].Failure.Message, "retries") {
				t.Fatalf("error callbacks got %+v, want one with order o-7 and the exhausted retries", got)
			}
		})
	}
}

// A run's typed refusal comes from the signature's record, never from the error text:
// a user error that reads like a refusal is the run's own failure.
func TestRefusalIsNotReadFromErrorText(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	c := h.Client
	h.ExpectFailure("mimic")
	_, err := hatchetflow.NewTask(c, "mimic", func(hatchet.Context, Order) (any, error) {
		return nil, hatchetflow.NonRetryable(errors.New(`hatchetflow: signature "01a2491e-fa48-72a7-b33a-524b5e85c301" is not pending: it is done (run r-1)`))
	})
	must(t, err)
	ctx := context.Background()
	run, err := dsl.Sign("mimic").Run(ctx, c, Order{OrderID: "m"})
	must(t, err)
	h.Drain(ctx)
	_, err = run.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) || !errors.Is(err, hatchetflow.ErrRunFailed) || errors.Is(err, hatchetflow.ErrNotPending) || re.Cause != nil {
		t.Fatalf("Wait = %v (cause %v), want the run's own failure with no refusal", err, re.Cause)
	}
}

// An attempt's user context ends at the attempt's own execution timeout, whatever the
// engine's cancel reaches, and an attempt that returns past it never finishes the
// signature (a later attempt of the same run owns it by then).
func TestAttemptPastItsTimeoutNeverFinishes(t *testing.T) {
	h := flowtest.New(t)
	c := h.Client
	ctxEnded := make(chan error, 1)
	_, err := hatchetflow.NewTask(c, "overrun", func(hctx hatchet.Context, _ Order) (string, error) {
		start := time.Now()
		<-hctx.GetContext().Done()
		ctxEnded <- hctx.GetContext().Err()
		time.Sleep(100 * time.Millisecond) // returns anyway, past the timeout
		return time.Since(start).String(), nil
	}, hatchetflow.WithExecutionTimeout(time.Second), hatchetflow.WithRetries(1))
	must(t, err)
	ctx := context.Background()
	saved, err := dsl.Sign("overrun").OnSuccess(dsl.Sign("overrun")).Save(ctx, c)
	must(t, err)
	steps, _ := c.Steps("overrun")
	in := map[string]any{"order_id": "o"}
	_, err = steps.Main(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "overrun", RunID: "run-o",
		Metadata: map[string]string{hatchetflow.MetaSignature: saved.ID}, Input: in}), in)
	if err == nil {
		t.Fatal("an attempt past its timeout returned success")
	}
	if got := <-ctxEnded; !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("the user context ended with %v, want its own deadline", got)
	}
	h.RequireStatus(t, saved.ID, hatchetflow.StatusActive)
	if h.Queued() != 0 {
		t.Fatalf("%d runs dispatched by an attempt past its timeout", h.Queued())
	}
}
