package hatchetflow_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/testing/flowtest"
)

// ReportIn is the input of "report": what a cron, an event or a plain caller sends,
// plus Format, which its standing signature binds.
type ReportIn struct {
	Day    string `json:"day"`
	Format string `json:"format"`
	Fail   bool   `json:"fail,omitempty"`
}

// Report is what "report" returns.
type Report struct {
	Day, Format string
}

// MailIn is the success callback's input.
type MailIn struct {
	Report inject.ReturnValue[Report] `json:"report"`
	To     string                     `json:"to"`
}

// PageIn is the error callback's input: the original message and the error.
type PageIn struct {
	ReportIn
	Failure inject.TaskError `json:"failure"`
}

// standingFlow is a task with a standing signature, its callbacks, and a plain task
// without one.
type standingFlow struct {
	h                     *flowtest.Harness
	reports, plain, fails atomic.Int32
	mails                 chan MailIn
	pages                 chan PageIn
}

func standingSig() dsl.Builder {
	return dsl.Sign("report").With(dsl.KW{"format": "pdf"}).
		OnSuccess(dsl.Sign("mail").With(dsl.KW{"to": "ops@example.com"})).
		OnError(dsl.Sign("page"))
}

func newStandingFlow(t *testing.T, opts ...hatchetflow.TaskOption) *standingFlow {
	t.Helper()
	f := &standingFlow{h: flowtest.New(t), mails: make(chan MailIn, 10), pages: make(chan PageIn, 10)}
	registerStanding(t, f, f.h.Client, opts...)
	return f
}

func registerStanding(t *testing.T, f *standingFlow, c *hatchetflow.Client, opts ...hatchetflow.TaskOption) {
	t.Helper()
	_, err := hatchetflow.NewTask(c, "report", func(ctx hatchet.Context, in ReportIn) (Report, error) {
		f.reports.Add(1)
		if in.Fail {
			return Report{}, hatchetflow.NonRetryable(errors.New("no data for " + in.Day))
		}
		if ctx.RetryCount() < int(f.fails.Load()) {
			return Report{}, errors.New("flaky")
		}
		return Report{Day: in.Day, Format: in.Format}, nil
	}, append([]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(standingSig()), hatchetflow.WithRetries(2)}, opts...)...)
	must(t, err)
	_, err = hatchetflow.NewTask(c, "mail", func(_ hatchet.Context, in MailIn) (any, error) {
		f.mails <- in
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "page", func(_ hatchet.Context, in PageIn) (any, error) {
		f.pages <- in
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "plain", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.plain.Add(1)
		return in, nil
	})
	must(t, err)
}

// A run with no signature (as a cron, an event or a plain Hatchet caller starts it)
// of a task with a standing signature gets one: saved under the id derived from the
// run, run like any signature (bound kwargs merged, success callback with the return
// value) and listed.
func TestStandingSignatureGivesUnsignedRunsCallbacks(t *testing.T) {
	f := newStandingFlow(t)
	ctx := context.Background()
	runID, err := f.h.Dispatch(ctx, "report", map[string]any{"day": "mon", "format": "csv"}, nil)
	must(t, err)
	f.h.Drain(ctx)
	mail := <-f.mails
	if mail.Report.Value != (Report{Day: "mon", Format: "pdf"}) || mail.To != "ops@example.com" {
		t.Fatalf("success callback input %+v (want the return value, with the bound format winning)", mail)
	}
	id := hatchetflow.StandingSignatureID(runID)
	sig, err := f.h.Client.Signature(ctx, id)
	must(t, err)
	if sig.Task != "report" || sig.Status != hatchetflow.StatusDone || sig.RunID != runID || len(sig.OnSuccess) != 1 {
		t.Fatalf("standing signature %+v", sig)
	}
	page, err := f.h.Client.List(ctx, &hatchetflow.ListOptions{RootsOnly: true, Task: "report"})
	must(t, err)
	if len(page.Entries) != 1 || page.Entries[0].ID != id || page.Entries[0].RunID != runID {
		t.Fatalf("listed roots %+v", page.Entries)
	}
	if n := f.reports.Load(); n != 1 || len(f.mails) != 0 || len(f.pages) != 0 {
		t.Fatalf("report ran %d times, %d more mails, %d pages", n, len(f.mails), len(f.pages))
	}
}

