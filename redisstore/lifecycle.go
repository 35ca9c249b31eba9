package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartOutcome says what [Store.Start] found.
type StartOutcome string

// Outcomes of [Store.Start].
const (
	// Started: the signature was pending and is now active for this run.
	Started StartOutcome = "started"
	// Resumed: already active for this run (a retry of the same run).
	Resumed StartOutcome = "resumed"
	// Busy: active for another run; this run must not execute user code.
	Busy StartOutcome = "busy"
	// AlreadyDone: the signature ended successfully; Record.Result holds the result.
	AlreadyDone StartOutcome = "done"
	// AlreadyFailed: the signature failed.
	AlreadyFailed StartOutcome = "failed"
)

// Start moves signature id pending→active for runID in one round trip and returns the
// record with its kwargs; attempt (1-based) is recorded when the run may execute. A
// missing signature returns a [*NotFoundError].
func (s *Store) Start(ctx context.Context, id, runID string, attempt int) (StartOutcome, *Record, error) {
	res, err := startCmd.Run(ctx, s.rdb, []string{s.SignatureKey(id), s.KwargsKey(id)},
		runID, ms(s.activeTTL), attempt).Slice()
	if err != nil {
		return "", nil, opError(fmt.Sprintf("start %q", id), err)
	}
	code, _ := res[0].(string)
	if code == "missing" {
		return "", nil, &NotFoundError{ID: id}
	}
	rec, err := parseRecord(id, pairsToMap(res[1]), pairsToMap(res[2]))
	if err != nil {
		return "", nil, err
	}
	return StartOutcome(code), rec, nil
}

// Transition is the result of a finishing transition.
type Transition struct {
	// Repeated is true when the same run had already made this transition; nothing
	// changed.
	Repeated bool
	// Record is the signature after the transition (its kwargs are set by Fail only).
	Record *Record
}

// Finish moves signature id active→done for runID, keeps result (JSON) and gives the
// signature the done TTL, in one round trip.
func (s *Store) Finish(ctx context.Context, id, runID string, result json.RawMessage) (*Transition, error) {
	res, err := finishCmd.Run(ctx, s.rdb, []string{s.SignatureKey(id), s.KwargsKey(id)},
		runID, string(result), ms(s.doneTTL)).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("finish %q", id), err)
	}
	return s.transition(id, runID, StatusDone, res)
}

// Fail moves signature id to failed for runID (from active for that run, or from
// pending), records message and gives it the done TTL, in one round trip. The
// returned record includes the kwargs, so the message the task received can be rebuilt.
func (s *Store) Fail(ctx context.Context, id, runID, message string) (*Transition, error) {
	res, err := failCmd.Run(ctx, s.rdb, []string{s.SignatureKey(id), s.KwargsKey(id)},
		runID, message, ms(s.doneTTL)).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("fail %q", id), err)
	}
	return s.transition(id, runID, StatusFailed, res)
}

func (s *Store) transition(id, runID string, to Status, res []any) (*Transition, error) {
	code, _ := res[0].(string)
	if code == "missing" {
		return nil, &NotFoundError{ID: id}
	}
	var kw map[string]string
	if len(res) > 2 {
		kw = pairsToMap(res[2])
	}
	rec, err := parseRecord(id, pairsToMap(res[1]), kw)
	if err != nil {
		return nil, err
	}
	switch code {
	case "ok":
		return &Transition{Record: rec}, nil
	case "repeat":
		return &Transition{Repeated: true, Record: rec}, nil
	default:
		return nil, &TransitionError{ID: id, From: rec.Status, To: to, RunID: runID, OwnerRunID: rec.RunID}
	}
}

// MarkDispatched records that callbacks of signature id were dispatched for outcome
// (callback id → dispatched run id) and gives the callbacks of the branch that will
// never run the done TTL (only ever lowering a TTL), in one pipelined round trip.
// Markers are never written to a missing record.
func (s *Store) MarkDispatched(ctx context.Context, id string, outcome Outcome, runs map[string]string, deadBranch []string) error {
	if len(runs) == 0 && len(deadBranch) == 0 {
		return nil
	}
	var calls []scriptCall
	if len(runs) > 0 {
		args := make([]any, 0, 2*len(runs))
		for cb, run := range runs {
			args = append(args, markerPrefix+DispatchKey(outcome, cb), run)
		}
		calls = append(calls, scriptCall{keys: []string{s.SignatureKey(id)}, args: args})
	}
	err := s.pipelineScripts(ctx, markCmd, calls, func(p redis.Pipeliner) {
		for _, cb := range deadBranch {
			p.ExpireLT(ctx, s.SignatureKey(cb), s.doneTTL)
			p.ExpireLT(ctx, s.KwargsKey(cb), s.doneTTL)
		}
	})
	if err != nil {
		return opError(fmt.Sprintf("mark dispatched for %q", id), err)
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }
