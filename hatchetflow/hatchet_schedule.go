package hatchetflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hatchet-dev/hatchet/sdks/go/features"

	"github.com/hatchetflow/go/internal/engine"
)

var _ engine.Scheduler = (*hatchetDispatcher)(nil)

// Schedule implements [engine.Scheduler] with the SDK's schedules (REST, served by
// hatchet-api): the engine creates the run, with input and meta, at at. Of the per-run
// options only the priority applies: a Hatchet schedule takes no stickiness or worker
// labels (RunOptions.check refuses them with a delay).
func (d *hatchetDispatcher) Schedule(ctx context.Context, task string, input map[string]any, meta map[string]string, at time.Time, opts *engine.RunOptions) (string, error) {
	trigger := features.CreateScheduledRunTrigger{TriggerAt: at, Input: input,
		AdditionalMetadata: make(map[string]any, len(meta))}
	for k, v := range meta {
		trigger.AdditionalMetadata[k] = v
	}
	if opts != nil && opts.Priority > 0 {
		p := features.RunPriority(opts.Priority)
		trigger.Priority = &p
	}
	sched, err := d.h.Schedules().Create(ctx, task, trigger)
	if err != nil {
		return "", err
	}
	if sched == nil {
		return "", fmt.Errorf("hatchetflow: schedule of %q: the engine returned no schedule", task)
	}
	return sched.Metadata.Id, nil
}

// Unschedule implements [engine.Scheduler] with the SDK's schedule delete.
func (d *hatchetDispatcher) Unschedule(ctx context.Context, scheduleID string) error {
	err := d.h.Schedules().Delete(ctx, scheduleID)
	if err != nil && strings.Contains(err.Error(), sdkDeleted) {
		return nil
	}
	return err
}

// sdkDeleted is in the SDK's error for the REST API's answer to a delete that
// succeeded: the API answers 204 No Content, and SchedulesClient.Delete (v0.105.0,
// features/utils.go, validateStatusCodeResponse) takes only 200 for success. Measured
// on the local engine: the schedule is gone after that "error"
// (TestEngineScheduledRunCancelledBeforeItFires reads it back).
const sdkDeleted = "got status 204"