// Retries and a second worker reach the same signature: nothing is saved twice, the
// callback runs once, and a duplicate attempt of a finished run calls no user code.
func TestStandingSignatureIsRetrySafe(t *testing.T) {
	f := newStandingFlow(t)
	f.fails.Store(1) // the first attempt fails, the retry succeeds
	ctx := context.Background()
	runID, err := f.h.Dispatch(ctx, "report", map[string]any{"day": "tue"}, nil)
	must(t, err)
	f.h.Drain(ctx)
	sig, err := f.h.Client.Signature(ctx, hatchetflow.StandingSignatureID(runID))
	must(t, err)
	if sig.Status != hatchetflow.StatusDone || sig.Attempt != 2 {
		t.Fatalf("after a retry: %s, attempt %d", sig.Status, sig.Attempt)
	}
	keys := len(f.h.Redis.Keys())
	// Another worker runs an attempt of the same run (a reassignment): the signature
	// and its callback exist already; the attempt returns the stored result.
	steps, ok := f.h.Client.Steps("report")
	if !ok {
		t.Fatal("no steps for report")
	}
	out, err := steps.Main(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "report", RunID: runID, RetryCount: 2}),
		map[string]any{"day": "tue"})
	if err != nil || string(out) != `{"Day":"tue","Format":"pdf"}` {
		t.Fatalf("a duplicate attempt = %s, %v", out, err)
	}
	if n := len(f.h.Redis.Keys()); n != keys {
		t.Fatalf("the duplicate attempt wrote keys: %d, then %d", keys, n)
	}
	f.h.Drain(ctx)
	if n := f.reports.Load(); n != 2 || len(f.mails) != 1 {
		t.Fatalf("report ran %d times (want 2: one failure, one success), %d mails (want 1)", n, len(f.mails))
	}
}

// The last attempt's failure reaches the standing error callback once, with the
// run's input and the bound kwargs, in both engine shapes (the on-failure step finds
// the standing signature by the run id too).
func TestStandingSignatureErrorCallback(t *testing.T) {
	for name, opts := range map[string][]hatchetflow.TaskOption{"lean": nil, "on-failure step": {hatchetflow.WithOnFailureStep()}} {
		t.Run(name, func(t *testing.T) {
			f := newStandingFlow(t, opts...)
			f.h.ExpectFailure("report")
			ctx := context.Background()
			runID, err := f.h.Dispatch(ctx, "report", map[string]any{"day": "wed", "fail": true}, nil)
			must(t, err)
			f.h.Drain(ctx)
			page := <-f.pages
			if page.Day != "wed" || page.Format != "pdf" || page.Failure.RunID != runID ||
				page.Failure.SignatureID != hatchetflow.StandingSignatureID(runID) || page.Failure.Message != "no data for wed" {
				t.Fatalf("error callback input %+v", page)
			}
			f.h.RequireStatus(t, hatchetflow.StandingSignatureID(runID), hatchetflow.StatusFailed)
			if run := f.h.Runs("report")[0]; run.OnFailureRan != (len(opts) > 0) {
				t.Fatalf("on-failure step ran: %v", run.OnFailureRan)
			}
			if len(f.mails) != 0 || len(f.pages) != 0 {
				t.Fatalf("%d mails, %d more pages", len(f.mails), len(f.pages))
			}
		})
	}
}

