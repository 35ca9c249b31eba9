package flowtest

import (
	"context"
	"encoding/json"
	"fmt"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/internal/engine"
)

// PlainFunc is the function of a plain task (see [Harness.Plain]): it gets the run's
// input as dispatched (hatchetflow has merged bound kwargs and the parent's return
// value into it) and returns the run's output, a JSON object.
type PlainFunc func(ctx context.Context, input map[string]any) (any, error)

// Plain registers task as a plain task: one that the harness's engine runs with fn and
// no hatchetflow step, as a plain Hatchet task or another language's worker serves it
// on a real engine. Sign it with dsl's Validate (no hatchetflow worker registers it).
// Its runs end as the engine ends them: completed with fn's return value, failed with
// fn's error (a plain task has no retries here), or cancelled. When one ends, the
// client's reconciler settles its signature from that verdict, as the reconciler a
// worker hosts does on the engine within its interval: done with the output (success
// callbacks, the next chain step), or failed or cancelled (error callbacks with the
// message). Injected faults ([Harness.Inject]) apply to its attempts too. A task name
// the client registered fails the test.
func (h *Harness) Plain(task string, fn PlainFunc) {
	h.t.Helper()
	if _, ok := h.machinery.Steps(task); ok {
		h.t.Fatalf("flowtest: Plain(%q): the client registered this task with hatchetflow", task)
		return
	}
	main := func(hctx hatchet.Context, input map[string]any) (json.RawMessage, error) {
		if o, ok := hctx.(engine.CallObserver); ok {
			if err := o.BeforeCall(input); err != nil {
				return nil, err
			}
		}
		out, err := fn(hctx.GetContext(), input)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("flowtest: output of plain task %q: %w", task, err)
		}
		return raw, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.plain[task] = engine.Steps{Task: task, Main: main}
}

// steps returns the steps of task: a plain task's, or the client's.
func (h *Harness) steps(task string) (engine.Steps, bool) {
	h.mu.Lock()
	s, ok := h.plain[task]
	h.mu.Unlock()
	if ok {
		return s, true
	}
	return h.machinery.Steps(task)
}

func (h *Harness) isPlain(task string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.plain[task]
	return ok
}

// reconcile runs the client's reconciler after plain run r ended, as the reconciler
// a worker hosts does on the engine.
func (h *Harness) reconcile(ctx context.Context, r *Run) {
	if err := h.machinery.Reconcile(context.WithoutCancel(ctx)); err != nil {
		h.t.Errorf("flowtest: reconciler after plain run %s of %q: %v", r.ID, r.Task, err)
	}
}
