package flowtest

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
)

// fakeT is a testingT that records what the harness reports. Fatalf stops the calling
// goroutine with runtime.Goexit, as testing.T.FailNow does, so helpers must be called
// through [call].
type fakeT struct {
	mu       sync.Mutex
	errors   []string
	fatals   []string
	logs     []string
	helpers  int
	cleanups []func()
}

func (f *fakeT) Helper() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.helpers++
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeT) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func (f *fakeT) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// runCleanups runs the registered cleanups, last first.
func (f *fakeT) runCleanups() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// call runs fn on its own goroutine, as the testing package runs a test, so that
// fakeT.Fatalf can end it; it reports whether fn returned normally.
func call(fn func()) (returned bool) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
		returned = true
	}()
	<-done
	return returned
}

// requireClean fails t if f recorded any failure.
func requireClean(t *testing.T, f *fakeT) {
	t.Helper()
	if len(f.errors)+len(f.fatals) > 0 {
		t.Fatalf("unexpected failure: errors %q, fatals %q", f.errors, f.fatals)
	}
}

// onlyFatal returns the single Fatalf message f recorded, failing t otherwise.
func onlyFatal(t *testing.T, f *fakeT) string {
	t.Helper()
	if len(f.fatals) != 1 || len(f.errors) != 0 {
		t.Fatalf("want exactly one Fatalf; got fatals %q, errors %q", f.fatals, f.errors)
	}
	return f.fatals[0]
}

// onlyError returns the single Errorf message f recorded, failing t otherwise.
func onlyError(t *testing.T, f *fakeT) string {
	t.Helper()
	if len(f.errors) != 1 || len(f.fatals) != 0 {
		t.Fatalf("want exactly one Errorf; got errors %q, fatals %q", f.errors, f.fatals)
	}
	return f.errors[0]
}

// requireContains fails t unless msg contains every one of parts.
func requireContains(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("message does not contain %q:\n%s", p, msg)
		}
	}
}

// diffLine reports whether msg has a diff line marked sign ("-" or "+") that
// mentions key. cmp varies the whitespace after the marker on purpose, so only the
// marker and the key are checked.
func diffLine(msg, sign, key string) bool {
	for _, line := range strings.Split(msg, "\n") {
		l := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(l, sign) && strings.Contains(l, `"`+key+`"`) {
			return true
		}
	}
	return false
}

