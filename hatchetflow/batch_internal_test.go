package hatchetflow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// batchEngine is an engine that takes batches: it records every run it creates, and
// fails batches as the test says.
type batchEngine struct {
	mu      sync.Mutex
	created map[string][]string // signature -> runs created for it
	parents map[string]string   // run -> parent
	batches []int               // size of each batch call
	singles int
	// fail, when set, decides a batch's fate: how many of its runs the engine creates
	// before it fails, and the error (nil: it succeeds).
	fail func(n int) (createFirst int, err error)
	seq  int
}

func newBatchEngine() *batchEngine {
	return &batchEngine{created: map[string][]string{}, parents: map[string]string{}}
}

func (e *batchEngine) create(r engine.Run) string {
	e.seq++
	run := fmt.Sprintf("run-%d", e.seq)
	sig := r.Meta[engine.MetaSignature]
	e.created[sig] = append(e.created[sig], run)
	e.parents[run] = r.Meta[engine.MetaParent]
	return run
}

func (e *batchEngine) Dispatch(_ context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.singles++
	return e.create(engine.Run{Task: task, Input: input, Meta: meta}), nil
}

func (e *batchEngine) DispatchBatch(_ context.Context, runs []engine.Run) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batches = append(e.batches, len(runs))
	n, err := len(runs), error(nil)
	if e.fail != nil {
		n, err = e.fail(len(runs))
	}
	ids := make([]string, 0, len(runs))
	for _, r := range runs[:n] {
		ids = append(ids, e.create(r))
	}
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// finderEngine is a batchEngine that can also list the runs of a parent.
type finderEngine struct{ *batchEngine }

func (e finderEngine) RunsOf(_ context.Context, _ time.Time, parent string) (map[string]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]string{}
	for sig, runs := range e.created {
		for _, run := range runs {
			if e.parents[run] == parent {
				out[sig] = run
			}
		}
	}
	return out, nil
}

