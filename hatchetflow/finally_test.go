package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// FinJob is the input of fin-job.
type FinJob struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
	Fail bool   `json:"fail,omitempty"`
}

// FinDone is what fin-job returns.
type FinDone struct {
	ID string `json:"id"`
	N  int    `json:"n"`
}

// FinStep is a chain step or swarm item: it returns V+1, and fails for good when V is
// FailAt.
type FinStep struct {
	V      inject.ReturnValue[int] `json:"v"`
	ID     string                  `json:"id,omitempty"`
	FailAt int                     `json:"fail_at,omitempty"`
}

// Cleanup is a finally callback's input: fields of the original message, a bound tag
// and the outcome.
type Cleanup struct {
	ID      string         `json:"id,omitempty"`
	Note    string         `json:"note,omitempty"`
	V       int            `json:"v,omitempty"`
	Tag     string         `json:"tag,omitempty"`
	Outcome inject.Outcome `json:"outcome"`
}

type finFlow struct {
	h        *flowtest.Harness
	mu       sync.Mutex
	cleanups []Cleanup
	anys     []map[string]any
	errs     int
	jobs     int
}

func newFinFlow(t *testing.T, opts ...hatchetflow.Option) *finFlow {
	t.Helper()
	f := &finFlow{h: flowtest.New(t, opts...)}
	f.h.Quiet()
	f.register(t, f.h.Client)
	return f
}

// register registers the finally test tasks on c.
func (f *finFlow) register(t *testing.T, c *hatchetflow.Client) {
	t.Helper()
	_, err := hatchetflow.NewTask(c, "fin-job", func(_ hatchet.Context, in FinJob) (FinDone, error) {
		f.mu.Lock()
		f.jobs++
		f.mu.Unlock()
		if in.Fail {
			return FinDone{}, hatchetflow.NonRetryable(errors.New("job refused"))
		}
		return FinDone{ID: in.ID, N: 1}, nil
	}, hatchetflow.WithRetries(1))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fin-step", func(_ hatchet.Context, in FinStep) (int, error) {
		if in.FailAt != 0 && in.V.Value == in.FailAt {
			return 0, hatchetflow.NonRetryable(fmt.Errorf("step refuses %d", in.V.Value))
		}
		return in.V.Value + 1, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fin-cleanup", func(_ hatchet.Context, in Cleanup) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.cleanups = append(f.cleanups, in)
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fin-any", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.anys = append(f.anys, in)
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fin-error", func(_ hatchet.Context, in map[string]any) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.errs++
		return nil, nil
	})
	must(t, err)
}

