package faultsuite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// taskSwarmDone is the swarms' success callback the worker registers: it counts the
// field "<tag>/<item ids in result order>" (a null result as "-").
const taskSwarmDone = "fs-swarm-done"

// swarmUnderTest is a closed swarm of n items of task, each bound to the id
// "<tag>-<i>" and sleeping sleepMS, at most conc at a time; its success callback
// counts taskSwarmDone "<tag>/<ids>", its error callback TaskOnErrorAny "<tag>/err".
// It returns the swarm, the success callback's expected field and the item ids.
func swarmUnderTest(tag, task string, n, conc, sleepMS int) (dsl.SwarmBuilder, string, []string) {
	var items []dsl.Spec
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", tag, i)
		ids = append(ids, id)
		items = append(items, dsl.Sign(task).With(dsl.KW{"id": id, "sleep_ms": sleepMS}))
	}
	sw := dsl.Swarm(items...).MaxConcurrency(conc).
		OnSuccess(dsl.Sign(taskSwarmDone).With(dsl.KW{"tag": tag})).
		OnError(dsl.Sign(fs.TaskOnErrorAny).With(dsl.KW{"id": tag, "tag": "err"}))
	return sw, tag + "/" + strings.Join(ids, ","), ids
}

// runSwarm saves and starts sw with an empty input.
func (s *suite) runSwarm(ctx context.Context, sw dsl.SwarmBuilder) dsl.Handle {
	s.t.Helper()
	h, err := sw.Run(ctx, s.c, map[string]any{})
	if err != nil {
		s.t.Fatalf("run swarm: %v", err)
	}
	return h
}