// A standing signature is a signature like any other: a cancel on the engine's side
// cancels it with its error path, and Client.Cancel cancels the run.
func TestStandingSignatureCancelledOnTheEngine(t *testing.T) {
	f := newStandingFlow(t)
	ctx := context.Background()
	block := make(chan struct{})
	started := make(chan string, 1)
	h := f.h
	_, err := hatchetflow.NewTask(h.Client, "wait", func(ctx hatchet.Context, in map[string]any) (any, error) {
		started <- ctx.WorkflowRunId()
		select {
		case <-ctx.Done():
		case <-block:
		}
		return nil, ctx.Err()
	}, hatchetflow.WithStandingSignature(dsl.Sign("wait").OnError(dsl.Sign("page"))))
	must(t, err)
	defer close(block)
	runID, err := h.Dispatch(ctx, "wait", map[string]any{"day": "thu"}, nil)
	must(t, err)
	done := make(chan struct{})
	go func() { defer close(done); h.Drain(ctx) }()
	<-started
	must(t, h.CancelRuns(ctx, []string{runID}))
	<-done
	page := <-f.pages
	if page.Day != "thu" || !page.Failure.Cancelled {
		t.Fatalf("error callback input %+v", page)
	}
	h.RequireStatus(t, hatchetflow.StandingSignatureID(runID), hatchetflow.StatusCancelled)
}

// A task without the option keeps plain runs plain: no Redis at all. A signed run of
// a task with one uses its own signature, not the standing one.
func TestRunsThatNeedNoStandingSignature(t *testing.T) {
	f := newStandingFlow(t)
	ctx := context.Background()
	keys := len(f.h.Redis.Keys())
	if _, err := f.h.Dispatch(ctx, "plain", map[string]any{"x": 1}, nil); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	if n := len(f.h.Redis.Keys()); n != keys || f.plain.Load() != 1 {
		t.Fatalf("a plain run of a task with no standing signature: keys %d → %d, calls %d", keys, n, f.plain.Load())
	}
	h, err := dsl.Sign("report").OnSuccess(dsl.Sign("mail").With(dsl.KW{"to": "me"})).Run(ctx, f.h.Client, ReportIn{Day: "fri"})
	must(t, err)
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	f.h.Drain(ctx)
	if mail := <-f.mails; mail.To != "me" || mail.Report.Value.Format != "" {
		t.Fatalf("the signed run's callback got %+v (want its own signature's, no bound format)", mail)
	}
	if _, err := f.h.Client.Signature(ctx, hatchetflow.StandingSignatureID(h.RunID())); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("a signed run saved a standing signature too: %v", err)
	}
}

// NewTask refuses a standing signature that cannot work, with a typed error.
func TestNewTaskRefusesBadStandingSignatures(t *testing.T) {
	h := flowtest.New(t)
	fn := func(hatchet.Context, ReportIn) (any, error) { return nil, nil }
	saved, err := dsl.Sign("page-saved").Save(context.Background(), nopBackend{})
	must(t, err)
	for name, tc := range map[string]struct {
		opts []hatchetflow.TaskOption
		want error
	}{
		"another task":  {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("other"))}, hatchetflow.ErrWrongTask},
		"given twice":   {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t")), hatchetflow.WithStandingSignature(dsl.Sign("t"))}, hatchetflow.ErrConflictingOptions},
		"validate":      {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t").Validate(ReportIn{}))}, hatchetflow.ErrStandingSignature},
		"saved":         {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t").OnError(saved))}, hatchetflow.ErrStandingSignature},
		"kwargs":        {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t").With(dsl.KW{"day": 5}))}, inject.ErrValidation},
		"nil callback":  {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t").OnSuccess(nil))}, dsl.ErrNilCallback},
		"unknown field": {[]hatchetflow.TaskOption{hatchetflow.WithStandingSignature(dsl.Sign("t").With(dsl.KW{"nope": 1}))}, inject.ErrValidation},
	} {
		_, err := hatchetflow.NewTask(h.Client, "t", fn, tc.opts...)
		if !errors.Is(err, tc.want) || !errors.Is(err, hatchetflow.ErrStandingSignature) {
			t.Errorf("%s: NewTask = %v, want %v and ErrStandingSignature", name, err, tc.want)
		}
	}
}

// RegisterTasks (so NewWorker) checks the standing signature's callbacks as Save
// would; a run whose template no longer saves fails before user code, once.
func TestStandingCallbacksAreCheckedAtRegistration(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(nopDispatcher{}))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "report", func(hatchet.Context, ReportIn) (any, error) { return nil, nil },
		hatchetflow.WithStandingSignature(dsl.Sign("report").OnSuccess(dsl.Sign("nobody-serves-this"))))
	must(t, err)
	err = c.RegisterTasks(context.Background())
	if !errors.Is(err, hatchetflow.ErrStandingSignature) || !errors.Is(err, hatchetflow.ErrUnknownTask) {
		t.Fatalf("RegisterTasks = %v, want a StandingSignatureError for the unknown task", err)
	}

	// On the harness (which registers nothing), the run itself finds out.
	h := flowtest.New(t)
	var calls atomic.Int32
	_, err = hatchetflow.NewTask(h.Client, "report", func(hatchet.Context, ReportIn) (any, error) { calls.Add(1); return nil, nil },
		hatchetflow.WithStandingSignature(dsl.Sign("report").OnSuccess(dsl.Sign("nobody-serves-this"))), hatchetflow.WithRetries(3))
	must(t, err)
	h.ExpectFailure("report")
	runID, err := h.Dispatch(context.Background(), "report", map[string]any{}, nil)
	must(t, err)
	h.Drain(context.Background())
	run := h.Runs("report")[0]
	if calls.Load() != 0 || run.Status != flowtest.StatusFailed || run.Attempts != 1 {
		t.Fatalf("run of a standing signature that does not save: %d calls, %s after %d attempts", calls.Load(), run.Status, run.Attempts)
	}
	if _, err := h.Client.Signature(context.Background(), hatchetflow.StandingSignatureID(runID)); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("signature of the refused run: %v", err)
	}
}

