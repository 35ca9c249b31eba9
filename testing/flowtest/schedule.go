package flowtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hatchetflow/go/internal/engine"
)

// Scheduled is a run scheduled with hatchetflow.RunOptions.StartAfter whose schedule
// has not fired yet: no run exists for it ([Harness.Runs] does not list it).
type Scheduled struct {
	// ID is the schedule's id (hatchetflow.Handle.ScheduleID); Task the task it runs.
	ID, Task string
	// At is when it fires, on the harness clock ([Harness.Now]).
	At time.Time
	// Input and Meta are the input and metadata its run will get.
	Input map[string]any
	Meta  map[string]string

	opts *engine.RunOptions
}

// Now returns the harness clock: the time [New] was called, moved on only by
// [Harness.FastForward] and by the skips of [Harness.Step] to a scheduled run.
func (h *Harness) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// Schedule implements engine.Scheduler on the harness clock: the run is created, with
// input, meta and opts (Run.Options.StartAfter keeps the delay), when the clock
// reaches opts.StartAfter from now (at, on the real clock, without opts). Until then
// it is listed by [Harness.Scheduled]. A task not registered on the client fails at
// once, as [Harness.Dispatch] does.
func (h *Harness) Schedule(ctx context.Context, task string, input map[string]any, meta map[string]string, at time.Time, opts *engine.RunOptions) (string, error) {
	if _, ok := h.steps(task); !ok {
		return "", fmt.Errorf("flowtest: workflow names not found: %s", task)
	}
	in, err := roundTrip(input)
	if err != nil {
		return "", fmt.Errorf("flowtest: input of %q is not JSON: %w", task, err)
	}
	delay := time.Until(at)
	if opts != nil && opts.StartAfter > 0 {
		delay = opts.StartAfter
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Scheduled{ID: uuid.NewString(), Task: task, At: h.now.Add(delay), Input: in, Meta: maps.Clone(meta), opts: opts}
	h.schedules = append(h.schedules, s)
	slices.SortStableFunc(h.schedules, func(a, b *Scheduled) int { return a.At.Compare(b.At) })
	return s.ID, nil
}

// Unschedule implements engine.Scheduler: a schedule that has not fired is deleted
// and its run never exists; one that fired is left alone (its run is what it is).
func (h *Harness) Unschedule(ctx context.Context, scheduleID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, s := range h.schedules {
		if s.ID == scheduleID {
			h.schedules = slices.Delete(h.schedules, i, i+1)
			return nil
		}
	}
	if h.fired[scheduleID] {
		return nil
	}
	return fmt.Errorf("flowtest: no schedule %s", scheduleID)
}

// Scheduled returns the schedules of task (of every task when task is "") that have
// not fired, in the order they fire.
func (h *Harness) Scheduled(task string) []Scheduled {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Scheduled
	for _, s := range h.schedules {
		if task == "" || s.Task == task {
			c := *s
			c.Input, c.Meta = cloneJSON(s.Input), maps.Clone(s.Meta)
			out = append(out, c)
		}
	}
	return out
}

// advance moves the harness clock by d (every Redis TTL ages by d) and queues the
// runs whose event wait timed out, then the runs of the schedules that fall due, in
// the order they fall due.
func (h *Harness) advance(d time.Duration) {
	if d > 0 {
		h.Redis.FastForward(d)
	}
	h.mu.Lock()
	h.now = h.now.Add(max(d, 0))
	h.wakeLocked(func(p parking) bool { return !h.now.Before(p.deadline) }) // waits that timed out
	var due []*Scheduled
	for len(h.schedules) > 0 && !h.schedules[0].At.After(h.now) {
		due = append(due, h.schedules[0])
		h.fired[h.schedules[0].ID] = true
		h.schedules = h.schedules[1:]
	}
	h.mu.Unlock()
	for _, s := range due {
		if _, err := h.DispatchWith(context.Background(), s.Task, s.Input, s.Meta, s.opts); err != nil {
			h.t.Errorf("flowtest: schedule %s of %q fired, but its run was not created: %v", s.ID, s.Task, err)
		}
	}
}

// skipToSchedule moves the harness clock to the first schedule, when no run is
// queued, so that its run is queued; it reports whether there was one.
func (h *Harness) skipToSchedule() bool {
	h.mu.Lock()
	if len(h.queue) > 0 || len(h.schedules) == 0 {
		h.mu.Unlock()
		return false
	}
	d := h.schedules[0].At.Sub(h.now)
	h.mu.Unlock()
	h.advance(d)
	return true
}
