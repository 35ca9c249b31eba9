package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/types"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/rtcount"
	"github.com/hatchetflow/go/redisstore"
)

// The swarm bench (issue #12): a swarm of n items at max concurrency c against n plain
// runs of the same task under a Hatchet workflow concurrency limit of c (the task's
// workflow carries the limit on both sides; the swarm never reaches it). Per size it
// reports both wall times, Redis round trips per item (every command of the swarm's
// run, its items' starts and finishes included), the swarm's Redis memory per item
// (its item hash) beside an item signature's, engine calls per item (dispatcher calls,
// a batch counting as one: the swarm's own run and its items' triggers) and both sides'
// items per second. The defaults (-swarm-sizes 2000, -swarm-concurrency 50) are issue
// #23's goal: a 2,000-item swarm at concurrency 50 (swarm2000_items_per_s).

// swarmItemInput is the bench item's input.
type swarmItemInput struct {
	I     int    `json:"i"`
	Round string `json:"round"`
}

// swarmFigures are one size's figures.
type swarmFigures struct {
	items                 int
	swarmWall, nativeWall time.Duration
	rttPerItem            float64
	itemHashBytes         float64 // the swarm's item hash per item
	itemSigBytes          int64   // one item signature (record + kwargs)
	callsPerItem          float64
	order                 string // which side ran first
}

// ratio is swarm time / native time (0 when the native side did not run).
func (f swarmFigures) ratio() float64 {
	if f.nativeWall <= 0 {
		return 0
	}
	return f.swarmWall.Seconds() / f.nativeWall.Seconds()
}

// perSecond is items per second over wall (0 when the side did not run).
func perSecond(items int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(items) / wall.Seconds()
}

// swarmItemsPerSecond is the items per second of hatchetflow's swarm of n items, or 0
// when no swarm of n items was measured.
func swarmItemsPerSecond(figs []swarmFigures, n int) float64 {
	for _, f := range figs {
		if f.items == n {
			return perSecond(f.items, f.swarmWall)
		}
	}
	return 0
}

// countingDispatcher counts the engine calls hatchetflow makes.
type countingDispatcher struct {
	next  engine.Dispatcher
	calls atomic.Int64
}

func (d *countingDispatcher) Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	d.calls.Add(1)
	return d.next.Dispatch(ctx, task, input, meta)
}

// DispatchBatch forwards a batch to the production dispatcher: one engine call.
func (d *countingDispatcher) DispatchBatch(ctx context.Context, runs []engine.Run) ([]string, error) {
	bd, ok := d.next.(engine.BatchDispatcher)
	if !ok {
		return nil, fmt.Errorf("%w: the production dispatcher takes no batches", engine.ErrBatchRefused)
	}
	d.calls.Add(1)
	return bd.DispatchBatch(ctx, runs)
}

type swarmBench struct {
	flow    *hatchetflow.Client
	store   *redisstore.Store // flow's
	hc      *hatchet.Client
	rdb     *redis.Client
	counter *rtcount.Counter
	disp    *countingDispatcher
	prefix  string
	conc    int

	mu     sync.Mutex
	rounds map[string]*round
}

// round counts the completions of one side's runs.
type round struct {
	want int
	got  atomic.Int64
	done chan struct{}
}

func (b *swarmBench) ran(name string) {
	b.mu.Lock()
	r := b.rounds[name]
	b.mu.Unlock()
	if r != nil && int(r.got.Add(1)) == r.want {
		close(r.done)
	}
}

func (b *swarmBench) newRound(name string, n int) *round {
	r := &round{want: n, done: make(chan struct{})}
	b.mu.Lock()
	b.rounds[name] = r
	b.mu.Unlock()
	return r
}

