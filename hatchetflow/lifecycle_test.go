package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type Order struct {
	OrderID  string `json:"order_id"`
	Priority string `json:"priority,omitempty"`
}

type Receipt struct {
	OrderID string `json:"order_id"`
	Total   int    `json:"total"`
}

// EmailInput marks its return field explicitly.
type EmailInput struct {
	TaskResult inject.ReturnValue[Receipt] `json:"task_result"`
	Template   string                      `json:"template"`
}

// LogInput relies on the default field.
type LogInput struct {
	MageflowResults Receipt `json:"mageflow_results"`
	Level           string  `json:"level,omitempty"`
}

// ErrorMessage embeds the original message and adds bound fields.
type ErrorMessage struct {
	Order
	AdditionalField1 int               `json:"additional_field1"`
	Failure          *inject.TaskError `json:"failure,omitempty" hatchetflow:"task_error"`
}

type counters struct{ n map[string]*atomic.Int32 }

func (c counters) inc(task string) { c.n[task].Add(1) }
func (c counters) get(task string) int32 {
	return c.n[task].Load()
}

func newCounters(names ...string) counters {
	c := counters{n: map[string]*atomic.Int32{}}
	for _, n := range names {
		c.n[n] = &atomic.Int32{}
	}
	return c
}

// flow registers the seed doc's tasks on a harness.
type flow struct {
	h       *flowtest.Harness
	calls   counters
	emails  chan EmailInput
	logs    chan LogInput
	errs    chan ErrorMessage
	process *hatchetflow.Task[Order, Receipt]
	fail    func(attempt int) error
}

func newFlow(t *testing.T, opts ...hatchetflow.Option) *flow {
	t.Helper()
	f := &flow{h: flowtest.New(t, opts...)}
	f.register(t, f.h.Client)
	return f
}

// register registers the test tasks on c.
func (f *flow) register(t *testing.T, c *hatchetflow.Client) {
	t.Helper()
	f.calls = newCounters("process-order", "send-success-email", "log-completion", "log-error", "list", "scalar", "slow", "panics")
	f.emails, f.logs, f.errs = make(chan EmailInput, 10), make(chan LogInput, 10), make(chan ErrorMessage, 10)
	var err error
	f.process, err = hatchetflow.NewTask(c, "process-order", func(ctx hatchet.Context, in Order) (Receipt, error) {
		f.calls.inc("process-order")
		if f.fail != nil {
			if err := f.fail(ctx.RetryCount()); err != nil {
				return Receipt{}, err
			}
		}
		return Receipt{OrderID: in.OrderID, Total: 42}, nil
	}, hatchetflow.WithRetries(2))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "send-success-email", func(_ hatchet.Context, in EmailInput) (string, error) {
		f.calls.inc("send-success-email")
		f.emails <- in
		return "sent", nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "log-completion", func(_ hatchet.Context, in LogInput) (any, error) {
		f.calls.inc("log-completion")
		f.logs <- in
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "log-error", func(_ hatchet.Context, in ErrorMessage) (any, error) {
		f.calls.inc("log-error")
		f.errs <- in
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "list", func(_ hatchet.Context, in map[string]any) ([]int, error) {
		f.calls.inc("list")
		return []int{1, 2, 3}, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "scalar", func(_ hatchet.Context, in map[string]any) (map[string]any, error) {
		f.calls.inc("scalar")
		return in, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "slow", func(ctx hatchet.Context, in map[string]any) (any, error) {
		f.calls.inc("slow")
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
		return nil, nil
	}, hatchetflow.WithExecutionTimeout(2*time.Second))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "panics", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.calls.inc("panics")
		panic("user panic")
	})
	must(t, err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *flow) orderSig() dsl.Builder {
	return dsl.Sign(f.process).With(dsl.KW{"priority": "high"}).
		OnSuccess(
			dsl.Sign("send-success-email").With(dsl.KW{"template": "welcome"}),
			dsl.Sign("log-completion")).
		OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345}))
}