// tagged returns the cleanups received with tag.
func (f *finFlow) tagged(tag string) []Cleanup {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Cleanup
	for _, c := range f.cleanups {
		if c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// one returns the one cleanup received with tag, failing the test when there is not
// exactly one.
func (f *finFlow) one(t *testing.T, tag string) Cleanup {
	t.Helper()
	got := f.tagged(tag)
	if len(got) != 1 {
		t.Fatalf("finally callback %q ran %d times, want once (all: %+v)", tag, len(got), f.cleanups)
	}
	return got[0]
}

func (f *finFlow) errorCallbacks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs
}

func cleanup(tag string) dsl.Builder { return dsl.Sign("fin-cleanup").With(dsl.KW{"tag": tag}) }

func TestFinallyAfterSuccess(t *testing.T) {
	f := newFinFlow(t)
	ctx := context.Background()
	sig := dsl.Sign("fin-job").With(dsl.KW{"note": "bound"}).
		OnError(dsl.Sign("fin-error")).
		Finally(cleanup("plain"), cleanup("own").With(dsl.KW{"note": "mine"}))
	h, err := sig.Run(ctx, f.h.Client, FinJob{ID: "j1", Note: "input"})
	must(t, err)
	f.h.Drain(ctx)
	// The message of the ended signature: its input with its bound kwargs merged over it.
	got := f.one(t, "plain")
	if got.ID != "j1" || got.Note != "bound" || got.Outcome.Status != inject.OutcomeDone || !got.Outcome.Succeeded() ||
		got.Outcome.Error != nil || string(got.Outcome.Result) != `{"id":"j1","n":1}` {
		t.Fatalf("finally callback got %+v (result %s)", got, got.Outcome.Result)
	}
	// Its own bound kwargs win.
	if own := f.one(t, "own"); own.Note != "mine" || own.ID != "j1" {
		t.Fatalf("finally callback with its own note got %+v", own)
	}
	if n := f.errorCallbacks(); n != 0 {
		t.Fatalf("error callbacks ran %d times after a success", n)
	}
	rec, err := f.h.Client.Signature(ctx, h.SignatureID())
	must(t, err)
	if len(rec.Finally) != 2 {
		t.Fatalf("Signature.Finally = %+v", rec.Finally)
	}
	for _, cb := range rec.Finally {
		if _, ok := rec.DispatchedRun(hatchetflow.OutcomeFinally, cb.ID); !ok {
			t.Fatalf("no finally marker for %s: %v", cb.ID, rec.Dispatched)
		}
	}
}

func TestFinallyAfterFailure(t *testing.T) {
	f := newFinFlow(t)
	f.h.ExpectFailure("fin-job")
	ctx := context.Background()
	h, err := dsl.Sign("fin-job").OnError(dsl.Sign("fin-error")).Finally(cleanup("fin")).
		Run(ctx, f.h.Client, FinJob{ID: "j2", Fail: true})
	must(t, err)
	f.h.Drain(ctx)
	got := f.one(t, "fin")
	e := got.Outcome.Error
	if got.ID != "j2" || got.Outcome.Status != inject.OutcomeFailed || got.Outcome.Succeeded() || len(got.Outcome.Result) != 0 ||
		e == nil || e.Message != "job refused" || e.SignatureID != h.SignatureID() || e.Task != "fin-job" || e.Cancelled {
		t.Fatalf("finally callback got %+v / %+v", got, e)
	}
	if n := f.errorCallbacks(); n != 1 {
		t.Fatalf("error callbacks ran %d times, want 1", n)
	}
}

func TestFinallyAfterCancel(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprintf("silent=%v", silent), func(t *testing.T) {
			f := newFinFlow(t)
			ctx := context.Background()
			c := f.h.Client
			saved, err := dsl.Sign("fin-job").With(dsl.KW{"note": "n"}).OnError(dsl.Sign("fin-error")).
				Finally(cleanup("fin")).Save(ctx, c)
			must(t, err)
			must(t, c.Cancel(ctx, saved.ID, &hatchetflow.CancelOptions{Silent: silent, Reason: "user left"}))
			f.h.Drain(ctx)
			// A silent cancel suppresses the error callbacks, not the cleanup.
			got := f.one(t, "fin")
			e := got.Outcome.Error
			if got.Note != "n" || got.Outcome.Status != inject.OutcomeCancelled || e == nil || !e.Cancelled || e.Message != "user left" {
				t.Fatalf("finally callback got %+v / %+v", got, e)
			}
			want := 1
			if silent {
				want = 0
			}
			if n := f.errorCallbacks(); n != want {
				t.Fatalf("error callbacks ran %d times, want %d", n, want)
			}
			if f.jobs != 0 {
				t.Fatalf("the cancelled job ran")
			}
		})
	}
}

// A finally callback whose input type marks no outcome field gets the outcome in
// hatchetflow_outcome.
func TestFinallyDefaultOutcomeField(t *testing.T) {
	f := newFinFlow(t)
	ctx := context.Background()
	_, err := dsl.Sign("fin-job").Finally(dsl.Sign("fin-any")).Run(ctx, f.h.Client, FinJob{ID: "j3"})
	must(t, err)
	f.h.Drain(ctx)
	if len(f.anys) != 1 {
		t.Fatalf("fin-any ran %d times", len(f.anys))
	}
	b, _ := json.Marshal(f.anys[0])
	if string(b) != `{"hatchetflow_outcome":{"result":{"id":"j3","n":1},"status":"done"},"id":"j3"}` {
		t.Fatalf("fin-any got %s", b)
	}
}

