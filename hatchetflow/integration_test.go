package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/enginetest"
)

// engineFlow is the test flow on the real engine and a real Redis.
type engineFlow struct {
	*flow
	c  *hatchetflow.Client
	hc *hatchet.Client
}

// newEngineFlow registers the test tasks on a client for the local engine (skipping
// unless HATCHETFLOW_INTEGRATION=1) with its own namespace and Redis key prefix, and
// starts a worker.
func newEngineFlow(t *testing.T, more ...func(*hatchetflow.Client)) *engineFlow {
	t.Helper()
	hc := enginetest.Client(t)
	prefix := "hfit-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix))
	must(t, err)
	f := &flow{}
	f.register(t, c)
	for _, register := range more {
		register(c)
	}
	ctx := enginetest.Context(t, time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "it-worker", nil) })
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })
	return &engineFlow{flow: f, c: c, hc: hc}
}

// settle waits until the run is done on the engine and every signature of the tree
// ended: from then on no callback can run again (a duplicate run cannot pass its
// signature's pending→active check), so call counts are final.
func (e *engineFlow) settle(ctx context.Context, t *testing.T, runID, sigID string) {
	t.Helper()
	id := uuid.MustParse(runID)
	for {
		det, err := e.hc.Runs().GetDetails(ctx, id)
		if err == nil && det.Done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("run %s not done: %v", runID, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var pending []string
	for {
		pending = pending[:0]
		e.walk(ctx, t, sigID, &pending)
		if len(pending) == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("signatures still running: %v", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// walk collects signatures of the tree under id that are still pending or active
// and should run: callbacks of the branch that will never run stay pending.
func (e *engineFlow) walk(ctx context.Context, t *testing.T, id string, pending *[]string) {
	rec, err := e.c.Signature(ctx, id)
	if errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		return
	}
	must(t, err)
	switch rec.Status {
	case hatchetflow.StatusDone:
		for _, cb := range rec.OnSuccess {
			e.walk(ctx, t, cb.ID, pending)
		}
	case hatchetflow.StatusFailed:
		for _, cb := range rec.OnError {
			e.walk(ctx, t, cb.ID, pending)
		}
	default:
		*pending = append(*pending, fmt.Sprintf("%s(%s %s)", rec.Task, rec.ID, rec.Status))
	}
}

func (e *engineFlow) run(t *testing.T, b dsl.Builder, input any) (dsl.Handle, context.Context) {
	t.Helper()
	ctx := enginetest.Context(t, 90*time.Second)
	h, err := b.Run(ctx, e.c, input)
	must(t, err)
	return h, ctx
}

func wantCalls(t *testing.T, f *flow, want map[string]int32) {
	t.Helper()
	for task, n := range want {
		if got := f.calls.get(task); got != n {
			t.Errorf("%s ran %d times, want %d", task, got, n)
		}
	}
}

func TestEngineSuccessCallbacks(t *testing.T) {
	e := newEngineFlow(t)
	start := time.Now()
	h, ctx := e.run(t, e.orderSig(), Order{OrderID: "E-1"})
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	must(t, err)
	if got != (Receipt{OrderID: "E-1", Total: 42}) {
		t.Fatalf("result %+v", got)
	}
	email := <-e.emails
	t.Logf("trigger → success callback running: %v", time.Since(start))
	if email.TaskResult.Value != got || email.Template != "welcome" {
		t.Fatalf("email input %+v", email)
	}
	if log := <-e.logs; log.MageflowResults != got {
		t.Fatalf("log input %+v", log)
	}
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	wantCalls(t, e.flow, map[string]int32{"process-order": 1, "send-success-email": 1, "log-completion": 1, "log-error": 0})
}

func TestEngineRetryThenSuccess(t *testing.T) {
	e := newEngineFlow(t)
	e.fail = func(attempt int) error {
		if attempt < 2 {
			return fmt.Errorf("flaky attempt %d", attempt)
		}
		return nil
	}
	h, ctx := e.run(t, e.orderSig(), Order{OrderID: "E-2"})
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	wantCalls(t, e.flow, map[string]int32{"process-order": 3, "send-success-email": 1, "log-completion": 1, "log-error": 0})
}

func TestEngineRetriesExhausted(t *testing.T) {
	e := newEngineFlow(t)
	e.fail = func(attempt int) error { return fmt.Errorf("down on attempt %d", attempt) }
	h, ctx := e.run(t, e.orderSig(), Order{OrderID: "E-3"})
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrRunFailed) {
		t.Fatalf("Wait = %v, want a failed run", err)
	}
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	wantCalls(t, e.flow, map[string]int32{"process-order": 3, "log-error": 1, "send-success-email": 0, "log-completion": 0})
	got := <-e.errs
	if got.OrderID != "E-3" || got.Priority != "high" || got.AdditionalField1 != 12345 ||
		got.Failure == nil || got.Failure.Message != "down on attempt 2" || got.Failure.Attempt != 3 {
		t.Fatalf("error callback input %+v / %+v", got, got.Failure)
	}
}

func TestEngineTimeoutAndPanicReachErrorCallbacks(t *testing.T) {
	e := newEngineFlow(t)
	for task, want := range map[string]string{"slow": "exceeded timeout", "panics": "user panic"} {
		h, ctx := e.run(t, dsl.Sign(task).OnError(dsl.Sign("log-error")), map[string]any{"order_id": task})
		e.settle(ctx, t, h.RunID(), h.SignatureID())
		got := <-e.errs
		if got.OrderID != task || got.Failure == nil || !strings.Contains(got.Failure.Message, want) {
			t.Fatalf("%s: error callback input %+v / %+v", task, got, got.Failure)
		}
	}
	wantCalls(t, e.flow, map[string]int32{"log-error": 2, "slow": 1, "panics": 1})
}

func TestEnginePlainRunAndListResult(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	runID, err := e.c.Dispatcher().Dispatch(ctx, "list", map[string]any{}, nil)
	must(t, err)
	out, err := e.c.Dispatcher().(engine.Waiter).Wait(ctx, runID, "list")
	must(t, err)
	// The lean shape's one-task workflow takes any JSON output: the list travels
	// raw (only a workflow with an on-failure step wraps it).
	if string(out) != `[1,2,3]` {
		t.Fatalf("plain run output %s, want the raw list", out)
	}
	h, ctx := e.run(t, dsl.Sign("list").OnSuccess(dsl.Sign("scalar")), nil)
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	raw, err := h.Wait(ctx)
	must(t, err)
	if string(raw) != "[1,2,3]" {
		t.Fatalf("list result %s", raw)
	}
	wantCalls(t, e.flow, map[string]int32{"list": 2, "scalar": 1})
}

func TestEngineCallbacksThreeDeep(t *testing.T) {
	e := newEngineFlow(t)
	sig := dsl.Sign("scalar").With(dsl.KW{"level": 1}).OnSuccess(
		dsl.Sign("scalar").With(dsl.KW{"level": 2}).OnSuccess(
			dsl.Sign("scalar").With(dsl.KW{"level": 3}).OnSuccess(
				dsl.Sign("list"))))
	h, ctx := e.run(t, sig, map[string]any{"start": true})
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	wantCalls(t, e.flow, map[string]int32{"scalar": 3, "list": 1})
}

// A plain Hatchet caller reads the task's own return value: no hatchetflow wrapper
// around an object, for plain runs and signature runs alike.
func TestEnginePlainCallerReadsTheReturnValue(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	res, err := e.hc.Run(ctx, "process-order", Order{OrderID: "plain-1"})
	must(t, err)
	var got Receipt
	must(t, res.TaskOutput("process-order").Into(&got))
	if got != (Receipt{OrderID: "plain-1", Total: 42}) {
		t.Fatalf("plain Run output = %+v", got)
	}
	h, ctx := e.run(t, dsl.Sign(e.process).OnSuccess(dsl.Sign("log-completion")), Order{OrderID: "sig-1"})
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	det, err := e.hc.Runs().GetDetails(ctx, uuid.MustParse(h.RunID()))
	must(t, err)
	for name, tr := range det.TaskRuns {
		if strings.EqualFold(name, "process-order") && string(tr.Output) != `{"order_id":"sig-1","total":42}` {
			t.Fatalf("signature run output in the engine = %s", tr.Output)
		}
	}
	typed, err := hatchetflow.WaitResult[Receipt](ctx, h)
	if err != nil || typed != (Receipt{OrderID: "sig-1", Total: 42}) {
		t.Fatalf("WaitResult = %+v, %v", typed, err)
	}
}

// Run refuses a signature that already ran; a duplicate engine run of it (a second
// trigger carrying our metadata) calls no user code and waiting on it returns the
// typed error, never a zero value.
func TestEngineRerunAndDuplicateRunAreRefused(t *testing.T) {
	e := newEngineFlow(t)
	h, ctx := e.run(t, dsl.Sign(e.process), Order{OrderID: "again"})
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	_, err := dsl.Ref(h.SignatureID()).Run(ctx, e.c, Order{OrderID: "again"})
	var np *hatchetflow.NotPendingError
	if !errors.As(err, &np) || np.Status != hatchetflow.StatusDone || np.RunID != h.RunID() {
		t.Fatalf("re-run of a done signature = %v", err)
	}
	dup, err := e.c.Dispatcher().Dispatch(ctx, "process-order", map[string]any{"order_id": "again"},
		map[string]string{hatchetflow.MetaSignature: h.SignatureID()})
	must(t, err)
	_, err = e.c.Dispatcher().(engine.Waiter).Wait(ctx, dup, "process-order")
	if !errors.As(err, &np) || np.ID != h.SignatureID() || !errors.Is(err, hatchetflow.ErrNotPending) {
		t.Fatalf("waiting on a duplicate run = %v, want a NotPendingError", err)
	}
	wantCalls(t, e.flow, map[string]int32{"process-order": 1})
}

func TestEngineNewTaskAfterNewWorkerIsRefused(t *testing.T) {
	e := newEngineFlow(t)
	h, ctx := e.run(t, dsl.Sign("scalar"), nil) // the worker serves (and the SDK finished registering it)
	e.settle(ctx, t, h.RunID(), h.SignatureID())
	_, err := hatchetflow.NewTask(e.c, "too-late", func(hatchet.Context, Order) (any, error) { return nil, nil })
	if !errors.Is(err, hatchetflow.ErrRegistrationClosed) {
		t.Fatalf("NewTask after NewWorker = %v, want ErrRegistrationClosed", err)
	}
}

// A worker the application builds serves hatchetflow's tasks next to its own workflow.
func TestEngineTasksJoinTheApplicationsWorker(t *testing.T) {
	hc := enginetest.Client(t)
	opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	must(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix("hfit-"+enginetest.Namespace()))
	must(t, err)
	f := &flow{}
	f.register(t, c)
	plain := hc.NewStandaloneTask("app-plain", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		return map[string]any{"plain": true}, nil
	})
	ctx := enginetest.Context(t, time.Minute)
	wfs, err := c.Workflows()
	must(t, err)
	must(t, c.RegisterTasks(ctx))
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) {
		return hc.NewWorker("app-worker", hatchet.WithWorkflows(append(wfs, plain)...))
	})
	must(t, err)
	stop, err := enginetest.Wait(ctx, w.Start)
	must(t, err)
	t.Cleanup(func() { _ = stop() })
	h, err := dsl.Sign("process-order").OnSuccess(dsl.Sign("log-completion")).Run(ctx, c, Order{OrderID: "app-1"})
	must(t, err)
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	if err != nil || got.OrderID != "app-1" {
		t.Fatalf("signature run on the application's worker = %+v, %v", got, err)
	}
	res, err := hc.Run(ctx, "app-plain", map[string]any{})
	must(t, err)
	var out map[string]any
	must(t, res.TaskOutput("app-plain").Into(&out))
	if out["plain"] != true {
		t.Fatalf("plain workflow output %v", out)
	}
}

