package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/rtcount"
)

// The chain, fan-out and depth phases use one task, "bench-link": it gets the previous
// step's LinkOut and returns it with Step+1, so every user function start and end of a
// run can be put on one time line by (seq, step).
const (
	linkTask      = "bench-link"
	nativeChainWf = "bench-native-chain"
)

// LinkOut is what a link step returns: the run's sequence number and its step index.
type LinkOut struct {
	Seq  int64 `json:"seq"`
	Step int   `json:"step"`
}

// LinkIn is a link step's input: the previous step's return value. The first step of a
// run gets it as the run input, with Step -1.
type LinkIn struct {
	TaskResult inject.ReturnValue[LinkOut] `json:"task_result"`
}

func linkInput(seq int64) map[string]any {
	return map[string]any{"task_result": LinkOut{Seq: seq, Step: -1}}
}

// flowRun is the time line of one multi-step run: user function starts and ends by
// step (a fan-out has many starts at step 1).
type flowRun struct {
	starts map[int][]time.Time
	ends   map[int][]time.Time
	n      int // starts so far
	want   int
	done   chan struct{}
}

// tracker keeps the flowRuns by sequence number.
type tracker struct {
	mu   sync.Mutex
	runs map[int64]*flowRun
}

func newTracker() *tracker { return &tracker{runs: map[int64]*flowRun{}} }

func (t *tracker) expect(seq int64, want int) *flowRun {
	r := &flowRun{starts: map[int][]time.Time{}, ends: map[int][]time.Time{}, want: want, done: make(chan struct{})}
	t.mu.Lock()
	t.runs[seq] = r
	t.mu.Unlock()
	return r
}

func (t *tracker) forget(seq int64) {
	t.mu.Lock()
	delete(t.runs, seq)
	t.mu.Unlock()
}

func (t *tracker) start(seq int64, step int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.runs[seq]
	if r == nil {
		return
	}
	r.starts[step] = append(r.starts[step], at)
	r.n++
	if r.n == r.want {
		close(r.done)
	}
}

func (t *tracker) end(seq int64, step int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.runs[seq]; r != nil {
		r.ends[step] = append(r.ends[step], at)
	}
}

// snapshot copies r's time line under the lock.
func (t *tracker) snapshot(r *flowRun) (starts, ends map[int][]time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	starts, ends = map[int][]time.Time{}, map[int][]time.Time{}
	for k, v := range r.starts {
		starts[k] = slices.Clone(v)
	}
	for k, v := range r.ends {
		ends[k] = slices.Clone(v)
	}
	return starts, ends
}

// addLinkFlows registers the link task on the hatchetflow side and the native
// 20-task DAG.
func (b *bench) addLinkFlows(steps int) error {
	b.links = newTracker()
	var err error
	b.link, err = hatchetflow.NewTask(b.flow, linkTask, func(_ hatchet.Context, in LinkIn) (LinkOut, error) {
		at := time.Now()
		v := in.TaskResult.Value
		out := LinkOut{Seq: v.Seq, Step: v.Step + 1}
		b.links.start(v.Seq, out.Step, at)
		b.links.end(v.Seq, out.Step, time.Now())
		return out, nil
	})
	if err != nil {
		return err
	}
	// Native: steps tasks, each a parent of the next; each reads its parent's output,
	// as a chain step gets the previous step's return value.
	wf := b.hc.NewWorkflow(nativeChainWf)
	var prev *hatchet.Task
	for i := 0; i < steps; i++ {
		i := i
		parent := prev
		fn := func(ctx hatchet.Context, in In) (LinkOut, error) {
			at := time.Now()
			if parent != nil {
				var p LinkOut
				if err := ctx.ParentOutput(parent, &p); err != nil {
					return LinkOut{}, err
				}
				if p.Step != i-1 {
					return LinkOut{}, fmt.Errorf("step %d got parent step %d", i, p.Step)
				}
			}
			b.nativeLinks.start(in.Seq, i, at)
			out := LinkOut{Seq: in.Seq, Step: i}
			b.nativeLinks.end(in.Seq, i, time.Now())
			return out, nil
		}
		var opts []hatchet.TaskOption
		if parent != nil {
			opts = append(opts, hatchet.WithParents(parent))
		}
		prev = wf.NewTask(fmt.Sprintf("s%02d", i), fn, opts...)
	}
	b.nativeLinks = newTracker()
	b.workflows = append(b.workflows, wf)
	b.nativeChain = wf
	return nil
}

