package flowtest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hatchetflow/go/internal/engine"
)

// A signature that waits for an event (dsl.Builder.After) runs as a run of
// hatchetflow's wait task. In the harness that run does not block the queue while it
// waits: when no signal released it yet and its timeout has not passed on the harness
// clock, it is parked (status [StatusWaiting]) and leaves the queue. A signal
// (hatchetflow.Client.Signal, which reaches [Harness.Signal]) queues the parked runs it
// releases, and [Harness.FastForward] those whose timeout passed; the run then runs
// again from its start, as a durable task replays on the engine, and its wait answers.

// signal is one event pushed to the harness.
type signal struct {
	event, key string
	payload    map[string]any
	seq        int // dispatch order: it releases the waits of runs dispatched before it
}

// parking is what a parked run waits for.
type parking struct {
	event, key string
	deadline   time.Time // on the harness clock
}

// Signal implements engine.Signaller: the event is kept, and every run parked on it
// (event and key) is queued again, to be released when it runs. A signal releases the
// waits of runs dispatched before it, whether they were parked already or not yet
// run; one dispatched later is not released by it, as on the engine, where a signal
// counts for the waits that began before it.
func (h *Harness) Signal(ctx context.Context, event, key string, payload map[string]any) error {
	in, err := roundTrip(payload)
	if err != nil {
		return fmt.Errorf("flowtest: payload of event %q is not JSON: %w", event, err)
	}
	if in == nil {
		in = map[string]any{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.signals = append(h.signals, signal{event: event, key: key, payload: in, seq: h.seq})
	h.logf("signal %q key %q", event, key)
	h.wakeLocked(func(p parking) bool { return p.event == event && p.key == key })
	return nil
}

// waitEvent answers the wait w of run r (the harness context's engine.EventWaiter):
// the first signal of w's event and key pushed after r was dispatched releases it; a
// wait whose timeout, counted on the harness clock from r's dispatch, has passed
// timed out; otherwise r is parked.
func (h *Harness) waitEvent(r *Run, w engine.EventWait) (map[string]any, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.signals {
		if s.event == w.Event && s.key == w.Key && s.seq > r.seq {
			return cloneJSON(s.payload), true, nil
		}
	}
	deadline := r.queuedAt.Add(w.Timeout)
	if !h.now.Before(deadline) {
		return nil, false, nil
	}
	r.parked = &parking{event: w.Event, key: w.Key, deadline: deadline}
	return nil, false, engine.ErrWaitParked
}

// park takes r, whose wait task's step parked it, off the harness's hands until a
// signal or its timeout queues it again. It reports false, parking nothing, when r's
// step said it parked but the harness never parked it (no waitEvent answered so).
func (h *Harness) park(r *Run) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.parked == nil {
		return false
	}
	r.Status = StatusWaiting
	h.waiting = append(h.waiting, r)
	h.logf("%s run %s waits for event %q key %q until %s", r.Task, r.ID, r.parked.event, r.parked.key,
		r.parked.deadline.Format(time.RFC3339))
	return true
}

// wakeLocked queues again, in the order they were parked, the parked runs whose
// parking matches. h.mu is held.
func (h *Harness) wakeLocked(match func(parking) bool) {
	h.waiting = slices.DeleteFunc(h.waiting, func(r *Run) bool {
		if r.parked == nil || !match(*r.parked) {
			return false
		}
		r.parked = nil
		r.Status = StatusQueued
		h.queue = append(h.queue, r)
		return true
	})
}

// Stalled implements engine.Staller: waiting for signature id cannot end when nothing
// is queued and its run is parked, waiting for an event.
func (h *Harness) Stalled(id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.queue) > 0 {
		return nil
	}
	for _, r := range h.waiting {
		if r.SignatureID() == id && r.parked != nil {
			return fmt.Errorf("flowtest: signature %s waits for event %q key %q (timeout at %s on the harness clock, now %s): "+
				"signal it with Client.Signal, or FastForward past its timeout", id, r.parked.event, r.parked.key,
				r.parked.deadline.Format(time.RFC3339), h.now.Format(time.RFC3339))
		}
	}
	return nil
}

// WaitEvent implements the engine contract's EventWaiter for hatchetflow's wait
// task: the harness answers from its signals and clock. On a context from
// [NewContext] it returns [ErrEngineOnly].
func (c *Context) WaitEvent(w engine.EventWait) (map[string]any, bool, error) {
	if c.wait == nil {
		return nil, false, ErrEngineOnly
	}
	return c.wait(w)
}