// runSwarmBench measures each size in sizes with its own worker.
//
// It uses a Hatchet client of its own in a namespace of its own: the internal swarm
// workflows of another hatchetflow client (the main bench's, with another key prefix)
// must not take its runs.
func runSwarmBench(ctx context.Context, rdb *redis.Client, counter *rtcount.Counter, prefix string, sizes []int, conc, nativeMax int) ([]swarmFigures, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The production dispatcher's bulk client reads the namespace from the environment
	// too (hatchetflow.WithBulkDispatch), so both are made while it names this one.
	ns := os.Getenv("HATCHET_CLIENT_NAMESPACE")
	os.Setenv("HATCHET_CLIENT_NAMESPACE", ns+"-sw")
	hc, err := hatchet.NewClient()
	if err != nil {
		os.Setenv("HATCHET_CLIENT_NAMESPACE", ns)
		return nil, fmt.Errorf("swarm bench hatchet client: %w", err)
	}
	var base engine.Machinery
	_, err = hatchetflow.New(hc, rdb, engine.Expose(&base))
	os.Setenv("HATCHET_CLIENT_NAMESPACE", ns)
	if err != nil {
		return nil, err
	}
	b := &swarmBench{hc: hc, rdb: rdb, counter: counter, prefix: prefix + "-sw", conc: conc, rounds: map[string]*round{},
		disp: &countingDispatcher{next: base.Dispatcher}}
	var m engine.Machinery
	if b.flow, err = hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(b.prefix), hatchetflow.WithLogger(logger),
		engine.WithDispatcher(b.disp), engine.Expose(&m)); err != nil {
		return nil, err
	}
	b.store = m.Store
	limit := int32(conc)
	strategy := types.GroupRoundRobin
	if _, err := hatchetflow.NewTask(b.flow, "swarm-item", func(_ hatchet.Context, in swarmItemInput) (int, error) {
		b.ran(in.Round)
		return in.I, nil
	}, hatchetflow.WithHatchetWorkflowOptions(hatchet.WithWorkflowConcurrency(types.Concurrency{
		Expression: "'all'", MaxRuns: &limit, LimitStrategy: &strategy}))); err != nil {
		return nil, err
	}
	wlog := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("service", "worker").Logger()
	w, err := waitFor(ctx, 60*time.Second, func() (*hatchet.Worker, error) {
		return b.flow.NewWorker(ctx, "hfbench-swarm", &hatchetflow.WorkerOptions{
			Options: []hatchet.WorkerOption{hatchet.WithSlots(2*conc + 20), hatchet.WithLogger(&wlog)}})
	})
	if err != nil {
		return nil, fmt.Errorf("swarm worker: %w", err)
	}
	stop, err := waitFor(ctx, 60*time.Second, w.Start)
	if err != nil {
		return nil, fmt.Errorf("start swarm worker: %w", err)
	}
	defer func() {
		_, _ = waitFor(context.Background(), 20*time.Second, func() (struct{}, error) { return struct{}{}, stop() })
		cleanupKeys(rdb, b.prefix)
	}()
	// Warm up both paths.
	if _, err := b.native(ctx, "warm-n", 20); err != nil {
		return nil, err
	}
	if _, err := b.swarm(ctx, "warm-s", 20); err != nil {
		return nil, err
	}
	var out []swarmFigures
	for i, n := range sizes {
		f := swarmFigures{items: n}
		nativeSide := func() (err error) { f.nativeWall, err = b.native(ctx, fmt.Sprintf("n%d", n), n); return err }
		swarmSide := func() (err error) {
			var sf swarmFigures
			sf, err = b.swarm(ctx, fmt.Sprintf("s%d", n), n)
			f.swarmWall, f.rttPerItem, f.itemHashBytes, f.itemSigBytes, f.callsPerItem =
				sf.swarmWall, sf.rttPerItem, sf.itemHashBytes, sf.itemSigBytes, sf.callsPerItem
			return err
		}
		// Alternate which side runs first, so neither always meets the bigger database.
		sides, order := []func() error{nativeSide, swarmSide}, "native first"
		if i%2 == 1 {
			sides, order = []func() error{swarmSide, nativeSide}, "swarm first"
		}
		if n > nativeMax { // the native side is the slow one: skip it above the bound
			sides, order = []func() error{swarmSide}, "swarm only"
		}
		f.order = order
		for _, side := range sides {
			if err := side(); err != nil {
				return out, err
			}
		}
		progress("swarm %d items: swarm %v (%.1f items/s), native %v (%.1f items/s), ratio %.2f, %.2f rtt/item, %.0f B/item, %.3f engine calls/item",
			n, f.swarmWall.Round(time.Millisecond), perSecond(n, f.swarmWall), f.nativeWall.Round(time.Millisecond),
			perSecond(n, f.nativeWall), f.ratio(), f.rttPerItem, f.itemHashBytes, f.callsPerItem)
		out = append(out, f)
	}
	return out, nil
}

