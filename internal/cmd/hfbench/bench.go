package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// Task and workflow names. The SDK prefixes them with the run's namespace.
const (
	parentTask  = "bench-parent"
	callbackTk  = "bench-callback"
	onErrorTask = "bench-on-error"
	nativeWf    = "bench-native"
)

// Side names. ours and native are the two sides of the comparison; fair and trigger
// (the lean reference) are hand-written references run in every run; trigger+skip is
// a reference run only with -explain.
const (
	sideOurs      = "hatchetflow"
	sideNative    = "native"
	sideTrigger   = "trigger"
	sideTrigSkip  = "trigger+skip"
	sideFair      = "fair"
	dispatchedKey = "dispatched"
)

// In is the input of the parent task on both sides; Priority, Region and MaxAttempts
// are what a typical signature binds as kwargs.
type In struct {
	Seq         int64  `json:"seq"`
	Priority    string `json:"priority,omitempty"`
	Region      string `json:"region,omitempty"`
	MaxAttempts int    `json:"max_attempts,omitempty"`
}

// Out is the parent's return value on both sides.
type Out struct {
	Seq   int64 `json:"seq"`
	Total int   `json:"total"`
}

// CallbackIn is the success callback's input: the parent's return value injected.
type CallbackIn struct {
	TaskResult inject.ReturnValue[Out] `json:"task_result"`
}

// OnErrorIn is an error callback's input: the failed task's message.
type OnErrorIn struct {
	In
	Err *inject.TaskError `json:"error,omitempty"`
}

// mark is what one run records, all from time.Now() in this process (monotonic
// clock): parent function start and end, child function start.
type mark struct {
	pstart, end, start time.Time
	done               chan struct{}
}

// recorder keeps the marks of one side, by sequence number.
type recorder struct {
	mu    sync.Mutex
	marks map[int64]*mark
}

func newRecorder() *recorder { return &recorder{marks: map[int64]*mark{}} }

func (r *recorder) expect(seq int64) *mark {
	m := &mark{done: make(chan struct{})}
	r.mu.Lock()
	r.marks[seq] = m
	r.mu.Unlock()
	return m
}

func (r *recorder) forget(seq int64) {
	r.mu.Lock()
	delete(r.marks, seq)
	r.mu.Unlock()
}

func (r *recorder) parentStart(seq int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.marks[seq]; m != nil && m.pstart.IsZero() {
		m.pstart = t
	}
}

func (r *recorder) parentEnd(seq int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.marks[seq]; m != nil && m.end.IsZero() {
		m.end = t
	}
}

func (r *recorder) childStart(seq int64, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.marks[seq]
	if m == nil || !m.start.IsZero() {
		return // unknown or a duplicate: keep the first start
	}
	m.start = t
	close(m.done)
}

// side is one way of running "a task, then a dependent task".
type side struct {
	name    string
	rec     *recorder
	trigger func(ctx context.Context, seq int64) (key, runID string, err error)
}

type bench struct {
	flow     *hatchetflow.Client
	store    *redisstore.Store // flow's
	hc       *hatchet.Client
	parent   *hatchetflow.Task[In, Out]
	callback *hatchetflow.Task[CallbackIn, any]
	onError  *hatchetflow.Task[OnErrorIn, any]
	// workflows are the native workflows to register on the worker.
	workflows []hatchet.WorkflowBase
	sides     []side // ours, native, fair, trigger, then trigger+skip with -explain
	seq       atomic.Int64
	timing    *timingDispatcher

	// The chain, fan-out and depth phases (flows.go).
	link               *hatchetflow.Task[LinkIn, LinkOut]
	links, nativeLinks *tracker
	nativeChain        *hatchet.Workflow
	chainSplit         hopSplit
	batchRuns          *tracker // the -batch reference (batch.go)
}

