// Command hfbench measures hatchetflow against hand-written Hatchet on one local engine,
// in one process, in ABBA pairs of short rounds (ours, native, fair, trigger, trigger,
// fair, native, ours), each comparison reported as the median of its per-pair ratios:
//
//   - callback hop: a signature run with one success callback vs a native two-task DAG,
//     vs the fair comparator (a task with an on-failure step that triggers the next with
//     RunNoWait) and vs the lean reference "trigger" (the same without on-failure steps:
//     hatchetflow's default engine shape without Redis and hatchetflow's code); the hop
//     is callback/child user function start minus parent user function end, both taken
//     in this process;
//   - throughput: the same sides with bounded concurrency;
//   - a 20-step dsl.Chain vs a 20-task native DAG: per-step hop and Redis round trips;
//   - cost curves: fan-out of 1 to 1,000 success callbacks and depth 1 to 50 (Save round
//     trips and bytes, time to the last callback, engine calls: a Dispatch or a
//     DispatchBatch is one call), plus a reference of N RunNoWait calls vs one
//     BulkTriggerWorkflow call;
//   - Redis round trips per operation (save with 0, 2 and 10 callbacks, task start,
//     finish plus dispatch markers) with the go-redis hook in internal/rtcount, and
//     MEMORY USAGE of a typical saved signature;
//   - swarms (2,000 items at max concurrency 50 by default) against plain runs under a
//     Hatchet concurrency limit.
//
// It writes PNG plots into -plots (docs), prints tables on stdout and, as its last line:
//
//	hop_ratio=X throughput_ratio=X save_rtt=N start_rtt=N finish_rtt=N sig_bytes=N fair_throughput_ratio=X fair_hop_ratio=X lean_hop_ratio=X lean_throughput_ratio=X fanout1000_ms=N fanout1000_calls=N chain_hop_ratio=X chain_step_rtt=N swarm2000_items_per_s=X
//
// followed, when the swarm bench ran, by swarm_time_ratio=X swarm_item_rtt=X
// swarm_item_bytes=N. A figure whose phase did not run is 0.
//
// Progress goes to stderr. It needs the local stack (`scripts/stack up`, then
// `set -a; . .state/env; set +a`): HATCHET_CLIENT_TOKEN and friends, and REDIS_URL; the
// database size comes from DATABASE_URL or .state/run/engine.db (under
// HATCHETFLOW_STATE_DIR when set). `make bench` (scripts/bench-all) runs it on an engine
// on the RabbitMQ queue, then on one on the PostgreSQL queue. See docs/benchmarks.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/await"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/rtcount"
)

type config struct {
	pairs          int
	hopRoundRuns   int
	tpPairs        int
	tpRoundRuns    int
	chainPairs     int
	chainSteps     int
	plots          string
	warmup         int
	concurrency    int
	slots          int
	runTimeout     time.Duration
	timeout        time.Duration
	cpuProfile     string
	skipEngine     bool
	explain        bool
	batch          bool
	swarmSizes     string
	swarmConc      int
	swarmOnly      bool
	swarmNativeMax int
}