// shipped returns a harness (on the real t) with one finished run of "ship":
// dispatched input {order, qty, address{city, zip}} and the bound kwarg carrier,
// which only the received message holds. "audit" is registered and never runs.
func shipped(t *testing.T) (*Harness, dsl.Handle) {
	t.Helper()
	h := newHarness(t, miniredis.RunT(t))
	h.Quiet()
	echo := func(_ hatchet.Context, in map[string]any) (map[string]any, error) { return in, nil }
	for _, name := range []string{"ship", "audit"} {
		if _, err := hatchetflow.NewTask(h.Client, name, echo); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	hd, err := dsl.Sign("ship").With(dsl.KW{"carrier": "dhl"}).Run(ctx, h.Client, map[string]any{
		"order":   "A-1",
		"qty":     2,
		"address": map[string]any{"city": "Oslo", "zip": "0150"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	return h, hd
}

func TestRequireDispatchedPasses(t *testing.T) {
	h, _ := shipped(t)
	cases := map[string]*Match{
		"nil match":                  nil,
		"empty partial":              {},
		"partial ignores extra keys": {Input: map[string]any{"order": "A-1"}},
		"int matches JSON number":    {Input: map[string]any{"qty": 2}},
		"nested partial":             {Input: map[string]any{"address": map[string]any{"city": "Oslo"}}},
		"exact": {Exact: true, Input: map[string]any{
			"order": "A-1", "qty": 2, "address": map[string]any{"city": "Oslo", "zip": "0150"}}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakeT{}
			var run *Run
			if !call(func() { run = h.requireDispatched(f, "ship", m) }) {
				t.Fatal("the helper stopped")
			}
			requireClean(t, f)
			if run == nil || run.Task != "ship" || run.Input["order"] != "A-1" {
				t.Fatalf("returned run %+v", run)
			}
			if f.helpers == 0 {
				t.Error("the helper did not call t.Helper")
			}
		})
	}
}

func TestRequireDispatchedFails(t *testing.T) {
	h, _ := shipped(t)
	cases := []struct {
		name string
		m    *Match
		// want are substrings of the message; removed and added are keys that must
		// appear on "-" and "+" diff lines; absent must not appear at all.
		want           []string
		removed, added []string
		absent         []string
	}{
		{
			name:    "partial value differs",
			m:       &Match{Input: map[string]any{"order": "A-2"}},
			want:    []string{`"A-2"`, `"A-1"`, "(partial match)"},
			removed: []string{"order"}, added: []string{"order"},
			absent: []string{"qty", "address", "carrier"},
		},
		{
			name:    "partial key missing",
			m:       &Match{Input: map[string]any{"colour": "red"}},
			want:    []string{"(partial match)"},
			removed: []string{"colour"},
			absent:  []string{"order", "qty", "address"},
		},
		{
			name:    "nested partial differs",
			m:       &Match{Input: map[string]any{"address": map[string]any{"city": "Bergen"}}},
			want:    []string{`"Bergen"`, `"Oslo"`},
			removed: []string{"city"}, added: []string{"city"},
			absent: []string{"zip", "order"},
		},
		{
			name:   "exact reports extra keys",
			m:      &Match{Exact: true, Input: map[string]any{"order": "A-1"}},
			want:   []string{"(exact match)"},
			added:  []string{"qty", "address"},
			absent: []string{"carrier"},
		},
		{
			name:  "exact nil input wants the empty object",
			m:     &Match{Exact: true},
			want:  []string{"(exact match)"},
			added: []string{"order"},
		},
		{
			name:    "bound kwargs are not in the dispatched input",
			m:       &Match{Input: map[string]any{"carrier": "dhl"}},
			removed: []string{"carrier"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeT{}
			if call(func() { h.requireDispatched(f, "ship", tc.m) }) {
				t.Fatal("the helper returned after Fatalf")
			}
			msg := onlyFatal(t, f)
			requireContains(t, msg, append([]string{`task "ship"`, "dispatched a matching input", "(-want +got)"}, tc.want...)...)
			for _, k := range tc.removed {
				if !diffLine(msg, "-", k) {
					t.Errorf("no -want line names %q:\n%s", k, msg)
				}
			}
			for _, k := range tc.added {
				if !diffLine(msg, "+", k) {
					t.Errorf("no +got line names %q:\n%s", k, msg)
				}
			}
			for _, k := range tc.absent {
				if strings.Contains(msg, `"`+k+`"`) {
					t.Errorf("message names %q, which does not matter here:\n%s", k, msg)
				}
			}
		})
	}
}

func TestRequireDispatchedNoRun(t *testing.T) {
	t.Run("nothing dispatched", func(t *testing.T) {
		h := newHarness(t, miniredis.RunT(t))
		f := &fakeT{}
		if call(func() { h.requireDispatched(f, "ship", nil) }) {
			t.Fatal("the helper returned after Fatalf")
		}
		requireContains(t, onlyFatal(t, f), `no run of task "ship" was dispatched`, "dispatched: none")
	})
	t.Run("other tasks dispatched", func(t *testing.T) {
		h, _ := shipped(t)
		f := &fakeT{}
		if call(func() { h.requireDispatched(f, "audit", nil) }) {
			t.Fatal("the helper returned after Fatalf")
		}
		requireContains(t, onlyFatal(t, f), `no run of task "audit" was dispatched`, "dispatched: ship")
	})
}

func TestRequireReceivedSeesBoundKwargs(t *testing.T) {
	h, _ := shipped(t)
	m := &Match{Input: map[string]any{"carrier": "dhl", "order": "A-1"}}
	f := &fakeT{}
	var run *Run
	if !call(func() { run = h.requireReceived(f, "ship", m) }) {
		t.Fatal("the helper stopped")
	}
	requireClean(t, f)
	if run == nil || run.Received["carrier"] != "dhl" {
		t.Fatalf("returned run %+v", run)
	}
	if _, ok := run.Input["carrier"]; ok {
		t.Fatalf("bound kwarg leaked into the dispatched input: %v", run.Input)
	}

	f = &fakeT{}
	if call(func() { h.requireReceived(f, "ship", &Match{Input: map[string]any{"carrier": "ups"}}) }) {
		t.Fatal("the helper returned after Fatalf")
	}
	msg := onlyFatal(t, f)
	requireContains(t, msg, "received a matching input", `"ups"`, `"dhl"`)
	if !diffLine(msg, "-", "carrier") || !diffLine(msg, "+", "carrier") {
		t.Errorf("diff does not show carrier on both sides:\n%s", msg)
	}
}

func TestRequireReceivedNeverCalled(t *testing.T) {
	h := newHarness(t, miniredis.RunT(t), hatchetflow.WithLogger(slog.New(slog.DiscardHandler)))
	h.Quiet()
	h.ExpectFailure("ship")
	if _, err := hatchetflow.NewTask(h.Client, "ship", func(_ hatchet.Context, in map[string]any) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	// A run of a signature that does not exist is refused before the user function.
	ctx := context.Background()
	if _, err := h.Dispatch(ctx, "ship", map[string]any{"order": "A-1"},
		map[string]string{engine.MetaSignature: "0190f2a0-0000-7000-8000-000000000001"}); err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	for _, m := range []*Match{nil, {Input: map[string]any{"order": "A-1"}}} {
		f := &fakeT{}
		if call(func() { h.requireReceived(f, "ship", m) }) {
			t.Fatalf("match %+v accepted a run whose user function never ran", m)
		}
		requireContains(t, onlyFatal(t, f), "received a matching input", "the user function was never called")
	}
}

func TestRequireNotDispatched(t *testing.T) {
	h, _ := shipped(t)
	passes := map[string]struct {
		task string
		m    *Match
	}{
		"other value":           {"ship", &Match{Input: map[string]any{"order": "B-7"}}},
		"subset but exact":      {"ship", &Match{Exact: true, Input: map[string]any{"order": "A-1"}}},
		"bound kwarg":           {"ship", &Match{Input: map[string]any{"carrier": "dhl"}}},
		"nested other value":    {"ship", &Match{Input: map[string]any{"address": map[string]any{"zip": "5003"}}}},
		"task never dispatched": {"audit", nil},
	}
	for name, tc := range passes {
		t.Run(name, func(t *testing.T) {
			f := &fakeT{}
			if !call(func() { h.requireNotDispatched(f, tc.task, tc.m) }) {
				t.Fatal("the helper stopped")
			}
			requireClean(t, f)
		})
	}
	fails := map[string]*Match{
		"nil match":      nil,
		"partial match":  {Input: map[string]any{"order": "A-1"}},
		"nested partial": {Input: map[string]any{"address": map[string]any{"city": "Oslo"}}},
	}
	for name, m := range fails {
		t.Run(name, func(t *testing.T) {
			f := &fakeT{}
			// Errorf, not Fatalf: the test goes on.
			if !call(func() { h.requireNotDispatched(f, "ship", m) }) {
				t.Fatal("the helper stopped the test")
			}
			requireContains(t, onlyError(t, f), `task "ship" was dispatched`, `"order":"A-1"`, `"city":"Oslo"`)
		})
	}
}

func TestRequireStatus(t *testing.T) {
	h, hd := shipped(t)
	f := &fakeT{}
	call(func() { h.requireStatus(f, hd.SignatureID(), hatchetflow.StatusDone) })
	requireClean(t, f)

	f = &fakeT{}
	if !call(func() { h.requireStatus(f, hd.SignatureID(), hatchetflow.StatusFailed) }) {
		t.Fatal("the helper stopped the test")
	}
	requireContains(t, onlyError(t, f), hd.SignatureID(), `has status "done", want "failed"`)

	f = &fakeT{}
	missing := "0190f2a0-0000-7000-8000-000000000001"
	call(func() { h.requireStatus(f, missing, hatchetflow.StatusDone) })
	requireContains(t, onlyError(t, f), "status of signature "+missing, "not found")
}

// TestPublicAssertions checks that the testing.TB methods reach the same checks.
func TestPublicAssertions(t *testing.T) {
	h, hd := shipped(t)
	if r := h.RequireDispatched(t, "ship", &Match{Input: map[string]any{"qty": 2}}); r.Task != "ship" {
		t.Fatalf("RequireDispatched returned %+v", r)
	}
	if r := h.RequireReceived(t, "ship", &Match{Input: map[string]any{"carrier": "dhl"}}); r.Received["carrier"] != "dhl" {
		t.Fatalf("RequireReceived returned %+v", r)
	}
	h.RequireNotDispatched(t, "audit", nil)
	h.RequireStatus(t, hd.SignatureID(), hatchetflow.StatusDone)
}

func TestDrainStopsAFlowThatNeverEnds(t *testing.T) {
	f := &fakeT{}
	t.Cleanup(f.runCleanups)
	h := newHarness(f, miniredis.RunT(t))
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "again", func(_ hatchet.Context, _ map[string]any) (int, error) {
		_, err := h.Dispatch(ctx, "again", nil, nil)
		return 0, err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Dispatch(ctx, "again", nil, nil); err != nil {
		t.Fatal(err)
	}
	if call(func() { h.Drain(ctx) }) {
		t.Fatal("Drain returned on a flow that never ends")
	}
	requireContains(t, onlyFatal(t, f), fmt.Sprintf("Drain ran %d runs", MaxRuns))
	executed := 0
	for _, r := range h.Runs("again") {
		if r.Status != StatusQueued {
			executed++
		}
	}
	if executed != MaxRuns || h.Queued() != 1 {
		t.Fatalf("Drain executed %d runs and left %d queued, want %d and 1", executed, h.Queued(), MaxRuns)
	}
}

// TestDrainMayRunExactlyMaxRuns checks that a flow of exactly MaxRuns runs ends
// without failing the test.
func TestDrainMayRunExactlyMaxRuns(t *testing.T) {
	f := &fakeT{}
	t.Cleanup(f.runCleanups)
	h := newHarness(f, miniredis.RunT(t))
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "countdown", func(_ hatchet.Context, in struct{ Left int }) (int, error) {
		if in.Left == 0 {
			return 0, nil
		}
		_, err := h.Dispatch(ctx, "countdown", map[string]any{"Left": in.Left - 1}, nil)
		return in.Left, err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Dispatch(ctx, "countdown", map[string]any{"Left": MaxRuns - 1}, nil); err != nil {
		t.Fatal(err)
	}
	if !call(func() { h.Drain(ctx) }) {
		t.Fatalf("Drain stopped a flow of exactly MaxRuns runs: %q", f.fatals)
	}
	requireClean(t, f)
	if n := len(h.Runs("countdown")); n != MaxRuns || h.Queued() != 0 {
		t.Fatalf("%d runs, %d queued; want %d and 0", n, h.Queued(), MaxRuns)
	}
}

func TestExactNilInputMatchesEmptyInput(t *testing.T) {
	h, _ := shipped(t)
	if _, err := h.Dispatch(context.Background(), "audit", nil, nil); err != nil {
		t.Fatal(err)
	}
	f := &fakeT{}
	var run *Run
	call(func() { run = h.requireDispatched(f, "audit", &Match{Exact: true}) })
	requireClean(t, f)
	if run == nil || len(run.Input) != 0 {
		t.Fatalf("returned run %+v", run)
	}
}

// TestUnsupportedContextMethodIsNamed checks that a task calling a hatchet.Context
// method the harness does not implement fails its attempt, and that the log names the
// method.
func TestUnsupportedContextMethodIsNamed(t *testing.T) {
	f := &fakeT{}
	t.Cleanup(f.runCleanups)
	h := newHarness(f, miniredis.RunT(t))
	if _, err := hatchetflow.NewTask(h.Client, "peek", func(ctx hatchet.Context, _ map[string]any) (any, error) {
		return ctx.FilterPayload(), nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := h.Dispatch(ctx, "peek", nil, nil); err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	run := h.Runs("peek")[0]
	if run.Status != StatusFailed || len(run.Errors) != 1 || !strings.HasPrefix(run.Errors[0], "panic: ") {
		t.Fatalf("run = %+v, want one failed attempt with a panic", run)
	}
	if len(f.logs) != 1 {
		t.Fatalf("logs = %q, want one line for the failed attempt", f.logs)
	}
	requireContains(t, f.logs[0], "attempt 0 failed: panic: ", "FilterPayload")
}