func TestSuccessCallbacksGetReturnValue(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	h, err := f.orderSig().Run(ctx, f.h.Client, Order{OrderID: "A-1"})
	must(t, err)
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	must(t, err)
	if got != (Receipt{OrderID: "A-1", Total: 42}) {
		t.Fatalf("result = %+v", got)
	}
	f.h.Drain(ctx)
	email := <-f.emails
	if email.TaskResult.Value != got || email.Template != "welcome" {
		t.Fatalf("email input = %+v", email)
	}
	log := <-f.logs
	if log.MageflowResults != got {
		t.Fatalf("log input = %+v", log)
	}
	if n := f.calls.get("log-error"); n != 0 {
		t.Fatalf("error callback ran %d times after success", n)
	}
	run := f.h.RequireReceived(t, "process-order", &flowtest.Match{Input: map[string]any{"order_id": "A-1", "priority": "high"}})
	if run.OnFailureRan {
		t.Fatal("on-failure step ran after a success")
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusDone)
	f.h.RequireDispatched(t, "send-success-email", &flowtest.Match{Exact: true,
		Input: map[string]any{"task_result": map[string]any{"order_id": "A-1", "total": 42}}})
}

func TestBoundKwargsWinOverReturnValue(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	override := Receipt{OrderID: "bound", Total: 1}
	_, err := dsl.Sign(f.process).OnSuccess(dsl.Sign("log-completion").With(dsl.KW{"mageflow_results": override})).
		Run(ctx, f.h.Client, Order{OrderID: "B"})
	must(t, err)
	f.h.Drain(ctx)
	if got := (<-f.logs).MageflowResults; got != override {
		t.Fatalf("callback got %+v, want the bound kwargs %+v", got, override)
	}
}

func TestErrorCallbackGetsOriginalMessageAndDetails(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order")
	f.fail = func(int) error { return errors.New("card declined") }
	ctx := context.Background()
	h, err := f.orderSig().Run(ctx, f.h.Client, Order{OrderID: "C-9"})
	must(t, err)
	_, err = h.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "card declined") {
		t.Fatalf("Wait error = %v", err)
	}
	f.h.Drain(ctx)
	if n := f.calls.get("process-order"); n != 3 {
		t.Fatalf("process-order ran %d times, want 3 (retries 2)", n)
	}
	if n := f.calls.get("log-error"); n != 1 {
		t.Fatalf("error callback ran %d times, want once after the last attempt", n)
	}
	got := <-f.errs
	if got.OrderID != "C-9" || got.Priority != "high" || got.AdditionalField1 != 12345 {
		t.Fatalf("error callback input = %+v", got)
	}
	if got.Failure == nil || got.Failure.Message != "card declined" || got.Failure.Attempt != 3 ||
		got.Failure.Task != "process-order" || got.Failure.SignatureID != h.SignatureID() || got.Failure.RunID != h.RunID() {
		t.Fatalf("error details = %+v", got.Failure)
	}
	if f.calls.get("send-success-email")+f.calls.get("log-completion") != 0 {
		t.Fatal("success callbacks ran after a failure")
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusFailed)
}

func TestRetryThenSuccess(t *testing.T) {
	f := newFlow(t)
	f.fail = func(attempt int) error {
		if attempt < 2 {
			return fmt.Errorf("flaky %d", attempt)
		}
		return nil
	}
	ctx := context.Background()
	_, err := f.orderSig().Run(ctx, f.h.Client, Order{OrderID: "R"})
	must(t, err)
	f.h.Drain(ctx)
	if a := f.h.Runs("process-order")[0].Attempts; a != 3 {
		t.Fatalf("attempts = %d", a)
	}
	if f.calls.get("send-success-email") != 1 || f.calls.get("log-completion") != 1 || f.calls.get("log-error") != 0 {
		t.Fatalf("callbacks: email %d, log %d, error %d", f.calls.get("send-success-email"),
			f.calls.get("log-completion"), f.calls.get("log-error"))
	}
}

