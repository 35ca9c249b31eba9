package hatchetflow

import (
	"context"
	"fmt"
	"github.com/hatchetflow/go/internal/engine"
	"strings"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
)

// RunOptions are per-run options of [Client.RunWithOptions] and [Task.RunWith]. A nil
// *RunOptions means defaults. They apply to the run that is dispatched (for a chain,
// its first step); callbacks and later chain steps are independent runs and inherit
// none of them.
type RunOptions struct {
	// Priority is the run's priority, 1 (lowest) to 3 (highest). Default 0: the
	// workflow's default.
	Priority int
	// Metadata is additional metadata on the run, shown in the Hatchet dashboard and
	// filterable there. Keys starting with "hatchetflow_" are hatchetflow's own: such a
	// key gives [ErrReservedMetadata]. Default none.
	Metadata map[string]string
	// Sticky asks the engine to keep the run on the worker that runs its parent.
	// Default false.
	Sticky bool
	// DesiredWorkerLabels routes the run to workers with these labels. Default none.
	DesiredWorkerLabels map[string]*hatchet.DesiredWorkerLabel
	// StartAfter schedules the run instead of dispatching it: the engine creates it
	// once StartAfter has passed (Hatchet's schedules, through its REST API,
	// hatchet-api). The signature is saved, pending, before Run returns, and the
	// scheduled run carries the same metadata as any other, so it starts the signature
	// when it fires; until then [Client.Cancel] cancels the signature and deletes the
	// schedule. The [Handle] has no run id until the schedule fires: [Handle.RunID] is
	// "", [Handle.ScheduleID] names the schedule, and [Handle.Wait] waits for the run
	// to exist, then for the run. Hatchet's ticker polls schedules every 5 s, so a
	// delay under 5 s may start up to 5 s after Run. With a delay, Sticky and
	// DesiredWorkerLabels give [ErrUnsupportedOption] (a Hatchet schedule takes
	// neither), and so do a negative delay and one of half the active TTL
	// ([WithActiveTTL], 24 h by default) or more: the signature and its callbacks must
	// outlive the wait and the run. Default 0: the run is dispatched at once.
	StartAfter time.Duration
}

// metaPrefix is the prefix of every metadata key hatchetflow sets.
const metaPrefix = "hatchetflow_"

// check validates opts for a client whose signatures live activeTTL before they end,
// and returns the metadata the run gets: the user's keys plus hatchetflow's own.
func (o *RunOptions) check(own map[string]string, activeTTL time.Duration) (map[string]string, error) {
	if o == nil {
		return own, nil
	}
	if o.Priority < 0 || o.Priority > 3 {
		return nil, fmt.Errorf("%w: priority %d (want 1 to 3, or 0 for the default)", ErrUnsupportedOption, o.Priority)
	}
	switch {
	case o.StartAfter < 0:
		return nil, fmt.Errorf("%w: StartAfter %v is negative", ErrUnsupportedOption, o.StartAfter)
	case o.StartAfter > 0 && (o.Sticky || len(o.DesiredWorkerLabels) > 0):
		return nil, fmt.Errorf("%w: StartAfter with Sticky or DesiredWorkerLabels (a Hatchet schedule takes neither)", ErrUnsupportedOption)
	case o.StartAfter > 0 && o.StartAfter >= activeTTL/2:
		return nil, fmt.Errorf("%w: StartAfter %v is not under half the signatures' active TTL (%v): raise WithActiveTTL",
			ErrUnsupportedOption, o.StartAfter, activeTTL)
	}
	meta := make(map[string]string, len(o.Metadata)+len(own))
	for k, v := range o.Metadata {
		if strings.HasPrefix(k, metaPrefix) {
			return nil, fmt.Errorf("%w: %q", ErrReservedMetadata, k)
		}
		meta[k] = v
	}
	for k, v := range own {
		meta[k] = v
	}
	return meta, nil
}

func (o *RunOptions) isZero() bool {
	return o == nil || (o.Priority == 0 && !o.Sticky && len(o.DesiredWorkerLabels) == 0 && o.StartAfter == 0)
}

// routed reports whether opts steer the run on the engine (priority, stickiness,
// worker labels).
func (o *RunOptions) routed() bool {
	return o != nil && (o.Priority > 0 || o.Sticky || len(o.DesiredWorkerLabels) > 0)
}

// startAfter is the delay opts schedule the run with (0: none).
func (o *RunOptions) startAfter() time.Duration {
	if o == nil {
		return 0
	}
	return o.StartAfter
}

// delayed reports whether opts schedule the run (StartAfter) rather than dispatch it.
func (o *RunOptions) delayed() bool { return o != nil && o.StartAfter > 0 }

// engine returns opts as the engine contract carries them.
func (o *RunOptions) engine() *engine.RunOptions {
	return &engine.RunOptions{Priority: o.Priority, Metadata: o.Metadata, Sticky: o.Sticky,
		DesiredWorkerLabels: o.DesiredWorkerLabels, StartAfter: o.StartAfter}
}

// RunWithOptions is [Client.RunSignature] with per-run options.
func (c *Client) RunWithOptions(ctx context.Context, spec dsl.Spec, input any, opts *RunOptions) (dsl.Handle, error) {
	return c.run(ctx, spec, input, runCall{opts: opts})
}

// checkOptions checks opts before a run writes anything: their values, and that the
// dispatcher can honour them.
func (c *Client) checkOptions(opts *RunOptions) error {
	if _, err := opts.check(nil, c.store.ActiveTTL()); err != nil {
		return err
	}
	if _, ok := c.dispatcher.(engine.Scheduler); opts.delayed() && !ok {
		return fmt.Errorf("%w: StartAfter: the dispatcher cannot schedule runs", ErrUnsupportedOption)
	}
	return nil
}

// dispatchRoot dispatches the first run of a Run with opts, whose entry signature
// (the signature, a chain's first step, or the swarm) is entry: at once (runID), or,
// with StartAfter, as an engine schedule (scheduleID) that entry's record names.
func (c *Client) dispatchRoot(ctx context.Context, entry, task string, msg map[string]any, own map[string]string, opts *RunOptions) (runID, scheduleID string, err error) {
	meta, err := opts.check(own, c.store.ActiveTTL())
	if err != nil {
		return "", "", err
	}
	if opts.delayed() {
		scheduleID, err = c.schedule(ctx, entry, task, msg, meta, opts)
		return "", scheduleID, err
	}
	if opts.isZero() {
		runID, err = c.dispatcher.Dispatch(ctx, task, msg, meta)
		return runID, "", err
	}
	od, ok := c.dispatcher.(engine.OptionDispatcher)
	if !ok {
		return "", "", fmt.Errorf("%w: the dispatcher takes no per-run options", ErrUnsupportedOption)
	}
	runID, err = od.DispatchWith(ctx, task, msg, meta, opts.engine())
	return runID, "", err
}

// RunWith runs the task as a signature with no callbacks, input in and per-run
// options.
func (t *Task[I, O]) RunWith(ctx context.Context, in I, opts *RunOptions) (*TaskRun[O], error) {
	msg, err := typedInput(in)
	if err != nil {
		return nil, err
	}
	h, err := t.c.run(ctx, dsl.Sign(t), msg, runCall{opts: opts})
	if err != nil {
		return nil, err
	}
	return &TaskRun[O]{h: h}, nil
}
