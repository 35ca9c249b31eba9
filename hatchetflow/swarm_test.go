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
	"github.com/hatchetflow/go/redisstore"
	"github.com/hatchetflow/go/testing/flowtest"
)

// SquareInput is a swarm item's input: N, or the value injected in V.
type SquareInput struct {
	N       int                      `json:"n"`
	SleepMS int                      `json:"sleep_ms,omitempty"`
	V       *inject.ReturnValue[int] `json:"v,omitempty"`
	Tag     string                   `json:"tag,omitempty"`
}

// ListInput receives a swarm's results.
type ListInput struct {
	Vals inject.ReturnValue[[]*int] `json:"vals"`
}

// SwarmFailure is what a swarm's error callback gets.
type SwarmFailure struct {
	N       int               `json:"n"`
	Failure *inject.TaskError `json:"failure,omitempty"`
}

type swarmFlow struct {
	h        *flowtest.Harness
	mu       sync.Mutex
	squared  []int          // n values squared, in call order
	tags     map[int]string // n -> tag received
	lists    [][]*int       // lists received by "list"
	failures []SwarmFailure // error callback inputs
	fail     map[int]bool   // sq fails (non-retryably) for these n
	spans    []span         // when each sq call ran
}

func newSwarmFlow(t *testing.T) *swarmFlow {
	t.Helper()
	f := &swarmFlow{h: flowtest.New(t)}
	f.h.Quiet()
	f.register(t, f.h.Client)
	return f
}

// span is when one item's user function ran.
type span struct{ start, end time.Time }

// register registers the swarm test tasks on c.
func (f *swarmFlow) register(t *testing.T, c *hatchetflow.Client) {
	t.Helper()
	f.tags, f.fail = map[int]string{}, map[int]bool{}
	_, err := hatchetflow.NewTask(c, "sq", func(_ hatchet.Context, in SquareInput) (int, error) {
		n := in.N
		if in.V != nil {
			n = in.V.Value
		}
		start := time.Now()
		if in.SleepMS > 0 {
			time.Sleep(time.Duration(in.SleepMS) * time.Millisecond)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.spans = append(f.spans, span{start, time.Now()})
		f.squared = append(f.squared, n)
		f.tags[n] = in.Tag
		if f.fail[n] {
			return 0, hatchetflow.NonRetryable(fmt.Errorf("sq refuses %d", n))
		}
		return n * n, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "sum-list", func(_ hatchet.Context, in ListInput) (int, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.lists = append(f.lists, in.Vals.Value)
		sum := 0
		for _, v := range in.Vals.Value {
			if v != nil {
				sum += *v
			}
		}
		return sum, nil
	})
	must(t, err)
	_, err = hatchetflow.NewTask(c, "swarm-failed", func(_ hatchet.Context, in SwarmFailure) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.failures = append(f.failures, in)
		return nil, nil
	})
	must(t, err)
}

// counts returns how many items ran, lists and failures were received.
func (f *swarmFlow) counts() (squared, lists, failures int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.squared), len(f.lists), len(f.failures)
}

func sq(n int) dsl.Builder { return dsl.Sign("sq").With(dsl.KW{"n": n}) }

func listString(l []*int) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func TestSwarmResultsInItemOrder(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	// Item 0 is a chain (two runs), so it ends after items 1 and 2.
	sw := dsl.Swarm(dsl.Chain(sq(2), dsl.Sign("sq")), sq(3), sq(1)).OnSuccess(dsl.Sign("sum-list"))
	h, err := sw.Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if got, want := string(out), "[16,9,1]"; got != want {
		t.Fatalf("swarm result = %s, want %s", got, want)
	}
	f.h.Drain(ctx)
	if len(f.lists) != 1 || listString(f.lists[0]) != "[16,9,1]" {
		t.Fatalf("success callback received %v, want one call with [16,9,1]", f.lists)
	}
	st, err := f.h.Client.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Status != hatchetflow.StatusDone || st.Done != 3 || st.Failed != 0 || len(st.Items) != 3 {
		t.Fatalf("swarm state = %+v", st)
	}
	for i, it := range st.Items {
		if it.State != "done" || it.RunID == "" {
			t.Errorf("item %d = %+v, want done with a run", i, it)
		}
	}
}