func TestFaultsReachErrorCallbacks(t *testing.T) {
	for name, fault := range map[string]flowtest.Fault{
		"timeout": flowtest.Timeout(),
		"panic":   flowtest.Panic("boom"),
		"fail":    flowtest.Fail(errors.New("nope")),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFlow(t)
			for a := 0; a < 3; a++ {
				f.h.Inject("process-order", a, fault)
			}
			ctx := context.Background()
			_, err := f.orderSig().Run(ctx, f.h.Client, Order{OrderID: name})
			must(t, err)
			f.h.Drain(ctx)
			if n := f.calls.get("log-error"); n != 1 {
				t.Fatalf("error callbacks ran %d times", n)
			}
			msg := (<-f.errs).Failure.Message
			want := map[string]string{"timeout": "Task exceeded timeout", "panic": "panic: boom", "fail": "nope"}[name]
			if !strings.Contains(msg, want) {
				t.Fatalf("message %q, want it to contain %q", msg, want)
			}
		})
	}
}

func TestDecodeErrorIsNotRetried(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order")
	ctx := context.Background()
	// The error callback takes a map: the original (bad) message would not decode into
	// ErrorMessage either.
	saved, err := dsl.Sign("process-order").OnError(dsl.Sign("scalar")).Save(ctx, f.h.Client)
	must(t, err)
	// Bypass the producer-side checks, as a foreign producer could.
	_, err = f.h.Client.Dispatcher().Dispatch(ctx, "process-order", map[string]any{"order_id": 17},
		map[string]string{hatchetflow.MetaSignature: saved.ID})
	must(t, err)
	f.h.Drain(ctx)
	run := f.h.Runs("process-order")[0]
	if run.Attempts != 1 || f.calls.get("process-order") != 0 {
		t.Fatalf("attempts %d, user calls %d: a decode error must fail at once", run.Attempts, f.calls.get("process-order"))
	}
	if !strings.Contains(run.Errors[0], "order_id") {
		t.Fatalf("error %q does not name the field", run.Errors[0])
	}
	f.h.RequireReceived(t, "scalar", &flowtest.Match{Exact: true, Input: map[string]any{"order_id": 17}})
}

func TestPlainRunTouchesNoSignature(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	before := len(f.h.Redis.Keys())
	id, err := f.h.Client.Dispatcher().Dispatch(ctx, "process-order", map[string]any{"order_id": "P"}, nil)
	must(t, err)
	raw, err := f.h.Wait(ctx, id, "process-order")
	must(t, err)
	// The engine keeps the return value itself: plain Hatchet callers decode it as is.
	if string(raw) != `{"order_id":"P","total":42}` {
		t.Fatalf("plain result %s", raw)
	}
	f.h.Drain(ctx)
	if after := len(f.h.Redis.Keys()); after != before {
		t.Fatalf("a plain run wrote %d Redis keys", after-before)
	}
	if len(f.h.Runs("")) != 1 {
		t.Fatal("a plain run dispatched callbacks")
	}
}

func TestNonObjectReturnValues(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	_, err := dsl.Sign("list").OnSuccess(dsl.Sign("scalar")).Run(ctx, f.h.Client, nil)
	must(t, err)
	f.h.Drain(ctx)
	f.h.RequireReceived(t, "scalar", &flowtest.Match{Exact: true, Input: map[string]any{"mageflow_results": []any{1, 2, 3}}})
}