// chainSide is one way of running an N-step chain; it returns the run's time line.
type chainSide struct {
	name string
	tr   *tracker
	run  func(ctx context.Context, seq int64) error
}

func (b *bench) chainSides(steps int) []chainSide {
	specs := make([]dsl.Spec, steps)
	for i := range specs {
		specs[i] = dsl.Sign(b.link)
	}
	chain := dsl.Chain(specs...)
	return []chainSide{
		{name: sideOurs, tr: b.links, run: func(ctx context.Context, seq int64) error {
			_, err := chain.Run(ctx, b.flow, linkInput(seq))
			return err
		}},
		{name: sideNative, tr: b.nativeLinks, run: func(ctx context.Context, seq int64) error {
			_, err := waitFor(ctx, time.Minute, func() (*hatchet.WorkflowRunRef, error) {
				return b.nativeChain.RunNoWait(context.WithoutCancel(ctx), In{Seq: seq})
			})
			return err
		}},
	}
}

// chainHops runs one chain of s and returns its per-step hops (step i+1 start minus
// step i end).
func (b *bench) chainHops(ctx context.Context, s chainSide, steps int, timeout time.Duration) ([]time.Duration, error) {
	seq := b.seq.Add(1)
	r := s.tr.expect(seq, steps)
	defer s.tr.forget(seq)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.run(ctx, seq); err != nil {
		return nil, fmt.Errorf("chain %s: %w", s.name, err)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		st, _ := s.tr.snapshot(r)
		return nil, fmt.Errorf("chain %s seq %d: %d of %d steps started within %v", s.name, seq, len(st), steps, timeout)
	}
	starts, ends := s.tr.snapshot(r)
	var hops []time.Duration
	for i := 0; i+1 < steps; i++ {
		if len(ends[i]) != 1 || len(starts[i+1]) != 1 {
			return nil, fmt.Errorf("chain %s seq %d: step %d has %d ends, step %d %d starts", s.name, seq, i, len(ends[i]), i+1, len(starts[i+1]))
		}
		hops = append(hops, starts[i+1][0].Sub(ends[i][0]))
		if s.name != sideOurs {
			continue
		}
		// The step's result is passed on by the trigger call of step i+1 (the
		// trigger call may return a moment after step i+1 started).
		for try := 0; try < 200; try++ {
			if t, ok := b.timing.link(seq, i); ok {
				b.chainSplit.toDispatch = append(b.chainSplit.toDispatch, t.begin.Sub(ends[i][0]))
				b.chainSplit.call = append(b.chainSplit.call, t.end.Sub(t.begin))
				b.chainSplit.after = append(b.chainSplit.after, starts[i+1][0].Sub(t.end))
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return hops, nil
}

// chainResult is the chain phase.
type chainResult struct {
	steps int
	hops  map[string][]time.Duration   // all hops by side
	pairs []map[string][]time.Duration // hops by side, per ABBA pair
	// saveRTT is the Save of the chain; runRTT all round trips of one chain run (its
	// Save, the trigger, every step's start and finish), counted while nothing else
	// ran; calls the engine trigger calls of that run.
	saveRTT, runRTT, calls int64
	failures               int
	split                  hopSplit
}

// hopSplit is our hop split at the trigger call: step end → trigger call start
// (Finish script, chain bookkeeping), the call itself (RunNoWait), call return →
// next step's start (engine).
type hopSplit struct {
	toDispatch, call, after []time.Duration
}

func (c *chainResult) stepRTT() float64 {
	if c == nil || c.steps == 0 {
		return 0
	}
	return float64(c.runRTT-c.saveRTT) / float64(c.steps)
}

func (c *chainResult) ratios() []float64 {
	var out []float64
	for _, p := range c.pairs {
		if n := median(p[sideNative]); n > 0 && len(p[sideOurs]) > 0 {
			out = append(out, float64(median(p[sideOurs]))/float64(n))
		}
	}
	return out
}

// chainPhase runs cfg.chainPairs ABBA pairs of one chain per side, then one counted
// hatchetflow chain alone.
func (b *bench) chainPhase(ctx context.Context, cfg config, counter *rtcount.Counter) (*chainResult, error) {
	steps := cfg.chainSteps
	sides := b.chainSides(steps)
	res := &chainResult{steps: steps, hops: map[string][]time.Duration{}}
	timeout := cfg.runTimeout + time.Duration(steps)*2*time.Second
	progress("chain: %d ABBA pairs of %d-step chains", cfg.chainPairs, steps)
	// One warm-up chain per side.
	for _, s := range sides {
		if _, err := b.chainHops(ctx, s, steps, timeout); err != nil {
			return nil, fmt.Errorf("chain warm-up: %w", err)
		}
	}
	b.chainSplit = hopSplit{}
	for p := 0; p < cfg.chainPairs; p++ {
		order := []chainSide{sides[0], sides[1], sides[1], sides[0]}
		if p%2 == 1 {
			order = []chainSide{sides[1], sides[0], sides[0], sides[1]}
		}
		pair := map[string][]time.Duration{}
		for _, s := range order {
			hops, err := b.chainHops(ctx, s, steps, timeout)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				res.failures++
				progress("chain: %v", err)
				if res.failures > 2 {
					return nil, fmt.Errorf("chain: too many failed runs (%d)", res.failures)
				}
				continue
			}
			pair[s.name] = append(pair[s.name], hops...)
			res.hops[s.name] = append(res.hops[s.name], hops...)
		}
		res.pairs = append(res.pairs, pair)
		progress("chain pair %d/%d: ours median %v, native %v", p+1, cfg.chainPairs,
			median(pair[sideOurs]).Round(100*time.Microsecond), median(pair[sideNative]).Round(100*time.Microsecond))
	}

	// Round trips of one chain, alone: its Save, then a whole run (Save included).
	specs := make([]dsl.Spec, steps)
	for i := range specs {
		specs[i] = dsl.Sign(b.link)
	}
	chain := dsl.Chain(specs...)
	settle(counter, 3*time.Second)
	counter.Reset()
	if _, err := chain.Save(ctx, b.flow); err != nil {
		return nil, fmt.Errorf("chain save: %w", err)
	}
	res.saveRTT = counter.Reset()
	before := b.timing.n.Load()
	seq := b.seq.Add(1)
	r := b.links.expect(seq, steps)
	defer b.links.forget(seq)
	if _, err := chain.Run(ctx, b.flow, linkInput(seq)); err != nil {
		return nil, fmt.Errorf("chain run: %w", err)
	}
	select {
	case <-r.done:
	case <-time.After(timeout):
		return nil, errors.New("chain: the counted run did not finish")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res.runRTT = settle(counter, 3*time.Second)
	res.calls = b.timing.n.Load() - before
	res.split = b.chainSplit
	return res, nil
}

// costPoint is one size of the fan-out or depth curve.
type costPoint struct {
	size int
	// saveRTT and saveBytes: round trips of the Save alone and MEMORY USAGE of every
	// record and kwargs hash it wrote (run's own key prefix).
	saveRTT, saveBytes int64
	// lastStart is the root's user function end to the last callback's start.
	lastStart time.Duration
	// calls is the engine trigger calls of the whole run (the root's trigger
	// included; a batch of callbacks is one call); runRTT its Redis round trips
	// (Save included).
	calls, runRTT int64
}

var (
	fanoutSizes = []int{1, 10, 100, 1000}
	depthSizes  = []int{1, 5, 10, 25, 50}
)

// fanTree is the root with n success callbacks.
func (b *bench) fanTree(n int) dsl.Builder {
	t := dsl.Sign(b.link)
	cbs := make([]dsl.Spec, n)
	for i := range cbs {
		cbs[i] = dsl.Sign(b.link)
	}
	return t.OnSuccess(cbs...)
}

// depthTree is the root with a line of d nested success callbacks.
func (b *bench) depthTree(d int) dsl.Builder {
	t := dsl.Sign(b.link)
	for i := 0; i < d; i++ {
		t = dsl.Sign(b.link).OnSuccess(t)
	}
	return t
}

// savedBytes sums MEMORY USAGE of the record and kwargs hashes of s and its callbacks.
func (b *bench) savedBytes(ctx context.Context, rdb *redis.Client, s dsl.Saved) (int64, error) {
	store := b.store
	var sum int64
	for _, key := range []string{store.SignatureKey(s.ID), store.KwargsKey(s.ID)} {
		n, err := rdb.MemoryUsage(ctx, key, 0).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return 0, err
		}
		sum += n
	}
	for _, cb := range append(slices.Clone(s.OnSuccess), s.OnError...) {
		n, err := b.savedBytes(ctx, rdb, cb)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// costCurve measures one curve: for each size, a counted Save, then a run until
// want(size) user functions started.
func (b *bench) costCurve(ctx context.Context, cfg config, name string, sizes []int, tree func(int) dsl.Builder,
	rdb *redis.Client, counter *rtcount.Counter) ([]costPoint, error) {
	var out []costPoint
	for _, n := range sizes {
		pt := costPoint{size: n}
		settle(counter, 3*time.Second)
		counter.Reset()
		saved, err := tree(n).Save(ctx, b.flow)
		if err != nil {
			return nil, fmt.Errorf("%s %d: save: %w", name, n, err)
		}
		pt.saveRTT = counter.Reset()
		if pt.saveBytes, err = b.savedBytes(ctx, rdb, saved); err != nil {
			return nil, fmt.Errorf("%s %d: memory usage: %w", name, n, err)
		}
		counter.Reset()
		before := b.timing.n.Load()
		seq := b.seq.Add(1)
		r := b.links.expect(seq, n+1)
		timeout := cfg.runTimeout + time.Duration(n)*200*time.Millisecond
		if _, err := tree(n).Run(ctx, b.flow, linkInput(seq)); err != nil {
			b.links.forget(seq)
			return nil, fmt.Errorf("%s %d: run: %w", name, n, err)
		}
		select {
		case <-r.done:
		case <-time.After(timeout):
			st, _ := b.links.snapshot(r)
			b.links.forget(seq)
			return nil, fmt.Errorf("%s %d: only %d steps started within %v", name, n, len(st), timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		starts, ends := b.links.snapshot(r)
		b.links.forget(seq)
		var last time.Time
		for step, ts := range starts {
			if step == 0 {
				continue
			}
			for _, t := range ts {
				if t.After(last) {
					last = t
				}
			}
		}
		if len(ends[0]) == 0 {
			return nil, fmt.Errorf("%s %d: no root end", name, n)
		}
		pt.lastStart = last.Sub(ends[0][0])
		pt.runRTT = settle(counter, 3*time.Second)
		pt.calls = b.timing.n.Load() - before
		progress("%s %d: save %d rtt %d B; root end → last start %v; %d engine calls, %d redis round trips",
			name, n, pt.saveRTT, pt.saveBytes, pt.lastStart.Round(time.Millisecond), pt.calls, pt.runRTT)
		out = append(out, pt)
	}
	return out, nil
}
