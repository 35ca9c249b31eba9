package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hatchetflow/go/hatchetflow"
)

// Match selects runs by input. A nil *Match matches every run of the task.
type Match struct {
	// Input is the expected dispatched input. By default it is a partial match: every
	// key in Input must be present with an equal value (objects compared the same way,
	// recursively); other keys are ignored.
	Input map[string]any
	// Exact requires the input to equal Input exactly; a nil Input then means the
	// empty object.
	Exact bool
}

// RequireDispatched fails t unless a run of task was dispatched whose input matches
// m, and returns the first such run.
func (h *Harness) RequireDispatched(t testing.TB, task string, m *Match) *Run {
	t.Helper()
	return h.requireDispatched(t, task, m)
}

// RequireReceived fails t unless a run of task called its user function with a message
// (input with bound kwargs merged) that matches m, and returns the first such run.
func (h *Harness) RequireReceived(t testing.TB, task string, m *Match) *Run {
	t.Helper()
	return h.requireReceived(t, task, m)
}

// RequireNotDispatched fails t if any run of task whose input matches m was dispatched.
func (h *Harness) RequireNotDispatched(t testing.TB, task string, m *Match) {
	t.Helper()
	h.requireNotDispatched(t, task, m)
}

// RequireStatus fails t unless signature id has status want.
func (h *Harness) RequireStatus(t testing.TB, id string, want hatchetflow.Status) {
	t.Helper()
	h.requireStatus(t, id, want)
}

func (h *Harness) requireDispatched(t testingT, task string, m *Match) *Run {
	t.Helper()
	return h.requireRun(t, task, m, func(r *Run) map[string]any { return r.Input }, "dispatched")
}

func (h *Harness) requireReceived(t testingT, task string, m *Match) *Run {
	t.Helper()
	return h.requireRun(t, task, m, func(r *Run) map[string]any { return r.Received }, "received")
}

func (h *Harness) requireRun(t testingT, task string, m *Match, field func(*Run) map[string]any, verb string) *Run {
	t.Helper()
	runs := h.Runs(task)
	if len(runs) == 0 {
		t.Fatalf("flowtest: no run of task %q was dispatched; dispatched: %s", task, h.summary())
		return nil
	}
	var diffs []string
	for _, r := range runs {
		got := field(r)
		if got == nil { // only Received is ever nil: the user function never ran
			diffs = append(diffs, fmt.Sprintf("run %s: the user function was never called", r.ID))
			continue
		}
		if m == nil || matches(m, got) {
			return r
		}
		diffs = append(diffs, fmt.Sprintf("run %s (-want +got):\n%s", r.ID, diff(m, got)))
	}
	t.Fatalf("flowtest: no run of task %q %s a matching input (%s match); %d run(s):\n%s",
		task, verb, mode(m), len(runs), strings.Join(diffs, "\n"))
	return nil
}

func (h *Harness) requireNotDispatched(t testingT, task string, m *Match) {
	t.Helper()
	for _, r := range h.Runs(task) {
		if m == nil || matches(m, r.Input) {
			t.Errorf("flowtest: task %q was dispatched (run %s) with input %s", task, r.ID, pretty(r.Input))
			return
		}
	}
}

func (h *Harness) requireStatus(t testingT, id string, want hatchetflow.Status) {
	t.Helper()
	got, err := h.Status(context.Background(), id)
	if err != nil {
		t.Errorf("flowtest: status of signature %s: %v", id, err)
		return
	}
	if got != want {
		t.Errorf("flowtest: signature %s has status %q, want %q", id, got, want)
	}
}

func (h *Harness) summary() string {
	runs := h.Runs("")
	if len(runs) == 0 {
		return "none"
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Task
	}
	return strings.Join(names, ", ")
}

func mode(m *Match) string {
	if m != nil && m.Exact {
		return "exact"
	}
	return "partial"
}

// wanted returns m's expected input as JSON values; a nil Input is the empty object,
// so it matches every input partially and only an empty input exactly.
func wanted(m *Match) any {
	if m.Input == nil {
		return map[string]any{}
	}
	return normalize(m.Input)
}

// matches compares want and got after normalising both to JSON values.
func matches(m *Match, got map[string]any) bool {
	want := wanted(m)
	g := normalize(got)
	if m.Exact {
		return reflect.DeepEqual(want, g)
	}
	return subset(want, g)
}

// subset reports whether every key of want is in got with a matching value; objects
// are compared recursively the same way, everything else must be equal.
func subset(want, got any) bool {
	wm, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(want, got)
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range wm {
		gv, present := gm[k]
		if !present || !subset(wv, gv) {
			return false
		}
	}
	return true
}

// diff shows want against got; for a partial match, got is cut down to want's keys
// plus what is missing, so the diff shows only what matters.
func diff(m *Match, got map[string]any) string {
	want := wanted(m)
	g := normalize(got)
	if !m.Exact {
		g = restrict(want, g)
	}
	return cmp.Diff(want, g)
}

func restrict(want, got any) any {
	wm, ok := want.(map[string]any)
	if !ok {
		return got
	}
	gm, ok := got.(map[string]any)
	if !ok {
		return got
	}
	out := map[string]any{}
	for k, wv := range wm {
		if gv, present := gm[k]; present {
			out[k] = restrict(wv, gv)
		}
	}
	return out
}

func normalize(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return v
	}
	return out
}

func pretty(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