func TestCallbacksThreeDeep(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	sig := dsl.Sign("scalar").With(dsl.KW{"level": 1}).OnSuccess(
		dsl.Sign("scalar").With(dsl.KW{"level": 2}).OnSuccess(
			dsl.Sign("scalar").With(dsl.KW{"level": 3}).OnSuccess(
				dsl.Sign("list"))))
	_, err := sig.Run(ctx, f.h.Client, map[string]any{"start": true})
	must(t, err)
	f.h.Drain(ctx)
	if n := f.calls.get("scalar"); n != 3 {
		t.Fatalf("scalar ran %d times", n)
	}
	if n := f.calls.get("list"); n != 1 {
		t.Fatalf("third-level callback ran %d times", n)
	}
	// Level 3 received level 2's return value (its own message) injected.
	f.h.RequireReceived(t, "scalar", &flowtest.Match{Input: map[string]any{"level": 3,
		"mageflow_results": map[string]any{"level": 2, "mageflow_results": map[string]any{"level": 1, "start": true}}}})
}

func TestMissingCallbackIsSkippedOthersFire(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("log-completion") // its signature was deleted: the run is refused
	ctx := context.Background()
	doomed, err := dsl.Sign("log-completion").Save(ctx, f.h.Client)
	must(t, err)
	_, err = dsl.Sign(f.process).OnSuccess(doomed, dsl.Sign("send-success-email")).Run(ctx, f.h.Client, Order{OrderID: "M"})
	must(t, err)
	must(t, f.h.Client.Store().Delete(ctx, doomed.ID))
	f.h.Drain(ctx)
	if f.calls.get("send-success-email") != 1 || f.calls.get("log-completion") != 0 {
		t.Fatalf("email %d, deleted log %d", f.calls.get("send-success-email"), f.calls.get("log-completion"))
	}
}

func TestDuplicateRunDoesNotRunUserCodeTwice(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order") // the duplicate run is refused
	ctx := context.Background()
	saved, err := f.orderSig().Save(ctx, f.h.Client)
	must(t, err)
	var handles []dsl.Handle
	for i := 0; i < 2; i++ { // both dispatched before either started, as after a crash between trigger and marker
		h, err := saved.Run(ctx, f.h.Client, Order{OrderID: "D"})
		must(t, err)
		handles = append(handles, h)
	}
	f.h.Drain(ctx)
	if f.calls.get("process-order") != 1 || f.calls.get("send-success-email") != 1 || f.calls.get("log-completion") != 1 {
		t.Fatalf("process %d, email %d, log %d", f.calls.get("process-order"), f.calls.get("send-success-email"), f.calls.get("log-completion"))
	}
	if _, err := hatchetflow.WaitResult[Receipt](ctx, handles[0]); err != nil {
		t.Fatalf("first run: %v", err)
	}
	// Waiting on the duplicate never returns a zero value with a nil error.
	got, err := hatchetflow.WaitResult[Receipt](ctx, handles[1])
	var np *hatchetflow.NotPendingError
	if !errors.Is(err, hatchetflow.ErrNotPending) || !errors.As(err, &np) || np.ID != saved.ID ||
		np.Status != hatchetflow.StatusDone || np.RunID != handles[0].RunID() || !errors.Is(err, hatchetflow.ErrRunFailed) {
		t.Fatalf("duplicate run: %+v, %v; want a NotPendingError for %s, done by run %s", got, err, saved.ID, handles[0].RunID())
	}
}