// settleSwarm waits until swarm id ended and every signature under it (its callbacks,
// its items) settled, and returns its state.
func (s *suite) settleSwarm(ctx context.Context, id string, d time.Duration) *hatchetflow.SwarmState {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		st, err := s.c.Swarm(ctx, id)
		if err == nil && (st.Status == hatchetflow.StatusDone || st.Status == hatchetflow.StatusFailed) {
			ids := []string{id}
			for _, it := range st.Items {
				ids = append(ids, it.ID)
			}
			s.settle(ctx, ids...)
			return st
		}
		if ctx.Err() != nil {
			s.t.Fatalf("swarm %s not ended: %s", id, describeSwarm(st, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func describeSwarm(st *hatchetflow.SwarmState, err error) string {
	if st == nil {
		return fmt.Sprintf("(%v)", err)
	}
	var items []string
	for _, it := range st.Items {
		items = append(items, fmt.Sprintf("%d:%s", it.Index, it.State))
	}
	return fmt.Sprintf("%s closed=%v queued=%d running=%d done=%d failed=%d items=[%s] (%v)",
		st.Status, st.Closed, st.Queued, st.Running, st.Done, st.Failed, strings.Join(items, " "), err)
}

// expectSwarmDone checks that st is done with every item done and its result, in
// item order, the items' results.
func (s *suite) expectSwarmDone(st *hatchetflow.SwarmState, ids []string) {
	s.t.Helper()
	if st.Status != hatchetflow.StatusDone || st.Done != len(ids) || st.Failed != 0 || st.Queued != 0 ||
		st.Running != 0 || len(st.Items) != len(ids) {
		s.t.Errorf("swarm: %s; want done with %d items done", describeSwarm(st, nil), len(ids))
		return
	}
	want := make([]fs.MainOut, len(ids))
	for i, id := range ids {
		want[i] = fs.MainOut{ID: id, Value: len(id)}
		var got fs.MainOut
		if err := json.Unmarshal(st.Items[i].Result, &got); err != nil || got != want[i] {
			s.t.Errorf("item %d: result %s, want %+v", i, st.Items[i].Result, want[i])
		}
	}
	var got []fs.MainOut
	if err := json.Unmarshal(st.Result, &got); err != nil || !reflect.DeepEqual(got, want) {
		s.t.Errorf("swarm result %s, want %+v", st.Result, want)
	}
}

// expectItems checks the items' user-code executions: task's counter must be want
// exactly (no other id ran).
func (s *suite) expectItems(ctx context.Context, task string, want map[string]int) {
	s.t.Helper()
	got := s.counts(ctx, task)
	if !reflect.DeepEqual(got, want) {
		s.t.Errorf("%s user code ran %v, want %v", task, got, want)
	}
}

func once(ids []string) map[string]int {
	m := map[string]int{}
	for _, id := range ids {
		m[id] = 1
	}
	return m
}

// g. A worker SIGKILLed while a swarm's items run (6 items of 1.5 s, two at a time,
// one retry each): the worker dies with the third item running and the first two
// finishing. On a new worker the engine retries the killed attempts, the watcher
// heals what the dead worker left half done, the swarm completes with every result in
// item order, and its success callback runs exactly once. An item runs its user code
// once, or twice when its attempt was killed before it recorded its result.
func TestSwarmWorkerKilledDuringItems(t *testing.T) {
	s := newSuite(t, "g. swarm: worker SIGKILLed during items (6 items, conc 2, retries 1)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 3*time.Minute)
	w1 := s.startWorker("w1", fs.ModeNormal)
	sw, field, ids := swarmUnderTest("g1", fs.TaskMainRetry, 6, 2, 1500)
	start := time.Now()
	h := s.runSwarm(ctx, sw)
	s.waitCount(ctx, fs.TaskMainRetry, 3)
	w1.kill(t)
	killed := time.Now()

	// With the worker gone nothing moves: what each item's signature says now decides
	// how often its user code runs in all.
	st, err := s.c.Swarm(ctx, h.SignatureID())
	must(t, err)
	ran := s.counts(ctx, fs.TaskMainRetry)
	want := map[string]int{}
	midItem := 0
	var at []string
	for i, it := range st.Items {
		rec, err := s.c.Signature(ctx, it.ID)
		must(t, err)
		n := ran[ids[i]]
		if rec.Status != flowtype.StatusDone {
			n++ // its (next) attempt runs on the new worker
		}
		if rec.Status == flowtype.StatusActive && ran[ids[i]] == 1 {
			midItem++
		}
		want[ids[i]] = n
		at = append(at, fmt.Sprintf("%d:%s/%s/ran %d", i, it.State, rec.Status, ran[ids[i]]))
	}
	t.Logf("at the kill (%v after the run): %s", killed.Sub(start).Round(time.Millisecond), strings.Join(at, " "))
	if midItem == 0 {
		t.Fatalf("no item was killed in the middle of its user code: %s", strings.Join(at, " "))
	}

	w2 := s.startWorker("w2", fs.ModeNormal)
	s.settleSwarm(ctx, h.SignatureID(), 150*time.Second)
	t.Logf("kill → swarm settled: %v (new worker up → settled: %v)",
		time.Since(killed).Round(time.Millisecond), time.Since(w2.started).Round(time.Millisecond))
	s.expect(ctx, map[string]map[string]int{taskSwarmDone: {field: 1}})
	s.expectItems(ctx, fs.TaskMainRetry, want)
	st, err = s.c.Swarm(ctx, h.SignatureID())
	must(t, err)
	s.expectSwarmDone(st, ids)
	if who := s.crdb.HGet(ctx, fs.WhoKey(s.prefix, taskSwarmDone), field).Val(); who != "w2" {
		t.Errorf("swarm callback ran on %q, want the new worker w2", who)
	}
	s.checkTTLs(ctx)
	s.row.Note = fmt.Sprintf("%d item(s) killed mid-run, rerun by retry; swarm callback once; settled %.0f s after the kill",
		midItem, time.Since(killed).Seconds())
}

// h. The signatures' Redis is unreachable for about 5 s while a swarm's first items
// finish (6 items of 1 s, three at a time, no retries): the items' steps retry their
// Redis writes through the outage; no further item starts while Redis is down; once
// it is back the remaining items run, the swarm completes and its success callback
// runs exactly once, every item's user code once.
func TestSwarmRedisOutage(t *testing.T) {
	enginetest.Skip(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	r := startRedisServer(t, bin, freePort(t), t.TempDir())
	s := newSuite(t, "h. swarm: Redis down ~5 s while items finish (6 items, conc 3)", suiteOpt{redisURL: r.url()})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 3*time.Minute)
	w := s.startWorker("w1", fs.ModeNormal)
	sw, field, ids := swarmUnderTest("h1", fs.TaskMain, 6, 3, 1000)
	h := s.runSwarm(ctx, sw)
	s.waitCount(ctx, fs.TaskMain, 3) // the first three items run: their signatures are active
	r.stop(t)
	down := time.Now()
	time.Sleep(5 * time.Second)
	if n := sum(s.counts(ctx, fs.TaskMain)); n != 3 {
		t.Errorf("%d items ran user code by the end of the outage, want 3 (none can start without Redis)", n)
	}
	if n := sum(s.counts(ctx, taskSwarmDone)); n != 0 {
		t.Fatalf("the swarm callback ran %d times while Redis was down", n)
	}
	r.start(t)
	back := time.Now()
	t.Logf("Redis down for %v", back.Sub(down).Round(time.Millisecond))
	s.settleSwarm(ctx, h.SignatureID(), 150*time.Second)
	t.Logf("Redis back → swarm settled: %v", time.Since(back).Round(time.Millisecond))
	s.expect(ctx, map[string]map[string]int{taskSwarmDone: {field: 1}})
	s.expectItems(ctx, fs.TaskMain, once(ids))
	st, err := s.c.Swarm(ctx, h.SignatureID())
	must(t, err)
	s.expectSwarmDone(st, ids)
	if log := w.stderr.String(); !strings.Contains(log, "hatchetflow: retrying") {
		t.Errorf("the worker never retried a Redis error: the outage missed the items")
	}
	s.checkTTLs(ctx)
	s.row.Note = fmt.Sprintf("3 items finished into the outage; swarm callback once; settled %.0f s after Redis returned",
		time.Since(back).Seconds())
}

// i. Duplicate item completions: while a swarm's items run (6 items of 1 s, two at a
// time), ReconcileSwarm is called every 20 ms and a second engine run is dispatched
// for a running item's signature (the same metadata its own run has); once the swarm
// is done, duplicate runs of three finished items are dispatched and ReconcileSwarm is
// called again. The duplicates fail with ErrNotPending and no user code, and nothing
// about the swarm changes: done, 6 items done, the same results, its success callback
// once, every item's user code once.
func TestSwarmDuplicateItemCompletion(t *testing.T) {
	s := newSuite(t, "i. swarm: duplicate item runs + reconcile every 20 ms (6 items, conc 2)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal)
	sw, field, ids := swarmUnderTest("i1", fs.TaskMain, 6, 2, 1000)
	h := s.runSwarm(ctx, sw)
	id := h.SignatureID()

	var (
		mu                 sync.Mutex
		passes, endedCalls int
		reconErrs          []string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ended, err := s.c.ReconcileSwarm(ctx, id)
			mu.Lock()
			passes++
			if ended {
				endedCalls++
			}
			if err != nil && ctx.Err() == nil {
				reconErrs = append(reconErrs, err.Error())
			}
			mu.Unlock()
		}
	})
	defer func() { close(stop); wg.Wait() }()

	dispatchDup := func(item hatchetflow.SwarmItemState) string {
		t.Helper()
		run, err := s.m.Dispatcher.Dispatch(ctx, fs.TaskMain, map[string]any{},
			map[string]string{engine.MetaSignature: item.ID, engine.MetaParent: id})
		must(t, err)
		return run
	}
	// A running item: its signature is active, owned by its own run.
	s.waitCount(ctx, fs.TaskMain, 1)
	var dups []string
	st, err := s.c.Swarm(ctx, id)
	must(t, err)
	for _, it := range st.Items {
		rec, err := s.c.Signature(ctx, it.ID)
		must(t, err)
		if rec.Status == flowtype.StatusActive {
			dups = append(dups, dispatchDup(it))
			t.Logf("duplicate run of item %d (running, run %s) dispatched", it.Index, rec.RunID)
			break
		}
	}
	if len(dups) == 0 {
		t.Fatalf("no running item to duplicate: %s", describeSwarm(st, nil))
	}

	st = s.settleSwarm(ctx, id, 90*time.Second)
	s.expectSwarmDone(st, ids)
	mu.Lock()
	t.Logf("while items ran: %d reconcile passes (%d saw it ended), %d errors", passes, endedCalls, len(reconErrs))
	mu.Unlock()

	// Duplicates of finished items, and more reconciles, after the end.
	for _, i := range []int{0, 3, 5} {
		dups = append(dups, dispatchDup(st.Items[i]))
	}
	for _, run := range dups {
		if rs := s.runStatus(ctx, run); rs != rest.V1TaskStatusFAILED {
			t.Errorf("duplicate run %s: %s, want FAILED", run, rs)
		}
		if _, err := s.m.Dispatcher.(engine.Waiter).Wait(ctx, run, fs.TaskMain); !errors.Is(err, hatchetflow.ErrNotPending) {
			t.Errorf("duplicate run %s: Wait = %v, want ErrNotPending", run, err)
		}
	}
	for range 5 {
		ended, err := s.c.ReconcileSwarm(ctx, id)
		if !ended || err != nil {
			t.Errorf("ReconcileSwarm after the end = %v, %v; want true, nil", ended, err)
		}
	}
	s.settle(ctx, append([]string{id}, itemIDs(st)...)...)
	s.expect(ctx, map[string]map[string]int{taskSwarmDone: {field: 1}})
	s.expectItems(ctx, fs.TaskMain, once(ids))
	after, err := s.c.Swarm(ctx, id)
	must(t, err)
	s.expectSwarmDone(after, ids)
	if !reflect.DeepEqual(after, st) {
		t.Errorf("the swarm changed after the duplicates:\nbefore %+v\nafter  %+v", st, after)
	}
	mu.Lock()
	if len(reconErrs) > 0 {
		t.Errorf("%d ReconcileSwarm errors, first: %s", len(reconErrs), reconErrs[0])
	}
	mu.Unlock()
	s.checkTTLs(ctx)
	s.row.Note = fmt.Sprintf("%d duplicate item runs refused; %d concurrent reconciles; swarm callback once", len(dups), passes)
}

func itemIDs(st *hatchetflow.SwarmState) []string {
	var ids []string
	for _, it := range st.Items {
		ids = append(ids, it.ID)
	}
	return ids
}
