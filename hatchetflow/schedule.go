package hatchetflow

import (
	"context"
	"time"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// A run with RunOptions.StartAfter is an engine schedule rather than a run: the
// signature is saved (pending) first, as for any run; the schedule carries the run's
// input and metadata, so the run it creates starts the signature like any other; the
// entry signature's record names the schedule (Record.ScheduleID), so that a cancel
// before it fires deletes it. The handle has no run id until then: waiting reads the
// record until a run owns it (Client.ownerRun), then waits for that run.

// schedule asks the engine for a run of task with msg and meta once opts.StartAfter
// has passed, and records the schedule on entry's record. The run is scheduled once
// the engine answered: if the record cannot name the schedule, a cancel cannot delete
// it, but the run it creates is refused by the cancelled signature's start, so that is
// logged rather than returned.
func (c *Client) schedule(ctx context.Context, entry, task string, msg map[string]any, meta map[string]string, opts *RunOptions) (string, error) {
	s, ok := c.dispatcher.(engine.Scheduler)
	if !ok { // checked before the run wrote anything (checkOptions)
		return "", ErrUnsupportedOption
	}
	id, err := s.Schedule(ctx, task, msg, meta, time.Now().Add(opts.StartAfter), opts.engine())
	if err != nil {
		return "", err
	}
	if err := c.retrying(ctx, "keep schedule", func() error { return c.store.KeepSchedule(ctx, entry, id) }); err != nil {
		c.log.Warn("hatchetflow: run scheduled, but its signature cannot name the schedule; a cancel before it fires will not delete it (its run is refused at start)",
			"signature", entry, "schedule", id, "error", err)
	}
	return id, nil
}

// unschedule deletes the engine schedule of rec, a signature (or swarm) that was just
// cancelled before any run started it, so that the run is never created. The cancel
// holds without it (the run would be refused at start), so a failure is logged.
func (c *Client) unschedule(ctx context.Context, rec *redisstore.Record) {
	if rec.ScheduleID == "" || rec.RunID != "" {
		return
	}
	s, ok := c.dispatcher.(engine.Scheduler)
	if !ok {
		return
	}
	if err := s.Unschedule(ctx, rec.ScheduleID); err != nil {
		c.log.Warn("hatchetflow: cancelled a scheduled signature, but the engine did not delete its schedule; its run will be refused at start",
			"signature", rec.ID, "schedule", rec.ScheduleID, "error", err)
	}
}

// WaitRunID returns the run of the wait task when the signature run (a chain's first
// step) waits for an event (dsl.Builder.After), or "": the run Hatchet's dashboard
// shows until the event comes, and the one [Client.Cancel] cancels while it waits.
// It is "" too for a wait scheduled with [RunOptions.StartAfter], whose run the
// engine creates when the schedule fires.
func (h *Handle) WaitRunID() string { return h.waitRunID }

// ScheduleID returns the engine schedule of a run started with
// [RunOptions.StartAfter] ("" for a run dispatched at once): the id Hatchet's
// schedules API and dashboard show until the run is created.
func (h *Handle) ScheduleID() string { return h.scheduleID }