func batchClient(t *testing.T, d engine.Dispatcher) *Client {
	t.Helper()
	mr := miniredis.RunT(t)
	c, err := New(nil, redis.NewClient(&redis.Options{Addr: mr.Addr()}), engine.WithDispatcher(d), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	// The refs' tasks are registered, so no dispatch is marked engine-settled.
	for _, task := range []string{"cb"} {
		if _, err := NewTask(c, task, func(_ hatchet.Context, in map[string]any) (any, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func refs(n int) []redisstore.CallbackRef {
	out := make([]redisstore.CallbackRef, n)
	for i := range out {
		out[i] = redisstore.CallbackRef{ID: fmt.Sprintf("sig-%04d", i), Task: "cb"}
	}
	return out
}

func inputOfRef(cb redisstore.CallbackRef) map[string]any { return map[string]any{"for": cb.ID} }

// checkOnce fails unless every ref has exactly one run on the engine, the one
// dispatchEach reported.
func checkOnce(t *testing.T, e *batchEngine, rs []redisstore.CallbackRef, d dispatched) {
	t.Helper()
	if d.err != nil {
		t.Fatalf("dispatch error: %v", d.err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		runs := e.created[r.ID]
		if len(runs) != 1 || d.runs[r.ID] != runs[0] {
			t.Fatalf("%s: engine runs %v, reported %q; want exactly one, the one reported", r.ID, runs, d.runs[r.ID])
		}
		if string(d.inputs[r.ID]) != fmt.Sprintf(`{"for":%q}`, r.ID) {
			t.Fatalf("%s: reported input %s", r.ID, d.inputs[r.ID])
		}
	}
}

func TestBatchDispatchIsOneEngineCallPerBatch(t *testing.T) {
	e := newBatchEngine()
	c := batchClient(t, e)
	rs := refs(1200)
	d := c.dispatchEach(context.Background(), "parent-1", OutcomeSuccess, rs, inputOfRef, nil)
	checkOnce(t, e, rs, d)
	if fmt.Sprint(e.batches) != "[500 500 200]" || e.singles != 0 {
		t.Fatalf("batches %v and %d single calls for 1,200 runs; want [500 500 200] and 0", e.batches, e.singles)
	}
	// Run ids come back in order: the nth run created is the nth ref's.
	for i, r := range rs {
		if want := fmt.Sprintf("run-%d", i+1); d.runs[r.ID] != want {
			t.Fatalf("%s got %s, want %s", r.ID, d.runs[r.ID], want)
		}
	}
}

func TestBatchDispatchOfOneRunIsASingleCall(t *testing.T) {
	e := newBatchEngine()
	c := batchClient(t, e)
	rs := refs(1)
	checkOnce(t, e, rs, c.dispatchEach(context.Background(), "p", OutcomeSuccess, rs, inputOfRef, nil))
	if len(e.batches) != 0 || e.singles != 1 {
		t.Fatalf("batches %v, %d single calls; want none, 1", e.batches, e.singles)
	}
}

func TestRefusedBatchFallsBackToSingleCalls(t *testing.T) {
	e := newBatchEngine()
	e.fail = func(int) (int, error) { return 0, fmt.Errorf("%w: too large", engine.ErrBatchRefused) }
	c := batchClient(t, e)
	rs := refs(30)
	checkOnce(t, e, rs, c.dispatchEach(context.Background(), "p", OutcomeError, rs, inputOfRef, nil))
	if len(e.batches) != 1 || e.singles != 30 {
		t.Fatalf("batches %v, %d single calls; want one refused batch, 30", e.batches, e.singles)
	}
}

func TestBatchWithUnknownOutcomeIsCheckedBeforeFallingBack(t *testing.T) {
	e := newBatchEngine()
	e.fail = func(n int) (int, error) { return n / 2, errors.New("connection lost") } // half were created
	c := batchClient(t, finderEngine{e})
	rs := refs(40)
	checkOnce(t, e, rs, c.dispatchEach(context.Background(), "p", OutcomeSuccess, rs, inputOfRef, nil))
	if e.singles != 20 {
		t.Fatalf("%d single calls; want the 20 runs the engine had not created", e.singles)
	}
}

func TestBatchWithUnknownOutcomeAndNoFinderLosesNothing(t *testing.T) {
	e := newBatchEngine()
	e.fail = func(int) (int, error) { return 0, errors.New("deadline exceeded") }
	c := batchClient(t, e)
	rs := refs(5)
	d := c.dispatchEach(context.Background(), "p", OutcomeSuccess, rs, inputOfRef, nil)
	checkOnce(t, e, rs, d)
}

func TestDispatchLongAfterTheEndRecordsRunsAnEarlierAttemptTriggered(t *testing.T) {
	e := newBatchEngine()
	c := batchClient(t, finderEngine{e})
	rs := refs(3)
	// An earlier attempt triggered the first two and died before the markers.
	for _, r := range rs[:2] {
		e.create(engine.Run{Task: r.Task, Meta: map[string]string{engine.MetaSignature: r.ID, engine.MetaParent: "p"}})
	}
	before := map[string]string{rs[0].ID: e.created[rs[0].ID][0], rs[1].ID: e.created[rs[1].ID][0]}
	ctx := context.Background()
	if got := c.dispatchedEarlier(ctx, &redisstore.Record{ID: "p", EndedAt: time.Now()}, rs); got != nil {
		t.Fatalf("right after the end the engine is not asked, got %v", got)
	}
	known := c.dispatchedEarlier(ctx, &redisstore.Record{ID: "p", EndedAt: time.Now().Add(-time.Minute)}, rs)
	d := c.dispatchEach(ctx, "p", OutcomeSuccess, rs, inputOfRef, known)
	checkOnce(t, e, rs, d)
	for id, run := range before {
		if d.runs[id] != run {
			t.Fatalf("%s recorded with %s, want the earlier attempt's %s", id, d.runs[id], run)
		}
	}
	if e.singles != 1 || len(e.batches) != 0 {
		t.Fatalf("%d single calls, batches %v; want only the third callback triggered", e.singles, e.batches)
	}
}