func TestSwarmNeverRunsMoreThanMaxConcurrency(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	var items []dsl.Spec
	for i := 1; i <= 10; i++ {
		items = append(items, sq(i))
	}
	h, err := dsl.Swarm(items...).MaxConcurrency(3).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	peak := 0
	for f.h.Step(ctx) {
		st, err := f.h.Client.Swarm(ctx, h.SignatureID())
		must(t, err)
		queuedRuns := len(f.h.Runs("sq")) - len(f.squared)
		if st.Running > 3 || queuedRuns > 3 {
			t.Fatalf("%d items running, %d item runs queued: the bound is 3", st.Running, queuedRuns)
		}
		peak = max(peak, st.Running)
	}
	if peak != 3 {
		t.Errorf("peak running = %d, want 3 (the bound is reached)", peak)
	}
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,4,9,16,25,36,49,64,81,100]" {
		t.Fatalf("result %s", out)
	}
}

func TestSwarmDefaultConcurrency(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	var items []dsl.Spec
	for i := 0; i < dsl.DefaultMaxConcurrency+5; i++ {
		items = append(items, sq(i))
	}
	h, err := dsl.Swarm(items...).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	f.h.Step(ctx) // the swarm's own run
	st, err := f.h.Client.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Running != dsl.DefaultMaxConcurrency || st.Queued != 5 || st.MaxConcurrency != dsl.DefaultMaxConcurrency {
		t.Fatalf("after start: running %d queued %d (max %d), want %d and 5", st.Running, st.Queued, st.MaxConcurrency, dsl.DefaultMaxConcurrency)
	}
}

func TestSwarmStopAfterFailures(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	f.fail[2], f.fail[3], f.fail[5] = true, true, true
	sw := dsl.Swarm(sq(1), sq(2), sq(3), sq(4), sq(5)).MaxConcurrency(1).StopAfter(2).
		OnSuccess(dsl.Sign("sum-list")).OnError(dsl.Sign("swarm-failed"))
	h, err := sw.Run(ctx, f.h.Client, map[string]any{"n": 7})
	must(t, err)
	_, err = h.Wait(ctx)
	var sf *hatchetflow.SwarmFailedError
	if !errors.As(err, &sf) || !errors.Is(err, hatchetflow.ErrRunFailed) || sf.Failures != 2 {
		t.Fatalf("Wait error = %v, want a *SwarmFailedError after 2 failures", err)
	}
	f.h.Drain(ctx)
	if got := fmt.Sprint(f.squared); got != "[1 2 3]" {
		t.Errorf("items that ran = %s, want [1 2 3]: queued items never start after the stop", got)
	}
	if len(f.lists) != 0 {
		t.Errorf("success callback ran: %v", f.lists)
	}
	if len(f.failures) != 1 {
		t.Fatalf("error callback ran %d times, want once", len(f.failures))
	}
	fl := f.failures[0]
	if fl.N != 7 || fl.Failure == nil || fl.Failure.SignatureID != h.SignatureID() || fl.Failure.Task != hatchetflow.SwarmTask {
		t.Errorf("error callback got %+v (failure %+v), want the swarm's input n=7 and the swarm's failure", fl, fl.Failure)
	}
	f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusFailed)
}

// An item still running when the swarm stops may fail after it: the swarm's error
// (its message and Failures) and its error callback's TaskError keep the count it
// stopped at.
func TestSwarmFailuresAreCountedAtTheStop(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	f.fail[1], f.fail[2], f.fail[3] = true, true, true
	// All three items start at once; the second failure stops the swarm, the third
	// item fails after the stop.
	h, err := dsl.Swarm(sq(1), sq(2), sq(3)).MaxConcurrency(3).StopAfter(2).OnError(dsl.Sign("swarm-failed")).
		Run(ctx, f.h.Client, map[string]any{"n": 7})
	must(t, err)
	f.h.Drain(ctx)
	st, err := f.h.Client.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Failed != 3 {
		t.Fatalf("swarm counts %d failed items, want 3: the third must fail after the stop", st.Failed)
	}
	requireStoppedAt2(t, f, h)
}