func TestRunRefusesSignatureThatIsNotPending(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order")
	ctx := context.Background()
	done, err := f.orderSig().Save(ctx, f.h.Client)
	must(t, err)
	h, err := done.Run(ctx, f.h.Client, Order{OrderID: "R"})
	must(t, err)
	f.h.Drain(ctx)

	f.fail = func(int) error { return hatchetflow.NonRetryable(errors.New("declined")) }
	failed, err := f.orderSig().Save(ctx, f.h.Client)
	must(t, err)
	_, err = failed.Run(ctx, f.h.Client, Order{OrderID: "F"})
	must(t, err)
	f.h.Drain(ctx)
	f.fail = nil

	active, err := f.orderSig().Save(ctx, f.h.Client)
	must(t, err)
	// Another run owns it: started by an engine run that is still going.
	_, _, err = f.h.Client.Store().Start(ctx, active.ID, "other-run", 1)
	must(t, err)

	before := len(f.h.Runs(""))
	for _, tc := range []struct {
		spec   interface{ Ref() dsl.Ref }
		status hatchetflow.Status
		owner  string
	}{
		{done, hatchetflow.StatusDone, h.RunID()},
		{failed, hatchetflow.StatusFailed, f.h.Runs("process-order")[1].ID},
		{active, hatchetflow.StatusActive, "other-run"},
	} {
		for _, run := range []func() (dsl.Handle, error){
			func() (dsl.Handle, error) { return tc.spec.Ref().Run(ctx, f.h.Client, Order{OrderID: "again"}) },
			func() (dsl.Handle, error) {
				return f.h.Client.RunSignature(ctx, tc.spec.Ref(), Order{OrderID: "again"})
			},
		} {
			got, err := run()
			var np *hatchetflow.NotPendingError
			if got != nil || !errors.Is(err, hatchetflow.ErrNotPending) || !errors.As(err, &np) ||
				np.ID != string(tc.spec.Ref()) || np.Status != tc.status || np.RunID != tc.owner {
				t.Fatalf("Run of a %s signature = %v, %v (%+v); want a NotPendingError", tc.status, got, err, np)
			}
		}
	}
	if after := len(f.h.Runs("")); after != before {
		t.Fatalf("refused runs dispatched %d runs", after-before)
	}
}

func TestUpdateKwargsAfterCreation(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	saved, err := dsl.Sign("log-completion").Save(ctx, f.h.Client)
	must(t, err)
	must(t, f.h.Client.UpdateKwargs(ctx, saved.ID, dsl.KW{"level": "debug"}))
	err = f.h.Client.UpdateKwargs(ctx, saved.ID, dsl.KW{"level": 3})
	var ve *inject.ValidationError
	if !errors.As(err, &ve) || ve.Task != "log-completion" {
		t.Fatalf("wrong-type update = %v", err)
	}
	_, err = dsl.Sign(f.process).OnSuccess(saved).Run(ctx, f.h.Client, Order{OrderID: "U"})
	must(t, err)
	f.h.Drain(ctx)
	if got := <-f.logs; got.Level != "debug" || got.MageflowResults.OrderID != "U" {
		t.Fatalf("callback input = %+v", got)
	}
}

func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	f := newFlow(t, hatchetflow.WithMaxKwargsBytes(100))
	ctx := context.Background()
	cases := map[string]struct {
		b    dsl.Builder
		want error
	}{
		"unknown task":          {dsl.Sign("nope"), hatchetflow.ErrUnknownTask},
		"unknown callback task": {dsl.Sign(f.process).OnError(dsl.Sign("nope")), hatchetflow.ErrUnknownTask},
		"wrong type":            {dsl.Sign(f.process).With(dsl.KW{"priority": 5}), inject.ErrValidation},
		"unknown field":         {dsl.Sign(f.process).With(dsl.KW{"colour": "red"}), inject.ErrValidation},
		"nested wrong type":     {dsl.Sign(f.process).OnSuccess(dsl.Sign("log-completion").With(dsl.KW{"level": []int{1}})), inject.ErrValidation},
		"missing ref":           {dsl.Sign(f.process).OnSuccess(dsl.Ref("0190f2a0-0000-7000-8000-000000000001")), hatchetflow.ErrSignatureNotFound},
		"too large":             {dsl.Sign(f.process).With(dsl.KW{"priority": strings.Repeat("x", 200)}), hatchetflow.ErrKwargsTooLarge},
		"invalid target":        {dsl.Sign(42), dsl.ErrInvalidTarget},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(f.h.Redis.Keys())
			if _, err := tc.b.Save(ctx, f.h.Client); !errors.Is(err, tc.want) {
				t.Fatalf("Save error = %v, want %v", err, tc.want)
			}
			if _, err := tc.b.Run(ctx, f.h.Client, Order{OrderID: "x"}); !errors.Is(err, tc.want) {
				t.Fatalf("Run error = %v, want %v", err, tc.want)
			}
			if after := len(f.h.Redis.Keys()); after != before {
				t.Fatalf("a refused save wrote %d keys", after-before)
			}
		})
	}
	var ute *hatchetflow.UnknownTaskError
	_, err := dsl.Sign("nope").Save(ctx, f.h.Client)
	if !errors.As(err, &ute) || ute.Task != "nope" {
		t.Fatalf("unknown task error %v does not name the task", err)
	}
	if _, err := dsl.Sign(f.process).Run(ctx, f.h.Client, []int{1}); !errors.Is(err, hatchetflow.ErrNotObject) {
		t.Fatalf("non-object input = %v", err)
	}
	if _, err := dsl.Sign(f.process).Run(ctx, f.h.Client, map[string]any{"order_id": 5}); !errors.Is(err, inject.ErrValidation) {
		t.Fatalf("wrong-type input = %v", err)
	}
	if _, err := dsl.Ref("not-an-id").Run(ctx, f.h.Client, nil); !errors.Is(err, hatchetflow.ErrInvalidSignatureID) {
		t.Fatalf("malformed ref = %v", err)
	}
}