// Per-run options reach the engine: the run carries the user's metadata next to ours.
func TestEngineRunOptions(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, time.Minute)
	h, err := e.c.RunWithOptions(ctx, dsl.Sign(e.process), Order{OrderID: "opt-1"},
		&hatchetflow.RunOptions{Priority: 3, Metadata: map[string]string{"tenant": "acme"}})
	must(t, err)
	if _, err := hatchetflow.WaitResult[Receipt](ctx, h); err != nil {
		t.Fatal(err)
	}
	det, err := e.hc.Runs().GetDetails(ctx, uuid.MustParse(h.RunID()))
	must(t, err)
	meta := map[string]any{}
	must(t, json.Unmarshal(det.AdditionalMetadata, &meta))
	if meta["tenant"] != "acme" || meta[hatchetflow.MetaSignature] != h.SignatureID() {
		t.Fatalf("engine run metadata %v", meta)
	}
}

// A handler that runs a child signature and then fails once: on the engine, one child
// signature exists and its user code ran once.
func TestEngineSigningInsideARetriedTask(t *testing.T) {
	f := &inTaskFlow{children: make(chan string, 16)}
	e := newEngineFlow(t, func(c *hatchetflow.Client) { must(t, registerInTask(f)(c)) })
	ctx := enginetest.Context(t, time.Minute)
	h, err := dsl.Sign("parent").Run(ctx, e.c, map[string]any{})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatalf("parent: %v", err)
	}
	first, second := <-f.children, <-f.children
	if first != second {
		t.Fatalf("attempts got %q and %q, want the same ids and run", first, second)
	}
	deadline := time.Now().Add(20 * time.Second)
	for f.childCalls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if n := f.childCalls.Load(); n != 1 {
		t.Fatalf("child user code ran %d times, want 1", n)
	}
}