// Finally callbacks go out once, whatever runs the end path again: a retried attempt,
// a repeat of the main step for the run that ended the signature, the on-failure step.
func TestFinallyFiresOnceWhenThePathRunsAgain(t *testing.T) {
	ctx := context.Background()
	rerun := func(t *testing.T, f *finFlow, id string, in map[string]any) {
		t.Helper()
		sig, err := f.h.Client.Signature(ctx, id)
		must(t, err)
		steps, _ := f.h.Client.Steps("fin-job")
		for range 2 { // the run that ended it, started again (a reassigned attempt)
			_, err = steps.Main(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "fin-job", RunID: sig.RunID,
				RetryCount: 1, Metadata: map[string]string{hatchetflow.MetaSignature: id}, Input: in}), in)
			if sig.Status == hatchetflow.StatusDone {
				must(t, err)
			}
		}
		if f.h.Queued() != 0 {
			t.Fatalf("the repeated end path dispatched %d runs", f.h.Queued())
		}
	}
	t.Run("retried attempt", func(t *testing.T) {
		f := newFinFlow(t)
		f.h.Inject("fin-job", 0, flowtest.Fail(errors.New("flaky")))
		_, err := dsl.Sign("fin-job").Finally(cleanup("fin")).Run(ctx, f.h.Client, FinJob{ID: "r"})
		must(t, err)
		f.h.Drain(ctx)
		if got := f.one(t, "fin"); got.Outcome.Status != inject.OutcomeDone {
			t.Fatalf("finally after a retry got %+v", got)
		}
	})
	t.Run("success path again", func(t *testing.T) {
		f := newFinFlow(t)
		h, err := dsl.Sign("fin-job").Finally(cleanup("fin")).Run(ctx, f.h.Client, FinJob{ID: "s"})
		must(t, err)
		f.h.Drain(ctx)
		rerun(t, f, h.SignatureID(), map[string]any{"id": "s"})
		f.one(t, "fin")
		if f.jobs != 1 {
			t.Fatalf("user code ran %d times", f.jobs)
		}
	})
	t.Run("failure path again", func(t *testing.T) {
		f := newFinFlow(t)
		f.h.ExpectFailure("fin-job")
		h, err := dsl.Sign("fin-job").OnError(dsl.Sign("fin-error")).Finally(cleanup("fin")).
			Run(ctx, f.h.Client, FinJob{ID: "f", Fail: true})
		must(t, err)
		f.h.Drain(ctx)
		rerun(t, f, h.SignatureID(), map[string]any{"id": "f", "fail": true})
		f.h.Drain(ctx)
		if got := f.one(t, "fin"); got.Outcome.Status != inject.OutcomeFailed {
			t.Fatalf("finally got %+v", got)
		}
		if n := f.errorCallbacks(); n != 1 {
			t.Fatalf("error callbacks ran %d times", n)
		}
	})
	t.Run("on-failure step twice", func(t *testing.T) {
		f := newFinFlow(t)
		c := f.h.Client
		f.h.ExpectFailure("fin-guarded")
		_, err := hatchetflow.NewTask(c, "fin-guarded", func(hatchet.Context, FinJob) (any, error) {
			return nil, hatchetflow.NonRetryable(errors.New("guarded refused"))
		}, hatchetflow.WithOnFailureStep())
		must(t, err)
		h, err := dsl.Sign("fin-guarded").Finally(cleanup("fin")).Run(ctx, c, FinJob{ID: "g"})
		must(t, err)
		f.h.Drain(ctx)
		sig, err := c.Signature(ctx, h.SignatureID())
		must(t, err)
		steps, _ := c.Steps("fin-guarded")
		in := map[string]any{"id": "g"}
		_, err = steps.OnFailure(flowtest.NewContext(ctx, &flowtest.ContextOptions{Task: "fin-guarded", RunID: sig.RunID,
			Metadata: map[string]string{hatchetflow.MetaSignature: sig.ID}, Input: in,
			StepErrors: map[string]string{"fin-guarded": "guarded refused"}}), in)
		must(t, err)
		f.h.Drain(ctx)
		if got := f.one(t, "fin"); got.Outcome.Status != inject.OutcomeFailed || got.Outcome.Error.Message != "guarded refused" {
			t.Fatalf("finally got %+v", got)
		}
	})
}

// A finally callback's record outlives the signature's end: the success branch lowers
// the error callbacks' TTL, never the finally callbacks'.
func TestFinallyCallbackKeepsItsTTL(t *testing.T) {
	f := newFinFlow(t, hatchetflow.WithDoneTTL(time.Hour))
	ctx := context.Background()
	h, err := dsl.Sign("fin-job").OnError(dsl.Sign("fin-error")).Finally(cleanup("fin")).Run(ctx, f.h.Client, FinJob{ID: "t"})
	must(t, err)
	f.h.Step(ctx) // the job runs; its finally callback is queued, not run
	sig, err := f.h.Client.Signature(ctx, h.SignatureID())
	must(t, err)
	ttl := func(id string) time.Duration { return f.h.Redis.TTL(f.h.Client.Store().SignatureKey(id)) }
	if d := ttl(sig.OnError[0].ID); d <= 0 || d > time.Hour {
		t.Fatalf("error callback TTL %v, want the done TTL", d)
	}
	if d := ttl(sig.Finally[0].ID); d <= time.Hour {
		t.Fatalf("finally callback TTL %v, want the active TTL", d)
	}
	f.h.Drain(ctx)
	f.one(t, "fin")
}