func newBench(flow *hatchetflow.Client, hc *hatchet.Client, explain, batch bool, chainSteps int) (*bench, error) {
	b := &bench{flow: flow, hc: hc}
	ours, native := newRecorder(), newRecorder()
	var err error
	// hatchetflow side: a typed task whose success callback gets its return value.
	b.parent, err = hatchetflow.NewTask(flow, parentTask, func(_ hatchet.Context, in In) (Out, error) {
		ours.parentStart(in.Seq, time.Now())
		out := Out{Seq: in.Seq, Total: 42}
		ours.parentEnd(in.Seq, time.Now())
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	b.callback, err = hatchetflow.NewTask(flow, callbackTk, func(_ hatchet.Context, in CallbackIn) (any, error) {
		ours.childStart(in.TaskResult.Value.Seq, time.Now())
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	b.onError, err = hatchetflow.NewTask(flow, onErrorTask, func(_ hatchet.Context, in OnErrorIn) (any, error) {
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	sig := dsl.Sign(b.parent).OnSuccess(dsl.Sign(b.callback))
	b.sides = append(b.sides, side{name: sideOurs, rec: ours, trigger: func(ctx context.Context, seq int64) (string, string, error) {
		h, err := sig.Run(ctx, b.flow, In{Seq: seq})
		if err != nil {
			return "", "", err
		}
		return h.SignatureID(), h.RunID(), nil
	}})

	// Native side: a two-task DAG whose child reads its parent's output.
	wf := hc.NewWorkflow(nativeWf)
	parent := wf.NewTask("parent", func(_ hatchet.Context, in In) (Out, error) {
		native.parentStart(in.Seq, time.Now())
		out := Out{Seq: in.Seq, Total: 42}
		native.parentEnd(in.Seq, time.Now())
		return out, nil
	})
	wf.NewTask("child", func(ctx hatchet.Context, _ In) (Out, error) {
		now := time.Now()
		var p Out
		if err := ctx.ParentOutput(parent, &p); err != nil {
			return Out{}, err
		}
		native.childStart(p.Seq, now)
		return p, nil
	}, hatchet.WithParents(parent))
	b.workflows = append(b.workflows, wf)
	b.sides = append(b.sides, b.workflowSide(sideNative, native, wf))

	// The fair comparator: hand-written, with the same guarantees (an on-failure step
	// on both workflows), the parent triggering the child with RunNoWait.
	b.addTriggerSide(sideFair, false, true)
	// The lean reference: the same without on-failure steps, which is hatchetflow's
	// default engine shape (one task per workflow) without Redis and hatchetflow's code.
	b.addTriggerSide(sideTrigger, false, false)
	if explain {
		b.addTriggerSide(sideTrigSkip, true, true)
	}
	if batch {
		b.addBatchFlows()
	}
	if err := b.addLinkFlows(chainSteps); err != nil {
		return nil, err
	}
	return b, nil
}

// workflowSide triggers wf with the SDK and waits for its child.
func (b *bench) workflowSide(name string, rec *recorder, wf *hatchet.Workflow) side {
	return side{name: name, rec: rec, trigger: func(ctx context.Context, seq int64) (string, string, error) {
		ref, err := waitFor(ctx, time.Minute, func() (*hatchet.WorkflowRunRef, error) {
			return wf.RunNoWait(context.WithoutCancel(ctx), In{Seq: seq})
		})
		if err != nil {
			return "", "", err
		}
		return ref.RunId, ref.RunId, nil
	}}
}

// addTriggerSide adds a reference side with hatchetflow's engine shape but no
// hatchetflow code and no Redis: the parent's task triggers the child workflow by name
// (client.RunNoWait) right before returning, as the fast path does. With followUp,
// both workflows also have an always-skipped follow-up step (a shape hatchetflow once
// had); with onFailure, an on-failure step (never run here); with neither, they are
// single-task workflows, hatchetflow's default (lean) shape.
func (b *bench) addTriggerSide(name string, followUp, onFailure bool) {
	rec := newRecorder()
	slug := strings.NewReplacer("+", "-").Replace(name)
	childName := "bench-" + slug + "-child"
	shape := func(wf *hatchet.Workflow, main *hatchet.Task) {
		if followUp {
			wf.NewTask("follow-up", func(hatchet.Context, map[string]any) (map[string]any, error) {
				return map[string]any{}, nil
			}, hatchet.WithParents(main), hatchet.WithSkipIf(hatchet.ParentCondition(main, "output.dispatched == true")))
		}
		if onFailure {
			wf.OnFailure(func(hatchet.Context, map[string]any) (map[string]any, error) { return map[string]any{}, nil })
		}
	}
	parent := b.hc.NewWorkflow("bench-" + slug + "-parent")
	main := parent.NewTask("main", func(ctx hatchet.Context, in In) (map[string]any, error) {
		rec.parentStart(in.Seq, time.Now())
		out := Out{Seq: in.Seq, Total: 42}
		rec.parentEnd(in.Seq, time.Now())
		if _, err := b.hc.RunNoWait(context.Background(), childName, map[string]any{"task_result": out}); err != nil {
			return nil, err
		}
		return map[string]any{"seq": out.Seq, "total": out.Total, dispatchedKey: true}, nil
	})
	shape(parent, main)
	child := b.hc.NewWorkflow(childName)
	cmain := child.NewTask("main", func(_ hatchet.Context, in CallbackIn) (map[string]any, error) {
		rec.childStart(in.TaskResult.Value.Seq, time.Now())
		return map[string]any{dispatchedKey: true}, nil
	})
	shape(child, cmain)
	b.workflows = append(b.workflows, parent, child)
	b.sides = append(b.sides, b.workflowSide(name, rec, parent))
}

// sample is one run: its key (signature id or run id) and its marks.
type sample struct {
	key                         string
	trigger, pstart, end, start time.Time
}

func (s sample) hop() time.Duration { return s.start.Sub(s.end) }

// once triggers one run of s and waits until its child/callback started.
func (b *bench) once(ctx context.Context, s side, timeout time.Duration) (sample, error) {
	seq := b.seq.Add(1)
	m := s.rec.expect(seq)
	defer s.rec.forget(seq)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	trig := time.Now()
	key, runID, err := s.trigger(ctx, seq)
	if err != nil {
		return sample{}, fmt.Errorf("%s: trigger: %w", s.name, err)
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		return sample{key: key}, fmt.Errorf("%s: run %s (seq %d): child not started within %v: %w; %s", s.name, key, seq,
			timeout, ctx.Err(), b.diagnose(s, key, runID, seq))
	}
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	if m.end.IsZero() {
		return sample{key: key}, fmt.Errorf("%s: run %s: child started but no parent end recorded", s.name, key)
	}
	return sample{key: key, trigger: trig, pstart: m.pstart, end: m.end, start: m.start}, nil
}

func (b *bench) warmUp(ctx context.Context, cfg config) error {
	progress("warm-up: %d runs per side", cfg.warmup)
	for i := 0; i < cfg.warmup; i++ {
		for _, s := range b.sides {
			smp, err := b.once(ctx, s, cfg.runTimeout)
			if err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
			if s.name == sideOurs {
				b.timing.await(smp.key, 200*time.Millisecond)
			}
		}
	}
	return nil
}

// hopResult holds the hop series by side, plus the fast path's breakdown.
type hopResult struct {
	hops  map[string][]time.Duration
	pairs []map[string][]time.Duration // the hops of each ABBA pair, by side
	// Breakdown of our hop, per run: parent end → trigger call start (Finish script,
	// result encoding); trigger call duration; trigger return → callback start.
	toDispatch, dispatchCall, afterDispatch []time.Duration
	failures                                map[string]int
	dbBefore, dbAfter                       int64 // pg_database_size, bytes (0: unknown)
}

// abba returns the rounds of pair p: every side once, then in reverse order, the
// first side alternating from pair to pair (A B C C B A, then C B A A B C), so a
// drift in machine load or database size hits every side of a pair alike.
func abba[T any](sides []T, p int) []T {
	order := slices.Clone(sides)
	if p%2 == 1 {
		slices.Reverse(order)
	}
	rev := slices.Clone(order)
	slices.Reverse(rev)
	return append(order, rev...)
}

// hopRatios returns, per pair, median hop of side a / median hop of side b.
func hopRatios(pairs []map[string][]time.Duration, a, b string) []float64 {
	var out []float64
	for _, p := range pairs {
		if d := median(p[b]); d > 0 && len(p[a]) > 0 {
			out = append(out, float64(median(p[a]))/float64(d))
		}
	}
	return out
}

// hopSeries runs cfg.pairs ABBA pairs of short rounds: in each round one side runs
// cfg.hopRoundRuns runs one at a time.
func (b *bench) hopSeries(ctx context.Context, cfg config) (*hopResult, error) {
	res := &hopResult{hops: map[string][]time.Duration{}, failures: map[string]int{}}
	progress("hop: %d ABBA pairs, rounds of %d runs per side", cfg.pairs, cfg.hopRoundRuns)
	limit := max(3, 2*cfg.pairs*cfg.hopRoundRuns/20)
	for p := 0; p < cfg.pairs; p++ {
		pair := map[string][]time.Duration{}
		for _, s := range abba(b.sides, p) {
			for i := 0; i < cfg.hopRoundRuns; i++ {
				smp, err := b.once(ctx, s, cfg.runTimeout)
				if err != nil {
					if ctx.Err() != nil {
						return nil, err
					}
					res.failures[s.name]++
					progress("hop: %v", err)
					if res.failures[s.name] > limit {
						return nil, fmt.Errorf("hop: too many failed runs (%d)", res.failures[s.name])
					}
					continue
				}
				pair[s.name] = append(pair[s.name], smp.hop())
				res.hops[s.name] = append(res.hops[s.name], smp.hop())
				if s.name == sideOurs {
					// The trigger call may return a moment after the callback started.
					if t, ok := b.timing.await(smp.key, 200*time.Millisecond); ok {
						res.toDispatch = append(res.toDispatch, t.begin.Sub(smp.end))
						res.dispatchCall = append(res.dispatchCall, t.end.Sub(t.begin))
						res.afterDispatch = append(res.afterDispatch, smp.start.Sub(t.end))
					}
				}
			}
		}
		res.pairs = append(res.pairs, pair)
		var parts []string
		for _, s := range b.sides {
			parts = append(parts, fmt.Sprintf("%s %v", s.name, median(pair[s.name]).Round(100*time.Microsecond)))
		}
		progress("hop pair %d/%d: medians %s", p+1, cfg.pairs, strings.Join(parts, ", "))
	}
	return res, nil
}

// tpSide is the throughput of one side.
type tpSide struct {
	runs, failures int
	wall           time.Duration
	cpu            cpuSample
	// Per run under load: trigger call → parent fn start, parent fn end → child fn
	// start (the hop), trigger call → child fn start.
	toParent, hop, total []time.Duration
}

func (t *tpSide) rate() float64 {
	if t == nil || t.wall <= 0 {
		return 0
	}
	return float64(t.runs-t.failures) / t.wall.Seconds()
}

// tpResult holds the throughput phase.
type tpResult struct {
	roundRuns         int
	sides             map[string]*tpSide
	pairs             []map[string]*tpSide // each ABBA pair's two rounds per side
	rounds            []string
	dbBefore, dbAfter int64
}

// tpRatios returns, per pair, runs/s of side a / runs/s of side b.
func tpRatios(pairs []map[string]*tpSide, a, b string) []float64 {
	var out []float64
	for _, p := range pairs {
		if r := p[b].rate(); r > 0 {
			out = append(out, p[a].rate()/r)
		}
	}
	return out
}

// throughput runs cfg.tpPairs ABBA pairs of short rounds: in each round one side runs
// cfg.tpRoundRuns runs with cfg.concurrency in flight (each worker goroutine triggers a
// run and waits for its child before the next).
func (b *bench) throughput(ctx context.Context, cfg config) (*tpResult, error) {
	res := &tpResult{roundRuns: cfg.tpRoundRuns, sides: map[string]*tpSide{}}
	total := cfg.tpPairs * 2 * len(b.sides)
	i := 0
	for p := 0; p < cfg.tpPairs; p++ {
		pair := map[string]*tpSide{}
		for _, s := range abba(b.sides, p) {
			i++
			n := cfg.tpRoundRuns
			before := sampleCPU()
			wall, samples, err := b.burst(ctx, s, n, cfg)
			if err != nil {
				return nil, err
			}
			used := sampleCPU().sub(before)
			for _, m := range []map[string]*tpSide{res.sides, pair} {
				ts := m[s.name]
				if ts == nil {
					ts = &tpSide{}
					m[s.name] = ts
				}
				ts.runs += n
				ts.failures += n - len(samples)
				ts.wall += wall
				ts.cpu = ts.cpu.add(used)
			}
			ts := res.sides[s.name]
			for _, smp := range samples {
				ts.toParent = append(ts.toParent, smp.pstart.Sub(smp.trigger))
				ts.hop = append(ts.hop, smp.hop())
				ts.total = append(ts.total, smp.start.Sub(smp.trigger))
			}
			busy := 0.0
			if used.total > 0 {
				busy = 100 * float64(used.busy) / float64(used.total)
			}
			res.rounds = append(res.rounds, fmt.Sprintf("%s %.0f/s", s.name, float64(len(samples))/wall.Seconds()))
			progress("throughput %d/%d: %s %d runs in %v = %.1f/s; machine busy %.0f%%, engine %v, postgres %v CPU",
				i, total, s.name, n, wall.Round(time.Millisecond), float64(len(samples))/wall.Seconds(), busy,
				used.engine, used.postgres)
		}
		res.pairs = append(res.pairs, pair)
	}
	return res, nil
}

func (b *bench) burst(ctx context.Context, s side, n int, cfg config) (time.Duration, []sample, error) {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		samples  []sample
		failed   int
	)
	start := time.Now()
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				smp, err := b.once(ctx, s, cfg.runTimeout)
				mu.Lock()
				if err != nil {
					failed++
					progress("throughput: %v", err)
					if ctx.Err() != nil || failed > max(3, n/20) {
						if firstErr == nil {
							firstErr = fmt.Errorf("%d failed runs, last: %w", failed, err)
						}
						mu.Unlock()
						return
					}
				} else {
					samples = append(samples, smp)
				}
				mu.Unlock()
				if err == nil && s.name == sideOurs {
					b.timing.await(smp.key, 0)
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), samples, firstErr
}

// dispatchTiming is when the fast path's trigger call for a callback began and ended.
type dispatchTiming struct {
	begin, end time.Time
}

// timingDispatcher forwards to the production Hatchet dispatcher and records, per
// parent signature, when the callback trigger call began and returned.
type timingDispatcher struct {
	next  engine.Dispatcher
	mu    sync.Mutex
	calls map[string]dispatchTiming
	// n counts the engine calls: each Dispatch is one trigger call (RunNoWait), each
	// DispatchBatch one bulk call (BulkTriggerWorkflow) whatever its size.
	n atomic.Int64
	// links records the trigger calls of link steps (flows.go) by the (seq, step) of
	// the result they pass on, for the chain hop's breakdown.
	links map[linkKey]dispatchTiming
}

type linkKey struct {
	seq  int64
	step int
}

// linkOf returns the (seq, step) of a link step's input, if input is one.
func linkOf(input map[string]any) (linkKey, bool) {
	v, ok := input["task_result"]
	if !ok {
		return linkKey{}, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return linkKey{}, false
	}
	var out struct {
		Seq  *int64 `json:"seq"`
		Step *int   `json:"step"`
	}
	if json.Unmarshal(raw, &out) != nil || out.Seq == nil || out.Step == nil {
		return linkKey{}, false
	}
	return linkKey{*out.Seq, *out.Step}, true
}

func (d *timingDispatcher) Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	d.n.Add(1)
	begin := time.Now()
	id, err := d.next.Dispatch(ctx, task, input, meta)
	end := time.Now()
	if parent := meta[engine.MetaParent]; parent != "" && err == nil {
		d.mu.Lock()
		d.calls[parent] = dispatchTiming{begin: begin, end: end}
		d.mu.Unlock()
	}
	if k, ok := linkOf(input); ok && err == nil && strings.HasSuffix(task, linkTask) {
		d.mu.Lock()
		d.links[k] = dispatchTiming{begin: begin, end: end}
		d.mu.Unlock()
	}
	return id, err
}

// DispatchBatch forwards a batch to the production dispatcher as one engine call,
// counted once and timed for each of its runs. A batch the production dispatcher
// cannot take is refused before any call, uncounted: hatchetflow then dispatches its
// runs one by one, each counted.
func (d *timingDispatcher) DispatchBatch(ctx context.Context, runs []engine.Run) ([]string, error) {
	bd, ok := d.next.(engine.BatchDispatcher)
	if !ok {
		return nil, fmt.Errorf("%w: the production dispatcher takes no batches", engine.ErrBatchRefused)
	}
	d.n.Add(1)
	begin := time.Now()
	ids, err := bd.DispatchBatch(ctx, runs)
	end := time.Now()
	if err != nil {
		return ids, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range runs {
		if parent := r.Meta[engine.MetaParent]; parent != "" {
			d.calls[parent] = dispatchTiming{begin: begin, end: end}
		}
		if k, ok := linkOf(r.Input); ok && strings.HasSuffix(r.Task, linkTask) {
			d.links[k] = dispatchTiming{begin: begin, end: end}
		}
	}
	return ids, nil
}

// RunsOf forwards to the production dispatcher's RunFinder.
func (d *timingDispatcher) RunsOf(ctx context.Context, since time.Time, parent string) (map[string]string, error) {
	rf, ok := d.next.(engine.RunFinder)
	if !ok {
		return nil, errors.New("hfbench: the production dispatcher cannot list runs")
	}
	return rf.RunsOf(ctx, since, parent)
}

// Wait forwards to the production dispatcher's Waiter.
func (d *timingDispatcher) Wait(ctx context.Context, runID, task string) (json.RawMessage, error) {
	w, ok := d.next.(engine.Waiter)
	if !ok {
		return nil, hatchetflow.ErrCannotWait
	}
	return w.Wait(ctx, runID, task)
}

// link returns and forgets the timing of the trigger call that passed on step's
// result of run seq.
func (d *timingDispatcher) link(seq int64, step int) (dispatchTiming, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := linkKey{seq, step}
	t, ok := d.links[k]
	delete(d.links, k)
	return t, ok
}

// await returns and forgets the timing of the callback dispatched for parent
// signature key, waiting up to wait for the trigger call to return.
func (d *timingDispatcher) await(key string, wait time.Duration) (dispatchTiming, bool) {
	deadline := time.Now().Add(wait)
	for {
		d.mu.Lock()
		t, ok := d.calls[key]
		delete(d.calls, key)
		d.mu.Unlock()
		if ok || !time.Now().Before(deadline) {
			return t, ok
		}
		time.Sleep(time.Millisecond)
	}
}

// diagnose describes where a run that timed out got stuck: which user functions ran,
// the signatures' states and the engine's view of the runs.
func (b *bench) diagnose(s side, key, runID string, seq int64) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.rec.mu.Lock()
	m := s.rec.marks[seq]
	started, ended := !m.pstart.IsZero(), !m.end.IsZero()
	s.rec.mu.Unlock()
	parts := []string{fmt.Sprintf("parent fn started=%v ended=%v", started, ended),
		"engine run " + runID + ": " + b.engineRun(ctx, runID)}
	if s.name != sideOurs {
		return strings.Join(parts, "; ")
	}
	rec, err := b.flow.Signature(ctx, key)
	if err != nil {
		return strings.Join(append(parts, "signature: "+err.Error()), "; ")
	}
	parts = append(parts, fmt.Sprintf("signature %s status=%s run=%s attempt=%d dispatched=%v",
		rec.ID, rec.Status, rec.RunID, rec.Attempt, rec.Dispatched))
	for _, cb := range rec.OnSuccess {
		cr, err := b.flow.Signature(ctx, cb.ID)
		if err != nil {
			parts = append(parts, "callback "+cb.ID+": "+err.Error())
			continue
		}
		parts = append(parts, fmt.Sprintf("callback %s status=%s run=%s", cr.ID, cr.Status, cr.RunID))
		for k, run := range rec.Dispatched {
			if strings.HasSuffix(k, cb.ID) {
				parts = append(parts, "callback engine run "+run+": "+b.engineRun(ctx, run))
			}
		}
	}
	return strings.Join(parts, "; ")
}

func (b *bench) engineRun(ctx context.Context, runID string) string {
	id, err := uuid.Parse(runID)
	if err != nil {
		return err.Error()
	}
	det, err := b.hc.Runs().GetDetails(ctx, id)
	if err != nil {
		return err.Error()
	}
	var tasks []string
	for name, tr := range det.TaskRuns {
		if tr != nil {
			tasks = append(tasks, name+"="+string(tr.Status))
		}
	}
	slices.Sort(tasks)
	return fmt.Sprintf("%s done=%v [%s]", det.Status, det.Done, strings.Join(tasks, " "))
}
