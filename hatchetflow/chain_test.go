package hatchetflow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

// IncInput receives the previous step's value and adds Step (default 1).
type IncInput struct {
	V    inject.ReturnValue[int] `json:"v"`
	Step int                     `json:"step,omitempty"`
}

// ChainFailure is what a chain's error callback asks for.
type ChainFailure struct {
	V       int               `json:"v"`
	Tag     string            `json:"tag,omitempty"`
	Failure *inject.TaskError `json:"failure,omitempty"`
}

type chainFlow struct {
	h        *flowtest.Harness
	mu       sync.Mutex
	calls    map[string][]int // task -> values received
	failures []ChainFailure
	failAt   map[int]bool // inc fails for good when it receives this value
}

func (f *chainFlow) record(task string, v int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[task] = append(f.calls[task], v)
}

func (f *chainFlow) got(task string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.calls[task]...)
}

func newChainFlow(t *testing.T, opts ...hatchetflow.Option) *chainFlow {
	t.Helper()
	f := &chainFlow{h: flowtest.New(t, opts...), calls: map[string][]int{}, failAt: map[int]bool{}}
	f.h.Quiet()
	f.register(t, f.h.Client)
	return f
}

// register registers the chain test tasks on c.
func (f *chainFlow) register(t *testing.T, c *hatchetflow.Client) {
	t.Helper()
	_, err := hatchetflow.NewTask(c, "inc", func(_ hatchet.Context, in IncInput) (int, error) {
		f.record("inc", in.V.Value)
		if f.failAt[in.V.Value] {
			return 0, errors.New("inc refuses")
		}
		step := in.Step
		if step == 0 {
			step = 1
		}
		return in.V.Value + step, nil
	}, hatchetflow.WithRetries(1))
	must(t, err)
	_, err = hatchetflow.NewTask(c, "collect", func(_ hatchet.Context, in IncInput) (any, error) {
		f.record("collect", in.V.Value)
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "chain-failed", func(_ hatchet.Context, in ChainFailure) (any, error) {
		f.mu.Lock()
		f.failures = append(f.failures, in)
		f.mu.Unlock()
		return nil, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "receipt", func(_ hatchet.Context, in IncInput) (Receipt, error) { return Receipt{Total: in.V.Value}, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "nap", func(ctx hatchet.Context, in IncInput) (int, error) {
		f.record("nap", in.V.Value)
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
		return in.V.Value, nil
	}, hatchetflow.WithExecutionTimeout(time.Second))
	must(t, err)
}

func equalInts(t *testing.T, what string, got, want []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}

func TestChainPassesResultsAndFiresItsCallbacks(t *testing.T) {
	f := newChainFlow(t)
	ctx := context.Background()
	chain := dsl.Chain(
		dsl.Sign("inc"),
		dsl.Sign("inc").With(dsl.KW{"step": 5}).OnSuccess(dsl.Sign("collect")), // its own kwargs win
		dsl.Sign("inc"),
	).With(dsl.KW{"step": 2}).OnSuccess(dsl.Sign("collect")).OnError(dsl.Sign("chain-failed"))
	saved, err := chain.Save(ctx, f.h.Client)
	must(t, err)
	if !saved.Chain || saved.Task != "inc" {
		t.Fatalf("Saved = %+v", saved)
	}
	st, err := f.h.Client.Chain(ctx, saved.ID)
	must(t, err)
	if st.Status != hatchetflow.StatusPending || len(st.Steps) != 3 || st.Current != 0 {
		t.Fatalf("before the run: %+v", st)
	}
	h, err := saved.Run(ctx, f.h.Client, map[string]any{"v": 1})
	must(t, err)
	got, err := hatchetflow.WaitResult[int](ctx, h)
	must(t, err)
	if got != 10 || h.SignatureID() != saved.ID {
		t.Fatalf("chain result %d (handle %s), want 10 = 1+2+5+2", got, h.SignatureID())
	}
	f.h.Drain(ctx)
	equalInts(t, "inc received", f.got("inc"), []int{1, 3, 8})
	// Step 2's own callback got step 2's value; the chain's got the last one.
	equalInts(t, "collect received", f.got("collect"), []int{8, 10})
	if len(f.failures) != 0 {
		t.Fatalf("error callbacks ran after a success: %+v", f.failures)
	}
	st, err = f.h.Client.Chain(ctx, saved.ID)
	must(t, err)
	if st.Status != hatchetflow.StatusDone || st.Current != 2 || string(st.Result) != "10" {
		t.Fatalf("after the run: %+v", st)
	}
	// A chain that ran cannot run again.
	if _, err := saved.Run(ctx, f.h.Client, map[string]any{"v": 1}); !errors.Is(err, hatchetflow.ErrNotPending) {
		t.Fatalf("re-run of a done chain = %v", err)
	}
}

func TestChainStopsAtAFailedStep(t *testing.T) {
	f := newChainFlow(t)
	f.h.ExpectFailure("inc")
	f.failAt[2] = true
	ctx := context.Background()
	chain := dsl.Chain(
		dsl.Sign("inc"),
		dsl.Sign("inc").OnError(dsl.Sign("chain-failed").With(dsl.KW{"tag": "step"})),
		dsl.Sign("inc"),
	).OnSuccess(dsl.Sign("collect")).OnError(dsl.Sign("chain-failed").With(dsl.KW{"tag": "chain"}))
	h, err := chain.Run(ctx, f.h.Client, map[string]any{"v": 1})
	must(t, err)
	_, err = h.Wait(ctx)
	var re *hatchetflow.RunError
	if !errors.As(err, &re) || re.Task != "inc" || re.Message != "inc refuses" {
		t.Fatalf("Wait on a failed chain = %v", err)
	}
	f.h.Drain(ctx)
	// Step 2 ran twice (one retry); step 3 never started; no success callback.
	equalInts(t, "inc received", f.got("inc"), []int{1, 2, 2})
	equalInts(t, "collect received", f.got("collect"), nil)
	if len(f.failures) != 2 {
		t.Fatalf("error callbacks: %+v", f.failures)
	}
	var step, whole ChainFailure
	for _, fl := range f.failures {
		if fl.Tag == "step" {
			step = fl
		} else {
			whole = fl
		}
	}
	// The step's own error callback gets the step's message; the chain's gets the
	// chain's input, and details naming the failed step and the chain.
	if step.V != 2 || step.Failure == nil || step.Failure.ChainID != "" {
		t.Fatalf("step error callback got %+v", step)
	}
	st, err := f.h.Client.Chain(ctx, h.SignatureID())
	must(t, err)
	if whole.Tag != "chain" || whole.V != 1 || whole.Failure == nil || whole.Failure.ChainID != h.SignatureID() ||
		whole.Failure.Task != "inc" || whole.Failure.SignatureID != st.Steps[1].ID || whole.Failure.Attempt != 2 ||
		whole.Failure.Message != "inc refuses" {
		t.Fatalf("chain error callback got %+v / %+v", whole, whole.Failure)
	}
	if st.Status != hatchetflow.StatusFailed || st.Current != 1 || st.Error != "inc refuses" ||
		st.Steps[2].Status != hatchetflow.StatusPending {
		t.Fatalf("failed chain state %+v", st)
	}
}

func TestChainAsCallbackAndNested(t *testing.T) {
	f := newChainFlow(t)
	ctx := context.Background()
	inner := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc").With(dsl.KW{"step": 10})).OnSuccess(dsl.Sign("collect"))
	// A chain as a step of a chain (its kwargs reach the inner steps too), and a
	// chain as the success callback of a task.
	outer := dsl.Chain(dsl.Sign("inc"), inner, dsl.Sign("inc")).With(dsl.KW{"step": 3})
	h, err := dsl.Sign("inc").OnSuccess(outer).Run(ctx, f.h.Client, map[string]any{"v": 0})
	must(t, err)
	f.h.Drain(ctx)
	_ = h
	// 0 → 1 (the task), then the outer chain: 1+3=4, inner: 4+3=7, 7+10=17, then 17+3=20.
	equalInts(t, "inc received", f.got("inc"), []int{0, 1, 4, 7, 17})
	// The inner chain's success callback got the inner chain's last value.
	equalInts(t, "collect received", f.got("collect"), []int{17})
}

func TestChainOfSavedSignatures(t *testing.T) {
	f := newChainFlow(t)
	ctx := context.Background()
	first, err := dsl.Sign("inc").With(dsl.KW{"step": 7}).Save(ctx, f.h.Client)
	must(t, err)
	second, err := dsl.Sign("inc").Save(ctx, f.h.Client)
	must(t, err)
	h, err := dsl.Chain(first, second.Ref()).With(dsl.KW{"step": 100}).Run(ctx, f.h.Client, map[string]any{"v": 1})
	must(t, err)
	got, err := hatchetflow.WaitResult[int](ctx, h)
	must(t, err)
	// first keeps its own step 7; second takes the chain's 100.
	if got != 108 {
		t.Fatalf("chain of saved signatures = %d, want 108", got)
	}
	// A signature belongs to one chain.
	_, err = dsl.Chain(dsl.Sign("inc"), second).Save(ctx, f.h.Client)
	if !errors.Is(err, hatchetflow.ErrNotPending) && !errors.Is(err, hatchetflow.ErrAlreadyInChain) {
		t.Fatalf("re-using a chained signature = %v", err)
	}
	third, err := dsl.Sign("inc").Save(ctx, f.h.Client)
	must(t, err)
	_, err = dsl.Chain(third, dsl.Sign("inc")).Save(ctx, f.h.Client)
	must(t, err)
	if _, err := dsl.Chain(dsl.Sign("inc"), third).Save(ctx, f.h.Client); !errors.Is(err, hatchetflow.ErrAlreadyInChain) {
		t.Fatalf("a signature in two chains = %v, want ErrAlreadyInChain", err)
	}
	savedChain, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc")).Save(ctx, f.h.Client)
	must(t, err)
	if _, err := dsl.Chain(savedChain, dsl.Sign("inc")).Save(ctx, f.h.Client); !errors.Is(err, hatchetflow.ErrSavedChainStep) {
		t.Fatalf("a saved chain as a step = %v, want ErrSavedChainStep", err)
	}
	// A saved chain as a callback works.
	_, err = dsl.Sign("inc").OnSuccess(savedChain).Run(ctx, f.h.Client, map[string]any{"v": 0})
	must(t, err)
	f.h.Drain(ctx)
	if st, err := f.h.Client.Chain(ctx, savedChain.ID); err != nil || st.Status != hatchetflow.StatusDone || string(st.Result) != "3" {
		t.Fatalf("saved chain run as a callback: %+v, %v", st, err)
	}
}

func TestChainStepsAreCheckedAtSave(t *testing.T) {
	f := newChainFlow(t)
	ctx := context.Background()
	before := len(f.h.Redis.Keys())
	// receipt returns an object; inc wants an int.
	_, err := dsl.Chain(dsl.Sign("receipt"), dsl.Sign("inc")).Save(ctx, f.h.Client)
	var me *hatchetflow.CallbackMismatchError
	if !errors.As(err, &me) || me.Parent != "receipt" || me.Callback != "inc" || me.Field != "v" {
		t.Fatalf("chain with a step that cannot take the previous result = %v", err)
	}
	if _, err := dsl.Chain(dsl.Sign("inc")).Save(ctx, f.h.Client); !errors.Is(err, dsl.ErrChainTooShort) {
		t.Fatalf("one-step chain = %v", err)
	}
	if _, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("nope")).Save(ctx, f.h.Client); !errors.Is(err, hatchetflow.ErrUnknownTask) {
		t.Fatalf("unknown step = %v", err)
	}
	if _, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc")).With(dsl.KW{"step": "x"}).Save(ctx, f.h.Client); !errors.Is(err, inject.ErrValidation) {
		t.Fatalf("chain kwargs of the wrong type = %v", err)
	}
	if after := len(f.h.Redis.Keys()); after != before {
		t.Fatalf("refused saves wrote %d keys", after-before)
	}
	if _, err := f.h.Client.Chain(ctx, "0190f2a0-0000-7000-8000-00000000beef"); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("Chain of an unknown id = %v", err)
	}
}