func chainInput(v int, id string) map[string]any { return map[string]any{"v": v, "id": id} }

func TestChainFinally(t *testing.T) {
	ctx := context.Background()
	t.Run("done", func(t *testing.T) {
		f := newFinFlow(t)
		ch := dsl.Chain(dsl.Sign("fin-step").Finally(cleanup("step1")), dsl.Sign("fin-step"), dsl.Sign("fin-step")).
			Finally(cleanup("chain"))
		h, err := ch.Run(ctx, f.h.Client, chainInput(1, "c1"))
		must(t, err)
		got, err := hatchetflow.WaitResult[int](ctx, h)
		must(t, err)
		f.h.Drain(ctx)
		if got != 4 {
			t.Fatalf("chain result %d", got)
		}
		// The chain's finally gets the chain's input and the last step's result.
		if c := f.one(t, "chain"); c.ID != "c1" || c.V != 1 || c.Outcome.Status != inject.OutcomeDone || string(c.Outcome.Result) != "4" {
			t.Fatalf("chain finally got %+v (result %s)", c, c.Outcome.Result)
		}
		// A step's own finally runs after that step.
		if s := f.one(t, "step1"); s.V != 1 || string(s.Outcome.Result) != "2" {
			t.Fatalf("step finally got %+v (result %s)", s, s.Outcome.Result)
		}
	})
	t.Run("failed", func(t *testing.T) {
		f := newFinFlow(t)
		f.h.ExpectFailure("fin-step")
		ch := dsl.Chain(dsl.Sign("fin-step"), dsl.Sign("fin-step").With(dsl.KW{"fail_at": 2}).Finally(cleanup("step2")),
			dsl.Sign("fin-step").Finally(cleanup("step3"))).
			OnError(dsl.Sign("fin-error")).Finally(cleanup("chain"))
		h, err := ch.Run(ctx, f.h.Client, chainInput(1, "c2"))
		must(t, err)
		f.h.Drain(ctx)
		c := f.one(t, "chain")
		e := c.Outcome.Error
		if c.ID != "c2" || c.V != 1 || c.Outcome.Status != inject.OutcomeFailed || e == nil || e.ChainID != h.SignatureID() ||
			e.Task != "fin-step" || e.Message != "step refuses 2" {
			t.Fatalf("chain finally got %+v / %+v", c, e)
		}
		if s := f.one(t, "step2"); s.V != 2 || s.Outcome.Status != inject.OutcomeFailed || s.Outcome.Error.ChainID != "" {
			t.Fatalf("failed step's finally got %+v / %+v", s, s.Outcome.Error)
		}
		if n := len(f.tagged("step3")); n != 0 {
			t.Fatalf("the finally of a step that never started ran %d times", n)
		}
		if n := f.errorCallbacks(); n != 1 {
			t.Fatalf("chain error callbacks ran %d times", n)
		}
	})
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelled silent=%v", silent), func(t *testing.T) {
			f := newFinFlow(t, hatchetflow.WithDoneTTL(time.Hour))
			f.h.AllowFailures()
			c := f.h.Client
			ch := dsl.Chain(dsl.Sign("fin-step"), dsl.Sign("fin-step").Finally(cleanup("step2")),
				dsl.Sign("fin-step").Finally(cleanup("step3"))).
				OnError(dsl.Sign("fin-error")).Finally(cleanup("chain"))
			h, err := ch.Run(ctx, c, chainInput(1, "c3"))
			must(t, err)
			f.h.Step(ctx) // step 1 runs and dispatches step 2
			must(t, c.Cancel(ctx, h.SignatureID(), &hatchetflow.CancelOptions{Silent: silent}))
			f.h.Drain(ctx)
			if cc := f.one(t, "chain"); cc.Outcome.Status != inject.OutcomeCancelled || !cc.Outcome.Error.Cancelled ||
				cc.Outcome.Error.ChainID != h.SignatureID() || cc.ID != "c3" {
				t.Fatalf("chain finally got %+v / %+v", cc, cc.Outcome.Error)
			}
			if s := f.one(t, "step2"); s.Outcome.Status != inject.OutcomeCancelled {
				t.Fatalf("current step's finally got %+v", s)
			}
			if n := len(f.tagged("step3")); n != 0 {
				t.Fatalf("the finally of a later step, which never ran, ran %d times", n)
			}
			want := 1
			if silent {
				want = 0
			}
			if n := f.errorCallbacks(); n != want {
				t.Fatalf("chain error callbacks ran %d times, want %d", n, want)
			}
			// The later step's finally callback will never run: it gets the done TTL.
			st, err := c.Chain(ctx, h.SignatureID())
			must(t, err)
			step3, err := c.Signature(ctx, st.Steps[2].ID)
			must(t, err)
			if d := f.h.Redis.TTL(c.Store().SignatureKey(step3.Finally[0].ID)); d <= 0 || d > time.Hour {
				t.Fatalf("a never-run finally callback's TTL is %v, want the done TTL", d)
			}
		})
	}
}