// requireStoppedAt2 checks the failed swarm h and its one error callback say it
// stopped after 2 failed items.
func requireStoppedAt2(t *testing.T, f *swarmFlow, h dsl.Handle) {
	t.Helper()
	_, err := h.Wait(context.Background())
	var sf *hatchetflow.SwarmFailedError
	if !errors.As(err, &sf) || sf.Failures != 2 {
		t.Fatalf("Wait error = %v, want a *SwarmFailedError with Failures 2", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "2 items failed (stop after 2)") || strings.Contains(msg, "3 items") || strings.Contains(msg, "after 3") {
		t.Errorf("error message %q, want the count the swarm stopped at (2), and no other", msg)
	}
	if len(f.failures) != 1 || f.failures[0].Failure == nil {
		t.Fatalf("error callback got %+v, want one call with a TaskError", f.failures)
	}
	if fl := f.failures[0].Failure; fl.Failures != 2 || fl.Task != hatchetflow.SwarmTask || fl.Message != sf.Message {
		t.Errorf("error callback's TaskError = %+v, want Failures 2 and the swarm's message %q", fl, sf.Message)
	}
}

// The watcher ends a stop that was recorded but not acted on: with the count the
// swarm stopped at, not the one it reads later.
func TestReconcileEndsAStopWithItsRecordedCount(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	saved, err := dsl.Swarm(sq(1), sq(2), sq(3)).MaxConcurrency(3).StopAfter(2).OnError(dsl.Sign("swarm-failed")).
		Save(ctx, c)
	must(t, err)
	h, err := saved.Run(ctx, c, map[string]any{"n": 7})
	must(t, err)
	f.h.Step(ctx) // the swarm's own run: all three items are claimed and dispatched
	st, err := c.Swarm(ctx, saved.ID)
	must(t, err)
	if st.Running != 3 {
		t.Fatalf("after start: %+v, want 3 items running", st)
	}
	// The three items end failed in the store only: the stop (at the second) is
	// recorded, nothing acts on it, and the third fails after it.
	for i, it := range st.Items {
		ref := redisstore.SwarmItemRef{SwarmID: saved.ID, Index: i}
		_, err := c.Store().SwarmItemEnd(ctx, ref, it.ID, fmt.Sprintf("run-%d", i), true, fmt.Sprintf("item %d failed", i), time.Now().UnixMilli())
		must(t, err)
	}
	ended, err := c.ReconcileSwarm(ctx, saved.ID)
	must(t, err)
	if ended {
		t.Fatalf("ReconcileSwarm reported ended before it ended the stopped swarm")
	}
	f.h.RequireStatus(t, saved.ID, hatchetflow.StatusFailed)
	f.h.Drain(ctx) // the error callback; the items' own runs end as duplicates
	requireStoppedAt2(t, f, h)
}

func TestSwarmBelowThresholdSucceedsWithNullSlots(t *testing.T) {
	f := newSwarmFlow(t)
	f.h.AllowFailures()
	ctx := context.Background()
	f.fail[2] = true
	h, err := dsl.Swarm(sq(1), sq(2), sq(3)).StopAfter(2).OnSuccess(dsl.Sign("sum-list")).OnError(dsl.Sign("swarm-failed")).
		Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,null,9]" {
		t.Fatalf("result %s, want [1,null,9]", out)
	}
	f.h.Drain(ctx)
	if len(f.failures) != 0 || len(f.lists) != 1 {
		t.Fatalf("callbacks: %d error, %d success; want 0 and 1", len(f.failures), len(f.lists))
	}
	st, err := f.h.Client.Swarm(ctx, h.SignatureID())
	must(t, err)
	if st.Items[1].State != "failed" || st.Items[1].Error == "" || st.Failed != 1 || st.Done != 2 {
		t.Errorf("per-item state: %+v", st.Items)
	}
}

func TestEmptySwarmSucceedsWithEmptyList(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	h, err := dsl.Swarm().OnSuccess(dsl.Sign("sum-list")).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[]" {
		t.Fatalf("result %s, want []", out)
	}
	f.h.Drain(ctx)
	if len(f.lists) != 1 || len(f.lists[0]) != 0 || f.lists[0] == nil {
		t.Fatalf("success callback got %v, want one empty list", f.lists)
	}
}

func TestSwarmKwargsReachNestedItems(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	inner := dsl.Swarm(sq(3), sq(4).With(dsl.KW{"tag": "own"})).With(dsl.KW{"tag": "inner"})
	outer := dsl.Swarm(sq(1), inner, dsl.Chain(sq(5), dsl.Sign("sq"))).With(dsl.KW{"tag": "outer"})
	h, err := outer.Run(ctx, f.h.Client, map[string]any{"tag": "input"})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,[9,16],625]" {
		t.Fatalf("result %s, want [1,[9,16],625]", out)
	}
	want := map[int]string{1: "outer", 3: "inner", 4: "own", 5: "outer", 25: "outer"}
	for n, tag := range want {
		if f.tags[n] != tag {
			t.Errorf("sq(%d) got tag %q, want %q (item > inner swarm > outer swarm > input)", n, f.tags[n], tag)
		}
	}
}

func TestSwarmAsSuccessCallback(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	// sq(2) returns 4; each item gets 4 in its return field and squares it.
	sw := dsl.Swarm(dsl.Sign("sq"), dsl.Sign("sq").With(dsl.KW{"tag": "b"})).OnSuccess(dsl.Sign("sum-list"))
	h, err := sq(2).OnSuccess(sw).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	_, err = h.Wait(ctx)
	must(t, err)
	f.h.Drain(ctx)
	if len(f.lists) != 1 || listString(f.lists[0]) != "[16,16]" {
		t.Fatalf("swarm's callback got %v, want [16,16]", f.lists)
	}
}

