package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/hatchet-dev/hatchet/sdks/go/features"

	"github.com/hatchetflow/go/hatchetflow"
)

// Limits of get_logs.
const (
	// DefaultLogLines is get_logs' lines per run when its limit is 0; MaxLogLines the
	// largest limit.
	DefaultLogLines = 100
	MaxLogLines     = 1000
	// MaxLogRuns is how many runs get_logs reads for a chain or swarm.
	MaxLogRuns = 20
)

// LogQuery selects a run's log lines.
type LogQuery struct {
	// Attempt keeps one attempt (1-based; 0: all); Since the lines at or after it
	// (zero: all); Limit is the most lines returned (> 0).
	Attempt int
	Since   time.Time
	Limit   int
}

// LogReader reads the engine's log lines of a run.
type LogReader interface {
	// RunLogs returns up to q.Limit lines of workflow run runID (every task run of
	// it), oldest first, and whether there are more.
	RunLogs(ctx context.Context, runID string, q LogQuery) (lines []LogLine, more bool, err error)
}

// HatchetLogs is the [LogReader] of a Hatchet engine: the run's task runs from the
// REST API's workflow run details (V1WorkflowRunGet), then each task run's log lines
// (V1LogLineList), through the SDK's Runs and Logs clients.
type HatchetLogs struct {
	connect func() (*hatchet.Client, error)

	mu   sync.Mutex
	runs *features.RunsClient
	logs *features.LogsClient
}

// NewHatchetLogs returns the LogReader of the Hatchet client connect returns; it
// connects on first use, and again on the next call after a failure.
func NewHatchetLogs(connect func() (*hatchet.Client, error)) *HatchetLogs {
	return &HatchetLogs{connect: connect}
}

// clients connects, once it succeeds. The SDK's feature clients are made here, under
// the lock: the SDK makes them on first use without one.
func (h *HatchetLogs) clients() (*features.RunsClient, *features.LogsClient, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runs == nil {
		c, err := h.connect()
		if err == nil && c == nil {
			err = errors.New("no Hatchet client")
		}
		if err != nil {
			return nil, nil, &ToolError{Code: CodeUnavailable, err: err,
				Message: fmt.Sprintf("get_logs reads the engine: connect to Hatchet (HATCHET_CLIENT_*): %v", err)}
		}
		h.runs, h.logs = c.Runs(), c.Logs()
	}
	return h.runs, h.logs, nil
}

// RunLogs implements [LogReader]. Log lines belong to task runs, not to the workflow
// run a signature's record names: the run's details list its task runs (one, or two
// with an on-failure step, or a workflow's steps), and each one's lines are read.
func (h *HatchetLogs) RunLogs(ctx context.Context, runID string, q LogQuery) ([]LogLine, bool, error) {
	if _, err := uuid.Parse(runID); err != nil { // the SDK's Get panics on one
		return nil, false, fmt.Errorf("run id %q: %w", runID, err)
	}
	runs, logs, err := h.clients()
	if err != nil {
		return nil, false, err
	}
	det, err := runs.Get(ctx, runID)
	if err != nil {
		return nil, false, engineError(fmt.Errorf("read run %s: %w", runID, err))
	}
	limit := int64(q.Limit)
	asc := rest.V1LogLineOrderByDirectionASC
	params := &rest.V1LogLineListParams{Limit: &limit, OrderByDirection: &asc}
	if q.Attempt > 0 {
		params.Attempt = &q.Attempt
	}
	if !q.Since.IsZero() {
		params.Since = &q.Since
	}
	var out []LogLine
	more := false
	for _, t := range det.Tasks {
		page, err := logs.List(ctx, t.TaskExternalId, params)
		if err != nil {
			return nil, false, engineError(fmt.Errorf("read the logs of task run %s of run %s: %w", t.TaskExternalId, runID, err))
		}
		if page.Rows == nil {
			continue
		}
		more = more || len(*page.Rows) >= q.Limit
		for _, r := range *page.Rows {
			l := LogLine{Time: r.CreatedAt, Message: r.Message, TaskRunID: t.TaskExternalId.String(), TaskName: t.DisplayName}
			if r.Level != nil {
				l.Level = string(*r.Level)
			}
			if r.Attempt != nil {
				l.Attempt = *r.Attempt
			}
			if r.TaskDisplayName != nil && *r.TaskDisplayName != "" {
				l.TaskName = *r.TaskDisplayName
			}
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b LogLine) int { return a.Time.Compare(b.Time) })
	if len(out) > q.Limit {
		out, more = out[:q.Limit], true
	}
	return out, more, nil
}

// engineError is err from the engine's API: unavailable, or timeout when the call's
// time ran out.
func engineError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ToolError{Code: CodeUnavailable, Message: err.Error(), err: err}
}

// logTarget is a signature whose run's logs get_logs reads.
type logTarget struct{ id, task, runID string }

func (s *server) getLogs(ctx context.Context, in LogsInput) (*LogsOutput, error) {
	limit := in.Limit
	switch {
	case limit < 0 || limit > MaxLogLines:
		return nil, invalid("limit %d is outside 0..%d", limit, MaxLogLines)
	case limit == 0:
		limit = DefaultLogLines
	}
	if in.Attempt < 0 {
		return nil, invalid("attempt %d is negative", in.Attempt)
	}
	since, err := when("since", in.Since, time.Now())
	if err != nil {
		return nil, err
	}
	out := &LogsOutput{ID: in.ID, Runs: []RunLogs{}}
	var targets []logTarget
	sig, err := s.c.Signature(ctx, in.ID)
	switch {
	case err == nil:
		out.Kind = "signature"
		if sig.RunID == "" {
			out.Note = fmt.Sprintf("signature %s (%s) has not started: it has no run yet", sig.ID, sig.Status)
			return out, nil
		}
		targets = append(targets, logTarget{sig.ID, sig.Task, sig.RunID})
	case errors.Is(err, hatchetflow.ErrNotASignature):
		ch, sw, err := s.container(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		if sw != nil {
			out.Kind = "swarm"
			for _, it := range sw.Items {
				if it.RunID != "" {
					targets = append(targets, logTarget{it.ID, it.Task, it.RunID})
				}
			}
		} else {
			out.Kind = "chain"
			for _, st := range ch.Steps {
				if st.RunID != "" {
					targets = append(targets, logTarget{st.ID, st.Task, st.RunID})
				}
			}
		}
		if len(targets) == 0 {
			out.Note = fmt.Sprintf("no step or item of %s %s has started: no run yet", out.Kind, in.ID)
			return out, nil
		}
		if len(targets) > MaxLogRuns {
			out.Note = fmt.Sprintf("the first %d of %d runs: call get_logs with a step's or item's id (list_sub_tasks) for the others",
				MaxLogRuns, len(targets))
			targets = targets[:MaxLogRuns]
		}
	default:
		return nil, err
	}
	if s.logs == nil {
		return nil, &ToolError{Code: CodeUnavailable, Message: "get_logs reads the engine, and this server has no Hatchet connection"}
	}
	for _, t := range targets {
		lines, more, err := s.logs.RunLogs(ctx, t.runID, LogQuery{Attempt: in.Attempt, Since: since, Limit: limit})
		if err != nil {
			return nil, err
		}
		if lines == nil {
			lines = []LogLine{}
		}
		out.Runs = append(out.Runs, RunLogs{SignatureID: t.id, Task: t.task, RunID: t.runID, Lines: lines, Truncated: more})
	}
	return out, nil
}
