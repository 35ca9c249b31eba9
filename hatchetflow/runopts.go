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
	// StartAfter delays the start of the run. Hatchet schedules runs through its REST
	// API (hatchet-api), which the Hatchet dispatcher does not use, so a non-zero value
	// gives [ErrUnsupportedOption] rather than a run that starts at once. Default 0.
	StartAfter time.Duration
}

// metaPrefix is the prefix of every metadata key hatchetflow sets.
const metaPrefix = "hatchetflow_"

// check validates opts and returns the metadata the run gets: the user's keys plus
// hatchetflow's own.
func (o *RunOptions) check(own map[string]string) (map[string]string, error) {
	if o == nil {
		return own, nil
	}
	if o.Priority < 0 || o.Priority > 3 {
		return nil, fmt.Errorf("%w: priority %d (want 1 to 3, or 0 for the default)", ErrUnsupportedOption, o.Priority)
	}
	if o.StartAfter != 0 {
		return nil, fmt.Errorf("%w: StartAfter needs Hatchet's REST API (schedules), which the dispatcher does not use", ErrUnsupportedOption)
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

// RunWithOptions is [Client.RunSignature] with per-run options.
func (c *Client) RunWithOptions(ctx context.Context, spec dsl.Spec, input any, opts *RunOptions) (dsl.Handle, error) {
	return c.run(ctx, spec, input, runCall{opts: opts})
}

// dispatchRoot dispatches the first run of a Run with opts.
func (c *Client) dispatchRoot(ctx context.Context, task string, msg map[string]any, own map[string]string, opts *RunOptions) (string, error) {
	meta, err := opts.check(own)
	if err != nil {
		return "", err
	}
	if opts.isZero() {
		return c.dispatcher.Dispatch(ctx, task, msg, meta)
	}
	od, ok := c.dispatcher.(engine.OptionDispatcher)
	if !ok {
		return "", fmt.Errorf("%w: the dispatcher takes no per-run options", ErrUnsupportedOption)
	}
	return od.DispatchWith(ctx, task, msg, meta, &engine.RunOptions{Priority: opts.Priority, Metadata: opts.Metadata,
		Sticky: opts.Sticky, DesiredWorkerLabels: opts.DesiredWorkerLabels})
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
