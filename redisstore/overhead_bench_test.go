package redisstore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/internal/rtcount"
)

// The Overhead benchmarks measure what one signature run costs hatchetflow's store, phase
// by phase, on real Redis (REDIS_URL; skipped without it): the run of a signature with
// 3 kwargs, its input and one success callback (1 kwarg), the shape of
// hatchetflow.BenchmarkFlowtestRunWithCallback. Besides ns/op (mostly the round trip's
// latency) and allocations they report, per operation:
//
//	go-µs/op      CPU time of this process (user + system, every thread: go-redis,
//	              encoding, decoding, GC)
//	redis-µs/op   CPU time of the Redis server (INFO cpu: user + system, I/O included)
//	script-µs/op  Redis's own time in scripts (INFO commandstats: EVALSHA and EVAL usec)
//	scripts/op    script calls, rtt/op round trips
//
// The Redis figures are exact only on a Redis no one else uses while the benchmark runs
// (scripts/op shows when another client's scripts got in). Measured with:
//
//	redis-server --port 6399 --save '' --appendonly no &
//	REDIS_URL=redis://127.0.0.1:6399 go test -run XXX -bench Overhead -benchtime 20000x -count 5 ./redisstore/

// overheadRedis returns a store on REDIS_URL with a prefix of its own, removed after
// the benchmark, its client's round-trip counter and a client for INFO.
func overheadRedis(b *testing.B) (*Store, *rtcount.Counter, *redis.Client) {
	b.Helper()
	rc, rt, admin, prefix := rtcount.BenchRedis(b)
	ctx := context.Background()
	s := New(rc, WithPrefix(prefix))
	if err := s.LoadScripts(ctx); err != nil {
		b.Fatal(err)
	}
	return s, rt, admin
}

// overheadRun is one run's records: a root signature with 3 kwargs, its input and one
// success callback, and the callback with 1 kwarg.
type overheadRun struct {
	parent, callback *Record
	runID, cbRunID   string
}

var (
	overheadInput  = json.RawMessage(`{"order_id":"ord-1"}`)
	overheadResult = json.RawMessage(`{"order_id":"ord-1","total":42}`)
	overheadCbIn   = json.RawMessage(`{"task_result":{"order_id":"ord-1","total":42}}`)
)

func newOverheadRun(b *testing.B) overheadRun {
	pid, err := NewID()
	if err != nil {
		b.Fatal(err)
	}
	cid, _ := NewID()
	now := time.Now()
	cb := &Record{ID: cid, Task: "bench-callback", Kwargs: map[string]any{"template": "welcome"},
		Status: flowtype.StatusPending, ReturnField: "task_result", CreatedAt: now}
	p := &Record{ID: pid, Task: "bench-parent", Kwargs: map[string]any{"priority": "high", "region": "eu-west-1", "max_attempts": 3},
		Status: flowtype.StatusPending, ReturnField: "mageflow_results", CreatedAt: now, Input: overheadInput, Root: true,
		OnSuccess: []CallbackRef{{ID: cid, Task: "bench-callback", ReturnField: "task_result"}}}
	return overheadRun{parent: p, callback: cb, runID: "run-" + pid, cbRunID: "run-" + cid}
}

// overheadPhase is one step of a run, in order.
type overheadPhase int

const (
	phaseSave overheadPhase = iota
	phaseStart
	phaseFinish
	phaseMark
	phaseCallbackStart
	phaseCallbackFinish
	phaseEnd
)

// do runs phase p of run r as the hatchetflow steps do.
func (r overheadRun) do(b *testing.B, s *Store, p overheadPhase) {
	ctx := context.Background()
	var err error
	switch p {
	case phaseSave:
		err = s.SaveTree(ctx, []*Record{r.callback, r.parent})
	case phaseStart:
		_, _, err = s.StartWithInput(ctx, r.parent.ID, r.runID, 1, overheadInput, 1)
	case phaseFinish:
		_, err = s.Finish(ctx, r.parent.ID, r.runID, overheadResult, &FinishOptions{})
	case phaseMark:
		err = s.MarkDispatched(ctx, r.parent.ID, flowtype.OutcomeSuccess, map[string]string{r.callback.ID: r.cbRunID},
			map[string]json.RawMessage{r.callback.ID: overheadCbIn}, []string{}, nil)
	case phaseCallbackStart:
		_, _, err = s.StartWithInput(ctx, r.callback.ID, r.cbRunID, 1, overheadCbIn, 1)
	case phaseCallbackFinish:
		_, err = s.Finish(ctx, r.callback.ID, r.cbRunID, json.RawMessage("null"), &FinishOptions{})
	}
	if err != nil {
		b.Fatal(err)
	}
}

// benchPhases runs phases [from, to) of b.N runs, after bringing each through the
// phases before from (not measured).
func benchPhases(b *testing.B, from, to overheadPhase) {
	s, rt, admin := overheadRedis(b)
	runs := make([]overheadRun, b.N)
	for i := range runs {
		runs[i] = newOverheadRun(b)
		for p := phaseSave; p < from; p++ {
			runs[i].do(b, s, p)
		}
	}
	b.ReportAllocs()
	m := rtcount.StartMeter(b, admin, rt)
	for i := 0; i < b.N; i++ {
		for p := from; p < to; p++ {
			runs[i].do(b, s, p)
		}
	}
	m.Report(b)
}

// BenchmarkOverheadSave: the run's save, one pipeline of two save scripts (callback,
// then root).
func BenchmarkOverheadSave(b *testing.B) { benchPhases(b, phaseSave, phaseStart) }

// BenchmarkOverheadStart: the root's start (one script).
func BenchmarkOverheadStart(b *testing.B) { benchPhases(b, phaseStart, phaseFinish) }

// BenchmarkOverheadFinish: the root's finish (one script).
func BenchmarkOverheadFinish(b *testing.B) { benchPhases(b, phaseFinish, phaseMark) }

// BenchmarkOverheadMark: the root's dispatch markers, one pipeline of two mark
// scripts (the callback's input, the root's marker).
func BenchmarkOverheadMark(b *testing.B) { benchPhases(b, phaseMark, phaseCallbackStart) }

// BenchmarkOverheadRun: the whole run of the root and its callback: save, start,
// finish, markers, the callback's start and finish (6 round trips).
func BenchmarkOverheadRun(b *testing.B) { benchPhases(b, phaseSave, phaseEnd) }