func TestSwarmAsChainStepPassesItsList(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	ch := dsl.Chain(sq(2), dsl.Swarm(dsl.Sign("sq"), dsl.Chain(dsl.Sign("sq"), dsl.Sign("sq"))), dsl.Sign("sum-list"))
	h, err := ch.Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	// sq(2)=4 → swarm [16, 256] → list sums 272.
	if string(out) != "272" {
		t.Fatalf("chain result %s, want 272", out)
	}
	if len(f.lists) != 1 || listString(f.lists[0]) != "[16,256]" {
		t.Fatalf("next step got %v, want [16,256]", f.lists)
	}
}

func TestSwarmAddItemsThenClose(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	saved, err := dsl.Swarm(sq(1)).Open().MaxItems(3).OnSuccess(dsl.Sign("sum-list")).Save(ctx, c)
	must(t, err)
	if !saved.Swarm {
		t.Fatalf("Saved.Swarm = false")
	}
	h, err := saved.Run(ctx, c, map[string]any{"tag": "base"})
	must(t, err)
	f.h.Drain(ctx)
	st, err := c.Swarm(ctx, saved.ID)
	must(t, err)
	if st.Status != hatchetflow.StatusActive || st.Done != 1 {
		t.Fatalf("open swarm after its item ran: %+v, want active with 1 done", st)
	}
	first, err := c.AddItems(ctx, saved.ID,
		hatchetflow.SwarmItem{Spec: dsl.Sign("sq"), Input: map[string]any{"n": 2}},
		hatchetflow.SwarmItem{Spec: sq(3), Input: map[string]any{"n": 99, "tag": "own-input"}})
	must(t, err)
	if first != 1 {
		t.Errorf("first added index = %d, want 1", first)
	}
	_, err = c.AddItems(ctx, saved.ID, hatchetflow.SwarmItem{Spec: sq(4)})
	var full *hatchetflow.SwarmFullError
	if !errors.As(err, &full) || !errors.Is(err, hatchetflow.ErrSwarmFull) || full.Max != 3 || full.Items != 3 {
		t.Fatalf("adding past MaxItems: %v, want a *SwarmFullError", err)
	}
	must(t, c.CloseSwarm(ctx, saved.ID))
	_, err = c.AddItems(ctx, saved.ID, hatchetflow.SwarmItem{Spec: sq(5)})
	if !errors.Is(err, hatchetflow.ErrSwarmClosed) {
		t.Fatalf("adding to a closed swarm: %v, want ErrSwarmClosed", err)
	}
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,4,9]" {
		t.Fatalf("result %s, want [1,4,9] (own input under kwargs)", out)
	}
	if f.tags[3] != "own-input" || f.tags[2] != "base" {
		t.Errorf("tags %v: an added item's input wins over the swarm's input", f.tags)
	}
	f.h.Drain(ctx)
	_, err = c.AddItems(ctx, saved.ID, hatchetflow.SwarmItem{Spec: sq(6)})
	var np *hatchetflow.NotPendingError
	if !errors.As(err, &np) || np.Status != hatchetflow.StatusDone {
		t.Fatalf("adding to a done swarm: %v, want a *NotPendingError (done)", err)
	}
	if err := c.CloseSwarm(ctx, saved.ID); !errors.As(err, &np) {
		t.Fatalf("closing a done swarm: %v, want a *NotPendingError", err)
	}
	if len(f.lists) != 1 {
		t.Fatalf("success callback ran %d times, want once", len(f.lists))
	}
}

func TestSwarmOptionsAreChecked(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	for _, sw := range []dsl.SwarmBuilder{
		dsl.Swarm(sq(1)).MaxConcurrency(0),
		dsl.Swarm(sq(1)).StopAfter(-1),
		dsl.Swarm(sq(1), sq(2)).MaxItems(1),
	} {
		if _, err := sw.Save(ctx, f.h.Client); !errors.Is(err, dsl.ErrSwarmOption) {
			t.Errorf("Save: %v, want ErrSwarmOption", err)
		}
	}
	if _, err := dsl.Swarm(dsl.Sign("nope")).Save(ctx, f.h.Client); !errors.Is(err, hatchetflow.ErrUnknownTask) {
		t.Errorf("unknown item task: %v", err)
	}
	// A swarm's result is a list: a success callback that takes an int cannot fit.
	_, err := dsl.Swarm(sq(1)).OnSuccess(dsl.Sign("sq")).Save(ctx, f.h.Client)
	if !errors.Is(err, hatchetflow.ErrCallbackMismatch) {
		t.Errorf("callback taking an int after a swarm: %v, want ErrCallbackMismatch", err)
	}
	// A swarm as a callback hands the value to its items: they must fit it too.
	_, err = dsl.Swarm(sq(1)).OnSuccess(dsl.Swarm(dsl.Sign("sum-list"), dsl.Sign("sq"))).Save(ctx, f.h.Client)
	var cm *hatchetflow.CallbackMismatchError
	if !errors.As(err, &cm) || cm.Callback != "sq" {
		t.Errorf("swarm callback whose item takes an int after a list: %v, want a *CallbackMismatchError naming sq", err)
	}
	if _, err := f.h.Client.AddItems(ctx, "0193f1d0-0000-7000-8000-000000000000", hatchetflow.SwarmItem{Spec: sq(1)}); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Errorf("AddItems to a missing swarm: %v", err)
	}
}

func TestSavedSignatureAsSwarmItem(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	s, err := sq(6).Save(ctx, f.h.Client)
	must(t, err)
	h, err := dsl.Swarm(s, sq(2)).With(dsl.KW{"tag": "sw"}).Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[36,4]" || f.tags[6] != "sw" {
		t.Fatalf("result %s, tag %q", out, f.tags[6])
	}
	// It belongs to that swarm now.
	if _, err := dsl.Swarm(s).Save(ctx, f.h.Client); err == nil {
		t.Fatalf("a signature that ran became an item of a second swarm")
	}
}

func TestReconcileSettlesALostItemEnd(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	saved, err := dsl.Swarm(sq(1), sq(2)).OnSuccess(dsl.Sign("sum-list")).Save(ctx, c)
	must(t, err)
	st, err := c.Swarm(ctx, saved.ID)
	must(t, err)
	// Item 1's end never reaches the swarm: as if the event was lost on the way.
	f.h.Redis.HDel(c.Store().SignatureKey(st.Items[1].ID), "sw")
	h, err := saved.Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	st, err = c.Swarm(ctx, saved.ID)
	must(t, err)
	if st.Status != hatchetflow.StatusActive || st.Running != 1 || st.Done != 1 {
		t.Fatalf("before reconcile: %+v, want active with item 1 still running", st)
	}
	ended, err := c.ReconcileSwarm(ctx, saved.ID)
	must(t, err)
	if ended {
		t.Fatalf("ReconcileSwarm reported ended before it settled the item")
	}
	f.h.Drain(ctx)
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != "[1,4]" {
		t.Fatalf("result %s", out)
	}
	// Again: the swarm ended, nothing fires twice.
	ended, err = c.ReconcileSwarm(ctx, saved.ID)
	must(t, err)
	if !ended {
		t.Errorf("ReconcileSwarm of a done swarm: ended = false")
	}
	f.h.Drain(ctx)
	if len(f.lists) != 1 {
		t.Fatalf("success callback ran %d times, want once", len(f.lists))
	}
}

func TestContainerIDsAreNotSignatures(t *testing.T) {
	f := newSwarmFlow(t)
	ctx := context.Background()
	c := f.h.Client
	sw, err := dsl.Swarm(sq(1)).Save(ctx, c)
	must(t, err)
	ch, err := dsl.Chain(sq(1), dsl.Sign("sq")).Save(ctx, c)
	must(t, err)
	for _, id := range []string{sw.ID, ch.ID} {
		if err := c.UpdateKwargs(ctx, id, dsl.KW{"n": 2}); !errors.Is(err, hatchetflow.ErrNotASignature) {
			t.Errorf("UpdateKwargs(%s) = %v, want ErrNotASignature (it would change nothing that runs)", id, err)
		}
		if _, err := c.Signature(ctx, id); !errors.Is(err, hatchetflow.ErrNotASignature) {
			t.Errorf("Signature(%s) = %v, want ErrNotASignature", id, err)
		}
	}
	if _, err := c.Swarm(ctx, ch.ID); !errors.Is(err, hatchetflow.ErrNotASwarm) {
		t.Errorf("Swarm(chain) = %v, want ErrNotASwarm", err)
	}
	if _, err := c.Chain(ctx, sw.ID); !errors.Is(err, hatchetflow.ErrNotAChain) {
		t.Errorf("Chain(swarm) = %v, want ErrNotAChain", err)
	}
	if _, err := c.ReconcileSwarm(ctx, ch.ID); !errors.Is(err, hatchetflow.ErrNotASwarm) {
		t.Errorf("ReconcileSwarm(chain) = %v", err)
	}
}