func TestSwarmFinally(t *testing.T) {
	ctx := context.Background()
	t.Run("done", func(t *testing.T) {
		f := newFinFlow(t)
		sw := dsl.Swarm(dsl.Sign("fin-step"), dsl.Sign("fin-step").With(dsl.KW{"v": 5})).Finally(cleanup("swarm"))
		h, err := sw.Run(ctx, f.h.Client, chainInput(1, "s1"))
		must(t, err)
		_, err = h.Wait(ctx)
		must(t, err)
		f.h.Drain(ctx)
		if s := f.one(t, "swarm"); s.ID != "s1" || s.V != 1 || s.Outcome.Status != inject.OutcomeDone || string(s.Outcome.Result) != "[2,6]" {
			t.Fatalf("swarm finally got %+v (result %s)", s, s.Outcome.Result)
		}
	})
	t.Run("failed", func(t *testing.T) {
		f := newFinFlow(t)
		f.h.ExpectFailure("fin-step")
		sw := dsl.Swarm(dsl.Sign("fin-step").With(dsl.KW{"fail_at": 1}), dsl.Sign("fin-step").With(dsl.KW{"v": 5})).
			MaxConcurrency(1).StopAfter(1).OnError(dsl.Sign("fin-error")).Finally(cleanup("swarm"))
		h, err := sw.Run(ctx, f.h.Client, chainInput(1, "s2"))
		must(t, err)
		f.h.Drain(ctx)
		s := f.one(t, "swarm")
		if e := s.Outcome.Error; s.Outcome.Status != inject.OutcomeFailed || e == nil || e.Failures != 1 || e.SignatureID != h.SignatureID() {
			t.Fatalf("swarm finally got %+v / %+v", s, e)
		}
		if n := f.errorCallbacks(); n != 1 {
			t.Fatalf("swarm error callbacks ran %d times", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		f := newFinFlow(t)
		f.h.AllowFailures()
		c := f.h.Client
		sw := dsl.Swarm(dsl.Sign("fin-step").Finally(cleanup("running")), dsl.Sign("fin-step").Finally(cleanup("queued"))).
			MaxConcurrency(1).OnError(dsl.Sign("fin-error")).Finally(cleanup("swarm"))
		h, err := sw.Run(ctx, c, chainInput(1, "s3"))
		must(t, err)
		f.h.Step(ctx) // the swarm starts: item 0 is dispatched, item 1 queued
		must(t, c.Cancel(ctx, h.SignatureID(), &hatchetflow.CancelOptions{Silent: true}))
		f.h.Drain(ctx)
		if s := f.one(t, "swarm"); s.Outcome.Status != inject.OutcomeCancelled || !s.Outcome.Error.Cancelled || s.ID != "s3" {
			t.Fatalf("swarm finally got %+v", s)
		}
		if s := f.one(t, "running"); s.Outcome.Status != inject.OutcomeCancelled {
			t.Fatalf("dispatched item's finally got %+v", s)
		}
		if n := len(f.tagged("queued")); n != 0 {
			t.Fatalf("a queued item's finally, which never ran, ran %d times", n)
		}
		if n := f.errorCallbacks(); n != 0 {
			t.Fatalf("a silent cancel fired %d error callbacks", n)
		}
	})
}

// BadOutcome declares the default outcome field with a type an outcome does not fit.
type BadOutcome struct {
	Outcome int `json:"hatchetflow_outcome"`
}

// NeedsReason requires a field only its bound kwargs can provide.
type NeedsReason struct {
	Outcome *inject.Outcome `json:"o,omitempty" hatchetflow:"outcome"`
	Reason  string          `json:"reason" jsonschema:"required"`
}

func TestFinallyIsCheckedAtSave(t *testing.T) {
	f := newFinFlow(t)
	c := f.h.Client
	ctx := context.Background()
	_, err := hatchetflow.NewTask(c, "fin-bad", func(hatchet.Context, BadOutcome) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "fin-needs", func(hatchet.Context, NeedsReason) (any, error) { return nil, nil })
	must(t, err)
	_, err = dsl.Sign("fin-job").Finally(dsl.Sign("fin-bad")).Save(ctx, c)
	var me *hatchetflow.CallbackMismatchError
	if !errors.As(err, &me) || me.Outcome != "finally" || me.Field != "hatchetflow_outcome" || !strings.Contains(err.Error(), "finally callback") {
		t.Fatalf("a finally callback whose outcome field is an int: %v", err)
	}
	// Bound, the field is the callback's own: nothing is injected over it.
	_, err = dsl.Sign("fin-job").Finally(dsl.Sign("fin-bad").With(dsl.KW{"hatchetflow_outcome": 3})).Save(ctx, c)
	must(t, err)
	_, err = dsl.Chain(dsl.Sign("fin-step"), dsl.Sign("fin-step")).Finally(dsl.Sign("fin-needs")).Save(ctx, c)
	if !errors.As(err, &me) || me.Field != "reason" || !errors.Is(err, hatchetflow.ErrCallbackMismatch) {
		t.Fatalf("a chain finally callback missing a required field: %v", err)
	}
	_, err = dsl.Swarm(dsl.Sign("fin-step")).Finally(dsl.Sign("fin-needs").With(dsl.KW{"reason": "x"})).Save(ctx, c)
	must(t, err)
	// The outcome reaches the field the type marks.
	_, err = dsl.Sign("fin-job").Finally(dsl.Sign("fin-needs").With(dsl.KW{"reason": "x"})).Run(ctx, c, FinJob{ID: "m"})
	must(t, err)
	f.h.Drain(ctx)
	run := f.h.RequireReceived(t, "fin-needs", nil)
	if o, _ := run.Received["o"].(map[string]any); o["status"] != "done" {
		t.Fatalf("fin-needs received %v", run.Received)
	}
}

func TestFinallyInTreeSignatureAndDelete(t *testing.T) {
	f := newFinFlow(t)
	c := f.h.Client
	ctx := context.Background()
	ch := dsl.Chain(dsl.Sign("fin-step").Finally(cleanup("s")), dsl.Sign("fin-step")).Finally(cleanup("c"))
	saved, err := dsl.Sign("fin-job").Finally(ch, cleanup("j")).Save(ctx, c)
	must(t, err)
	if len(saved.Finally) != 2 || !saved.Finally[0].Chain || len(saved.Finally[0].Finally) != 1 {
		t.Fatalf("Saved = %+v", saved)
	}
	tree, err := c.Tree(ctx, saved.ID)
	must(t, err)
	if len(tree.Finally) != 2 || tree.Finally[0].Kind != "chain" || len(tree.Finally[0].Finally) != 1 ||
		len(tree.Finally[0].Steps[0].Finally) != 1 || tree.Finally[1].Task != "fin-cleanup" {
		b, _ := json.Marshal(tree)
		t.Fatalf("tree %s", b)
	}
	step, err := c.Signature(ctx, tree.Finally[0].Steps[0].ID)
	must(t, err)
	if len(step.ChainFinally) != 1 || step.ChainFinally[0].ID != tree.Finally[0].Finally[0].ID || len(step.Finally) != 1 {
		t.Fatalf("chain step %+v", step)
	}
	// The job, the chain, its two steps, and the three finally callbacks.
	n, err := c.Delete(ctx, saved.ID)
	must(t, err)
	if n != 7 {
		t.Fatalf("Delete removed %d records, want 7", n)
	}
}