func TestChainKeepsLaterStepsAlive(t *testing.T) {
	f := newChainFlow(t, hatchetflow.WithActiveTTL(time.Hour))
	ctx := context.Background()
	h, err := dsl.Chain(dsl.Sign("inc"), dsl.Sign("inc"), dsl.Sign("inc"), dsl.Sign("inc")).Run(ctx, f.h.Client, map[string]any{"v": 0})
	must(t, err)
	// Each step waits 40 min for a worker: 160 min in all, past the 1 h the chain's
	// later steps were saved with. Each finish gives them the active TTL again.
	for f.h.Queued() > 0 {
		f.h.FastForward(40 * time.Minute)
		f.h.Step(ctx)
	}
	got, err := hatchetflow.WaitResult[int](ctx, h)
	if err != nil || got != 4 {
		t.Fatalf("a slow chain = %d, %v; want 4", got, err)
	}
}

// A chain has one status: List, Tree and Chain agree on it through its lifecycle,
// including when a step is cancelled on its own.
func TestChainStatusIsTheSameInEveryView(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	c := f.h.Client
	f.fail[5] = true
	views := func(id string) (list, tree, chain hatchetflow.Status) {
		t.Helper()
		page, err := c.List(ctx, &hatchetflow.ListOptions{Limit: 1000})
		must(t, err)
		for _, e := range page.Entries {
			if e.ID == id {
				list = e.Status
			}
		}
		n, err := c.Tree(ctx, id)
		must(t, err)
		if st, err := c.Chain(ctx, id); err == nil {
			chain = st.Status
		} else {
			chain = hatchetflow.Status("error: " + err.Error())
		}
		return list, n.Status, chain
	}
	agree := func(name, id string, want hatchetflow.Status) {
		t.Helper()
		l, tr, ch := views(id)
		if l != want || tr != want || ch != want {
			t.Errorf("%s: List %q, Tree %q, Chain %q; want %q everywhere", name, l, tr, ch, want)
		}
	}
	ok, err := dsl.Chain(sq(1), sq(2)).Save(ctx, c)
	must(t, err)
	agree("saved", ok.ID, hatchetflow.StatusPending)
	_, err = ok.Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	agree("ran", ok.ID, hatchetflow.StatusDone)

	bad, err := dsl.Chain(sq(5), sq(2)).Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	agree("failed", bad.SignatureID(), hatchetflow.StatusFailed)

	// A step cancelled on its own ends its chain so.
	st, err := dsl.Chain(sq(1), sq(2)).Save(ctx, c)
	must(t, err)
	ch, err := c.Chain(ctx, st.ID)
	must(t, err)
	must(t, c.Cancel(ctx, ch.Steps[1].ID, nil))
	agree("step cancelled", st.ID, hatchetflow.StatusCancelled)

	// A step suspended on its own: the chain is not (Suspend the chain to pause it).
	sp, err := dsl.Chain(sq(1), sq(2)).Save(ctx, c)
	must(t, err)
	sch, err := c.Chain(ctx, sp.ID)
	must(t, err)
	must(t, c.Suspend(ctx, sch.Steps[0].ID, nil))
	agree("step suspended", sp.ID, hatchetflow.StatusPending)
}
