package hatchetflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/rtcount"
	"github.com/hatchetflow/go/testing/flowtest"
)

// The Overhead benchmarks measure what hatchetflow itself costs per run of a signature
// with one success callback (the tree of BenchmarkFlowtestRunWithCallback), phase by
// phase, on real Redis (REDIS_URL; skipped without it) and with no engine: the
// dispatcher records runs, and the benchmark calls the tasks' main steps as a worker
// would. Besides ns/op and allocations they report, per operation:
//
//	go-µs/op      CPU time of this process (user + system, every thread)
//	redis-µs/op   CPU time of the Redis server (INFO cpu, I/O included)
//	script-µs/op  Redis's time in scripts (INFO commandstats: EVALSHA and EVAL)
//	scripts/op    script calls, rtt/op round trips
//
// The Redis figures are exact only on a Redis no one else uses meanwhile. Measured with:
//
//	redis-server --port 6399 --save '' --appendonly no &
//	REDIS_URL=redis://127.0.0.1:6399 go test -run XXX -bench Overhead -benchtime 5000x -count 5 ./hatchetflow/

// recorder is a dispatcher that records the runs it is asked for.
type recorder struct {
	mu   sync.Mutex
	n    int
	runs []recordedRun
}

type recordedRun struct {
	id    string
	task  string
	input map[string]any
	meta  map[string]string
}

func (r *recorder) Dispatch(_ context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	id := fmt.Sprintf("run-%d", r.n)
	r.runs = append(r.runs, recordedRun{id: id, task: task, input: input, meta: meta})
	return id, nil
}

// take returns the recorded runs and forgets them.
func (r *recorder) take() []recordedRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.runs
	r.runs = nil
	return out
}

// overheadBench is a client on REDIS_URL (a key prefix of its own, removed after the
// benchmark) whose dispatcher records runs; steps gives the main steps of its tasks.
type overheadBench struct {
	c     *hatchetflow.Client
	rec   *recorder
	m     engine.Machinery
	rt    *rtcount.Counter
	admin *redis.Client
	sig   dsl.Builder
}

func newOverheadBench(b *testing.B) *overheadBench {
	b.Helper()
	rdb, rt, admin, prefix := rtcount.BenchRedis(b)
	ob := &overheadBench{rec: &recorder{}, rt: rt, admin: admin}
	c, err := hatchetflow.New(nil, rdb, hatchetflow.WithKeyPrefix(prefix), hatchetflow.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		hatchetflow.WithDispatcher(ob.rec), engine.Expose(&ob.m))
	if err != nil {
		b.Fatal(err)
	}
	ob.c = c
	parent, cb, _ := benchTasks(b, c)
	ob.sig = dsl.Sign(parent).With(dsl.KW{"priority": "high", "region": "eu-west-1", "max_attempts": 3}).
		OnSuccess(dsl.Sign(cb).With(dsl.KW{"template": "welcome"}))
	return ob
}

// run saves and dispatches the signature with its callback; it returns the root run.
func (ob *overheadBench) run(b *testing.B) recordedRun {
	if _, err := ob.sig.Run(context.Background(), ob.c, map[string]any{"order_id": "ord-1"}); err != nil {
		b.Fatal(err)
	}
	runs := ob.rec.take()
	if len(runs) != 1 {
		b.Fatalf("dispatched %d runs, want 1", len(runs))
	}
	return runs[0]
}

// step runs the main step of r as a worker would, and returns the runs it dispatched.
func (ob *overheadBench) step(b *testing.B, r recordedRun) []recordedRun {
	steps, ok := ob.m.Steps(r.task)
	if !ok {
		b.Fatalf("no steps for %q", r.task)
	}
	hctx := flowtest.NewContext(context.Background(), &flowtest.ContextOptions{Task: r.task, RunID: r.id, Metadata: r.meta})
	if _, err := steps.Main(hctx, r.input); err != nil {
		b.Fatal(err)
	}
	return ob.rec.take()
}

// wire returns r's input as the engine hands it to a step: decoded JSON.
func wire(b *testing.B, r recordedRun) recordedRun {
	raw, err := json.Marshal(r.input)
	if err != nil {
		b.Fatal(err)
	}
	r.input = nil
	if err := json.Unmarshal(raw, &r.input); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkOverheadRun: Run of the signature with its callback: compile, checks, the
// save (one round trip), the root's dispatch (recorded).
func BenchmarkOverheadRun(b *testing.B) {
	ob := newOverheadBench(b)
	ob.run(b) // loads the scripts
	b.ReportAllocs()
	m := rtcount.StartMeter(b, ob.admin, ob.rt)
	for i := 0; i < b.N; i++ {
		ob.run(b)
	}
	m.Report(b)
}

// BenchmarkOverheadParentStep: the root's main step: start, the user function,
// finish, the callback's dispatch (recorded) and its marker.
func BenchmarkOverheadParentStep(b *testing.B) {
	ob := newOverheadBench(b)
	ob.step(b, wire(b, ob.run(b))) // loads the scripts
	roots := make([]recordedRun, b.N)
	for i := range roots {
		roots[i] = wire(b, ob.run(b))
	}
	b.ReportAllocs()
	m := rtcount.StartMeter(b, ob.admin, ob.rt)
	for i := 0; i < b.N; i++ {
		if got := ob.step(b, roots[i]); len(got) != 1 {
			b.Fatalf("dispatched %d callbacks, want 1", len(got))
		}
	}
	m.Report(b)
}

// BenchmarkOverheadCallbackStep: the callback's main step: start, kwargs merged,
// the user function, finish (no callbacks of its own).
func BenchmarkOverheadCallbackStep(b *testing.B) {
	ob := newOverheadBench(b)
	cbs := make([]recordedRun, b.N+1)
	for i := range cbs {
		got := ob.step(b, wire(b, ob.run(b)))
		if len(got) != 1 {
			b.Fatalf("dispatched %d callbacks, want 1", len(got))
		}
		cbs[i] = wire(b, got[0])
	}
	ob.step(b, cbs[b.N]) // loads the scripts
	b.ReportAllocs()
	m := rtcount.StartMeter(b, ob.admin, ob.rt)
	for i := 0; i < b.N; i++ {
		ob.step(b, cbs[i])
	}
	m.Report(b)
}

// BenchmarkOverheadCycle: the three phases in a row, the whole of one run with its
// callback (6 round trips: save, start, finish, markers, the callback's start and
// finish).
func BenchmarkOverheadCycle(b *testing.B) {
	ob := newOverheadBench(b)
	ob.step(b, ob.step(b, ob.run(b))[0])
	b.ReportAllocs()
	m := rtcount.StartMeter(b, ob.admin, ob.rt)
	for i := 0; i < b.N; i++ {
		ob.step(b, ob.step(b, ob.run(b))[0])
	}
	m.Report(b)
}