// native triggers n plain runs of the task (no signature: user code only) from 32
// goroutines and waits until every one ran.
func (b *swarmBench) native(ctx context.Context, name string, n int) (time.Duration, error) {
	r := b.newRound(name, n)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, err := b.hc.RunNoWait(ctx, "swarm-item", swarmItemInput{I: i, Round: name}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("native trigger: %w", err)
	}
	select {
	case <-r.done:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("native %s: %d of %d ran: %w", name, r.got.Load(), n, ctx.Err())
	}
}

// swarm runs a swarm of n items and waits until it is done and every item ran.
func (b *swarmBench) swarm(ctx context.Context, name string, n int) (swarmFigures, error) {
	items := make([]dsl.Spec, n)
	for i := range items {
		items[i] = dsl.Sign("swarm-item").With(dsl.KW{"i": i})
	}
	r := b.newRound(name, n)
	b.counter.Reset()
	calls := b.disp.calls.Load()
	start := time.Now()
	h, err := dsl.Swarm(items...).MaxConcurrency(b.conc).Run(ctx, b.flow, map[string]any{"round": name})
	if err != nil {
		return swarmFigures{}, fmt.Errorf("swarm run: %w", err)
	}
	if _, err := h.Wait(ctx); err != nil {
		return swarmFigures{}, fmt.Errorf("swarm %s: %w", name, err)
	}
	wall := time.Since(start)
	select {
	case <-r.done:
	case <-ctx.Done():
		return swarmFigures{}, ctx.Err()
	}
	rtt := settle(b.counter, 3*time.Second)
	f := swarmFigures{items: n, swarmWall: wall, rttPerItem: float64(rtt) / float64(n),
		callsPerItem: float64(b.disp.calls.Load()-calls) / float64(n)}
	st := b.store
	if bytes, err := b.rdb.MemoryUsage(ctx, st.SwarmItemsKey(h.SignatureID()), 0).Result(); err == nil {
		f.itemHashBytes = float64(bytes) / float64(n)
	}
	if sw, err := b.flow.Swarm(ctx, h.SignatureID()); err == nil && len(sw.Items) > 0 {
		id := sw.Items[0].ID
		rec, _ := b.rdb.MemoryUsage(ctx, st.SignatureKey(id), 0).Result()
		kw, _ := b.rdb.MemoryUsage(ctx, st.KwargsKey(id), 0).Result()
		f.itemSigBytes = rec + kw
	}
	return f, nil
}

// printSwarm writes the swarm table.
func printSwarm(out io.Writer, figs []swarmFigures, conc int) {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "swarm vs plain runs under a concurrency limit, max concurrency %d\titems\tswarm s\tnative s\tratio\tswarm items/s\tnative items/s\trtt/item\tswarm B/item\titem sig B\tengine calls/item\torder\n", conc)
	for _, f := range figs {
		nativeS, ratio, nativeRate := "—", "—", "—" // the native side did not run (-swarm-native-max)
		if f.nativeWall > 0 {
			nativeS, ratio = fmt.Sprintf("%.1f", f.nativeWall.Seconds()), fmt.Sprintf("%.2f", f.ratio())
			nativeRate = fmt.Sprintf("%.1f", perSecond(f.items, f.nativeWall))
		}
		fmt.Fprintf(w, "\t%d\t%.1f\t%s\t%s\t%.1f\t%s\t%.2f\t%.0f\t%d\t%.3f\t%s\n", f.items, f.swarmWall.Seconds(), nativeS,
			ratio, perSecond(f.items, f.swarmWall), nativeRate, f.rttPerItem, f.itemHashBytes, f.itemSigBytes, f.callsPerItem, f.order)
	}
	w.Flush()
	fmt.Fprintln(out)
}

// swarmFields is the swarm part of the last line: the largest size's figures.
func swarmFields(figs []swarmFigures) string {
	if len(figs) == 0 {
		return ""
	}
	f := figs[len(figs)-1]
	ratio := 0.0 // the largest size with both sides measured
	for _, g := range figs {
		if g.nativeWall > 0 {
			ratio = g.ratio()
		}
	}
	return fmt.Sprintf("swarm_time_ratio=%.2f swarm_item_rtt=%.2f swarm_item_bytes=%.0f", ratio, f.rttPerItem, f.itemHashBytes)
}

// parseSizes parses "100,1000,10000".
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("swarm size %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}