func main() {
	var cfg config
	flag.IntVar(&cfg.pairs, "pairs", 14, "ABBA pairs of rounds in the hop phase")
	flag.IntVar(&cfg.hopRoundRuns, "hop-round-runs", 20, "hop runs per side per round (one at a time)")
	flag.IntVar(&cfg.tpPairs, "throughput-pairs", 10, "ABBA pairs of rounds in the throughput phase")
	flag.IntVar(&cfg.tpRoundRuns, "throughput-round-runs", 80, "runs per side per throughput round")
	flag.IntVar(&cfg.chainPairs, "chain-pairs", 16, "ABBA pairs of chains (one chain per side per round)")
	flag.IntVar(&cfg.chainSteps, "chain-steps", 20, "steps of the chain and of the native DAG")
	flag.StringVar(&cfg.plots, "plots", "docs", "directory for the PNG plots (empty: none)")
	flag.IntVar(&cfg.warmup, "warmup", 10, "warm-up runs per side before the hop series")
	flag.IntVar(&cfg.concurrency, "concurrency", 25, "runs in flight during the throughput phase")
	flag.IntVar(&cfg.slots, "slots", 200, "worker slots (hatchet.WithSlots)")
	flag.DurationVar(&cfg.runTimeout, "run-timeout", 30*time.Second, "give up on one run after this long")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "give up on the whole benchmark after this long")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the engine phases to this file")
	flag.BoolVar(&cfg.explain, "explain", false, "also run the reference side trigger+skip (the lean trigger side plus an on-failure step and an always-skipped follow-up step on each workflow; see docs/benchmarks.md)")
	flag.BoolVar(&cfg.batch, "batch", true, "also measure N RunNoWait calls against one BulkTriggerWorkflow call for N runs (implied by -explain)")
	flag.BoolVar(&cfg.skipEngine, "redis-only", false, "measure only Redis round trips and memory (no engine phases)")
	flag.StringVar(&cfg.swarmSizes, "swarm-sizes", "2000", "swarm bench sizes (items), comma-separated, e.g. 100,2000,10000; empty skips it (swarm2000_items_per_s needs 2000)")
	flag.IntVar(&cfg.swarmConc, "swarm-concurrency", 50, "swarm max concurrency and the native side's Hatchet concurrency limit")
	flag.BoolVar(&cfg.swarmOnly, "swarm-only", false, "run only the swarm bench")
	flag.IntVar(&cfg.swarmNativeMax, "swarm-native-max", 10000, "largest swarm size whose native side (plain runs under the concurrency limit) is measured too; above it only the swarm runs")
	flag.Parse()
	cfg.batch = cfg.batch || cfg.explain
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "hfbench:", err)
		os.Exit(1)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[hfbench %s] %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func run(cfg config) error {
	began := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	url := os.Getenv("REDIS_URL")
	if url == "" {
		return errors.New("REDIS_URL is not set: run `scripts/stack up` and `set -a; . .state/env; set +a`")
	}
	if os.Getenv("HATCHET_CLIENT_TOKEN") == "" {
		return errors.New("HATCHET_CLIENT_TOKEN is not set: run `scripts/stack up` and `set -a; . .state/env; set +a`")
	}
	setDefaultEnv("HATCHET_CLIENT_TLS_STRATEGY", "none") // the local engine is plaintext
	setDefaultEnv("HATCHET_CLIENT_LOG_LEVEL", "warn")
	ns := "hfbench-" + randHex(3)
	os.Setenv("HATCHET_CLIENT_NAMESPACE", ns) // a fresh namespace: no other run's workflows

	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.PoolSize = max(opt.PoolSize, 4*cfg.concurrency)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	counter := &rtcount.Counter{}
	rdb.AddHook(counter)
	prefix := ns // every key of this run starts with it; removed at the end
	defer cleanupKeys(rdb, prefix)

	hc, err := hatchet.NewClient()
	if err != nil {
		return fmt.Errorf("hatchet client: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The production dispatcher, wrapped to time each callback trigger (diagnostics
	// only: it forwards every call unchanged).
	var base engine.Machinery
	_, err = hatchetflow.New(hc, rdb, engine.Expose(&base))
	if err != nil {
		return err
	}
	timing := &timingDispatcher{next: base.Dispatcher, calls: map[string]dispatchTiming{}, links: map[linkKey]dispatchTiming{}}
	var m engine.Machinery
	flow, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix),
		hatchetflow.WithLogger(logger), engine.WithDispatcher(timing), engine.Expose(&m))
	if err != nil {
		return err
	}
	b, err := newBench(flow, hc, cfg.explain, cfg.batch, cfg.chainSteps)
	if err != nil {
		return err
	}
	b.store = m.Store
	b.timing = timing
	progress("namespace %s, redis %s, GOMAXPROCS %d, NumCPU %d", ns, opt.Addr, runtime.GOMAXPROCS(0), runtime.NumCPU())

	// Redis first, while nothing else uses the client the counter is on.
	if err := flow.RegisterTasks(ctx); err != nil {
		return fmt.Errorf("register tasks: %w", err)
	}
	rr, err := measureRedis(ctx, b, rdb, counter, prefix)
	if err != nil {
		return err
	}
	progress("redis: save %v rtt, start %d, finish+mark %d, signature %d+%d bytes",
		rr.save, rr.start, rr.finish, rr.sigBytes, rr.kwBytes)

	res := &results{redis: rr, cfg: cfg}
	sizes, err := parseSizes(cfg.swarmSizes)
	if err != nil {
		return err
	}
	if cfg.swarmOnly {
		figs, err := runSwarmBench(ctx, rdb, counter, prefix, sizes, cfg.swarmConc, cfg.swarmNativeMax)
		if err != nil {
			return err
		}
		printSwarm(os.Stdout, figs, cfg.swarmConc)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("swarm2000_items_per_s=%.1f %s", swarmItemsPerSecond(figs, 2000), swarmFields(figs))))
		return nil
	}
	for _, s := range b.sides {
		res.sides = append(res.sides, s.name)
	}
	if !cfg.skipEngine {
		if cfg.cpuProfile != "" {
			f, err := os.Create(cfg.cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		wlog := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("service", "worker").Logger()
		w, err := waitFor(ctx, 60*time.Second, func() (*hatchet.Worker, error) {
			return flow.NewWorker(ctx, "hfbench", &hatchetflow.WorkerOptions{
				Workflows: b.workflows,
				Options:   []hatchet.WorkerOption{hatchet.WithSlots(cfg.slots), hatchet.WithLogger(&wlog)},
			})
		})
		if err != nil {
			return fmt.Errorf("new worker: %w", err)
		}
		stopWorker, err := waitFor(ctx, 60*time.Second, w.Start)
		if err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		defer func() {
			_, _ = waitFor(context.Background(), 20*time.Second, func() (struct{}, error) { return struct{}{}, stopWorker() })
		}()
		progress("worker started with %d slots", cfg.slots)

		if err := b.warmUp(ctx, cfg); err != nil {
			return err
		}
		db0 := dbSize(ctx)
		if res.hop, err = b.hopSeries(ctx, cfg); err != nil {
			return err
		}
		res.hop.dbBefore, res.hop.dbAfter = db0, dbSize(ctx)
		res.dbStart = db0
		if res.chain, err = b.chainPhase(ctx, cfg, counter); err != nil {
			return err
		}
		progress("fan-out: %v success callbacks", fanoutSizes)
		if res.fanout, err = b.costCurve(ctx, cfg, "fan-out", fanoutSizes, b.fanTree, rdb, counter); err != nil {
			return err
		}
		progress("depth: %v nested success callbacks", depthSizes)
		if res.depth, err = b.costCurve(ctx, cfg, "depth", depthSizes, b.depthTree, rdb, counter); err != nil {
			return err
		}
		if cfg.batch {
			progress("batch reference: %v runs", fanoutSizes)
			if res.batch, err = b.batchPhase(ctx, cfg); err != nil {
				return err
			}
		}
		// Throughput last: it grows the engine's database the most, and the engine
		// slows down as it grows (see docs/benchmarks.md).
		dbTP := dbSize(ctx)
		counter.Reset()
		if res.tp, err = b.throughput(ctx, cfg); err != nil {
			return err
		}
		// Let the callbacks' own main steps finish their Redis writes, then count.
		res.e2eRTT = settle(counter, 3*time.Second)
		res.tp.dbBefore, res.tp.dbAfter = dbTP, dbSize(ctx)
		res.dbEnd = dbSize(ctx)
		if cfg.plots != "" {
			files, err := res.plot(cfg.plots)
			if err != nil {
				return fmt.Errorf("plots: %w", err)
			}
			progress("plots: %v", files)
		}
		if len(sizes) > 0 { // last: it grows the database most
			if res.swarm, err = runSwarmBench(ctx, rdb, counter, prefix, sizes, cfg.swarmConc, cfg.swarmNativeMax); err != nil {
				return err
			}
		}
	}
	res.elapsed = time.Since(began)
	res.print(os.Stdout)
	return nil
}

// settle waits until the counter stops moving (or max passes) and returns its value.
func settle(c *rtcount.Counter, maxWait time.Duration) int64 {
	deadline := time.Now().Add(maxWait)
	last := c.N()
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		n := c.N()
		if n == last {
			return n
		}
		last = n
	}
	return last
}

func setDefaultEnv(k, v string) {
	if os.Getenv(k) == "" {
		os.Setenv(k, v)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitFor runs fn (an SDK call that ignores contexts) and gives up after d or when
// ctx ends.
func waitFor[T any](ctx context.Context, d time.Duration, fn func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return await.Do(ctx, fn)
}

// cleanupKeys removes every key of this run from the shared Redis.
func cleanupKeys(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}