func TestValidateOverrideAllowsUnregisteredName(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	saved, err := dsl.Sign("elsewhere").Validate(EmailInput{}).With(dsl.KW{"template": "x"}).Save(ctx, f.h.Client)
	must(t, err)
	rec, err := f.h.Client.Signature(ctx, saved.ID)
	must(t, err)
	if rec.ReturnField != "task_result" || len(rec.Schema) == 0 {
		t.Fatalf("record = %+v", rec)
	}
	if _, err := dsl.Sign("elsewhere").Validate(EmailInput{}).With(dsl.KW{"template": 1}).Save(ctx, f.h.Client); !errors.Is(err, inject.ErrValidation) {
		t.Fatalf("override schema not applied: %v", err)
	}
}

func TestMalformedSignatureIDInMetadata(t *testing.T) {
	f := newFlow(t)
	f.h.ExpectFailure("process-order")
	ctx := context.Background()
	_, err := f.h.Client.Dispatcher().Dispatch(ctx, "process-order", map[string]any{"order_id": "X"},
		map[string]string{hatchetflow.MetaSignature: "../../etc/passwd"})
	must(t, err)
	f.h.Drain(ctx)
	run := f.h.Runs("process-order")[0]
	if run.Status != flowtest.StatusFailed || run.Attempts != 1 || !strings.Contains(run.Errors[0], "invalid signature id") {
		t.Fatalf("run = %+v", run)
	}
}

func TestTTLsAfterFinish(t *testing.T) {
	f := newFlow(t, hatchetflow.WithDoneTTL(time.Hour))
	ctx := context.Background()
	h, err := f.orderSig().Run(ctx, f.h.Client, Order{OrderID: "T"})
	must(t, err)
	f.h.Drain(ctx)
	rec, err := f.h.Client.Signature(ctx, h.SignatureID())
	must(t, err)
	if ttl := f.h.Redis.TTL(f.h.Client.Store().SignatureKey(rec.ID)); ttl > time.Hour {
		t.Fatalf("done TTL %v", ttl)
	}
	errCB := rec.OnError[0].ID
	if ttl := f.h.Redis.TTL(f.h.Client.Store().SignatureKey(errCB)); ttl > time.Hour || ttl <= 0 {
		t.Fatalf("dead branch TTL %v", ttl)
	}
	for _, k := range f.h.Redis.Keys() {
		if k != f.h.Client.Store().RegistryKey() && f.h.Redis.TTL(k) <= 0 {
			t.Fatalf("key %s has no TTL", k)
		}
	}
	f.h.FastForward(2 * time.Hour)
	if _, err := f.h.Client.Signature(ctx, h.SignatureID()); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("signature still there: %v", err)
	}
	_ = json.Valid
}