// nopBackend saves nothing; it gives a dsl.Saved to refer to.
type nopBackend struct{}

func (nopBackend) SaveSignature(_ context.Context, spec dsl.Spec) (dsl.Saved, error) {
	return dsl.Saved{ID: "01a24ab8-0000-7000-8000-000000000000", Task: "page"}, nil
}

func (nopBackend) RunSignature(context.Context, dsl.Spec, any) (dsl.Handle, error) {
	return nil, errors.New("nopBackend runs nothing")
}

// lostEngine reports one failed run (its worker was lost) and records what is
// dispatched; it runs nothing.
type lostEngine struct {
	mu         sync.Mutex
	ended      []engine.EndedRun
	dispatched []string
}

func (e *lostEngine) Dispatch(_ context.Context, task string, _ map[string]any, _ map[string]string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dispatched = append(e.dispatched, task)
	return fmt.Sprintf("cb-%d", len(e.dispatched)), nil
}

func (e *lostEngine) EndedRuns(context.Context, engine.RunQuery) ([]engine.EndedRun, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended, nil
}

// A standing run whose worker was lost mid-run is settled by the reconciler, which
// finds its signature from the run id alone (the run's metadata names none).
func TestReconcilerSettlesALostStandingRun(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	eng := &lostEngine{}
	c, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(eng))
	must(t, err)
	started, release := make(chan struct{}), make(chan struct{})
	_, err = hatchetflow.NewTask(c, "report", func(hatchet.Context, ReportIn) (any, error) {
		close(started)
		<-release
		return nil, nil
	}, hatchetflow.WithStandingSignature(dsl.Sign("report").OnError(dsl.Sign("page"))))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "page", func(hatchet.Context, PageIn) (any, error) { return nil, nil })
	must(t, err)
	ctx := context.Background()
	must(t, c.RegisterTasks(ctx))
	steps, _ := c.Steps("report")
	const runID = "0190f1f0-0000-7000-8000-00000000abcd"
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = steps.Main(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "report", RunID: runID}), map[string]any{"day": "lost"})
	}()
	<-started // the signature is active, owned by the run whose worker is about to be "lost"
	eng.mu.Lock()
	eng.ended = []engine.EndedRun{{RunID: runID, Message: "worker lost"}}
	eng.mu.Unlock()
	must(t, c.ReconcileNow(ctx))
	sig, err := c.Signature(ctx, hatchetflow.StandingSignatureID(runID))
	must(t, err)
	if sig.Status != hatchetflow.StatusFailed || sig.Error != "worker lost" {
		t.Fatalf("after the reconciler: %s, %q", sig.Status, sig.Error)
	}
	close(release)
	<-done
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if len(eng.dispatched) != 1 || eng.dispatched[0] != "page" {
		t.Fatalf("dispatched %v, want the error callback once", eng.dispatched)
	}
}
