// Command worker is the fault suite's child worker: it registers the suite's tasks on a
// hatchetflow client and runs them until SIGTERM (graceful) or SIGKILL (the point). It
// prints "ready" on stdout once it is registered with the engine.
//
// The Hatchet connection comes from the HATCHET_CLIENT_* environment the test passes
// down (including the test's namespace). Signatures live on -redis; execution counters
// on -count-redis, so they survive when a test takes -redis away.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/faultsuite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		redisURL  = flag.String("redis", os.Getenv("REDIS_URL"), "Redis for signatures")
		countURL  = flag.String("count-redis", "", "Redis for execution counters (default -redis)")
		prefix    = flag.String("prefix", "", "key prefix (required)")
		name      = flag.String("name", "fs-worker", "worker name")
		mode      = flag.String("mode", faultsuite.ModeNormal, "dispatcher mode")
		failTimes = flag.Int("fail-times", 1, "lose-ack: failed reports per callback")
		stepRetry = flag.Duration("step-retry", 45*time.Second, "hatchetflow.WithStepRetryTime")
		slots     = flag.Int("slots", 100, "worker slots")
		activeTTL = flag.Duration("active-ttl", 0, "hatchetflow.WithActiveTTL (0: default)")
		logLevel  = flag.String("log", "info", "hatchetflow log level")
		watch     = flag.Duration("swarm-watch", time.Second, "hatchetflow.WithSwarmWatchInterval")
		onFailure = flag.Bool("on-failure-step", false, "hatchetflow.WithOnFailureStep on every task")
		batch     = flag.Bool("batch", true, "batched dispatch (the production default); false: one engine call per run")
		acks      = flag.Int("replica-acks", 0, "hatchetflow.WithReplicaAcks replicas (0: off)")
		ackWait   = flag.Duration("replica-ack-timeout", 500*time.Millisecond, "hatchetflow.WithReplicaAcks timeout")
	)
	flag.Parse()
	if *prefix == "" || *redisURL == "" {
		return errors.New("-prefix and -redis are required")
	}
	if *countURL == "" {
		*countURL = *redisURL
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(*logLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})).With("worker", *name)

	rdb, err := newRedis(*redisURL)
	if err != nil {
		return err
	}
	crdb, err := newRedis(*countURL)
	if err != nil {
		return err
	}
	hc, err := hatchet.NewClient()
	if err != nil {
		return err
	}
	opts := []hatchetflow.Option{hatchetflow.WithKeyPrefix(*prefix), hatchetflow.WithLogger(log),
		hatchetflow.WithStepRetryTime(*stepRetry), hatchetflow.WithSwarmWatchInterval(*watch)}
	if *acks > 0 {
		opts = append(opts, hatchetflow.WithReplicaAcks(*acks, *ackWait))
	}
	if *activeTTL > 0 {
		opts = append(opts, hatchetflow.WithActiveTTL(*activeTTL))
	}
	// Every mode wraps the production dispatcher (normal mode only counts triggers).
	var plain engine.Machinery
	_, err = hatchetflow.New(hc, rdb, engine.Expose(&plain))
	if err != nil {
		return err
	}
	fd := &faultDispatcher{inner: plain.Dispatcher, mode: *mode, failTimes: *failTimes,
		rdb: crdb, prefix: *prefix, worker: *name, log: log}
	if _, ok := plain.Dispatcher.(engine.BatchDispatcher); ok && *batch {
		opts = append(opts, engine.WithDispatcher(&batchFaultDispatcher{fd}))
	} else {
		opts = append(opts, engine.WithDispatcher(fd))
	}
	c, err := hatchetflow.New(hc, rdb, opts...)
	if err != nil {
		return err
	}
	count := func(ctx context.Context, task, field string) error {
		// The counter must not be lost to a cancelled attempt: use a context of its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := faultsuite.Count(cctx, crdb, *prefix, task, field, *name); err != nil {
			log.Error("count failed", "task", task, "field", field, "error", err)
			return err
		}
		return nil
	}
	mainFn := func(task string) func(hatchet.Context, faultsuite.MainIn) (faultsuite.MainOut, error) {
		return func(ctx hatchet.Context, in faultsuite.MainIn) (faultsuite.MainOut, error) {
			if err := count(ctx, task, in.ID); err != nil {
				return faultsuite.MainOut{}, err
			}
			log.Info("main running", "task", task, "id", in.ID, "attempt", ctx.RetryCount())
			if in.Block && ctx.RetryCount() == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Minute):
				}
				return faultsuite.MainOut{}, errors.New("blocked until the end")
			}
			if in.SleepMS > 0 {
				time.Sleep(time.Duration(in.SleepMS) * time.Millisecond)
			}
			if in.Fail {
				return faultsuite.MainOut{}, fmt.Errorf("injected failure of %s", in.ID)
			}
			return faultsuite.MainOut{ID: in.ID, Value: len(in.ID)}, nil
		}
	}
	// shape gives every task an on-failure step with -on-failure-step.
	shape := func(opts ...hatchetflow.TaskOption) []hatchetflow.TaskOption {
		if *onFailure {
			opts = append(opts, hatchetflow.WithOnFailureStep())
		}
		return opts
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskMain, mainFn(faultsuite.TaskMain),
		shape(hatchetflow.WithExecutionTimeout(faultsuite.MainTimeout))...); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskMainRetry, mainFn(faultsuite.TaskMainRetry),
		shape(hatchetflow.WithExecutionTimeout(faultsuite.MainTimeout), hatchetflow.WithRetries(1))...); err != nil {
		return err
	}
	stepFn := func(task string) func(hatchet.Context, faultsuite.StepIn) (faultsuite.MainOut, error) {
		return func(ctx hatchet.Context, in faultsuite.StepIn) (faultsuite.MainOut, error) {
			if err := count(ctx, task, in.ID); err != nil {
				return faultsuite.MainOut{}, err
			}
			log.Info("step running", "task", task, "id", in.ID, "attempt", ctx.RetryCount())
			if in.Block && ctx.RetryCount() == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(2 * time.Minute):
				}
				return faultsuite.MainOut{}, errors.New("blocked until the end")
			}
			return faultsuite.MainOut{ID: in.ID, Value: in.Prev.Value.Value + 1}, nil
		}
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskStep, stepFn(faultsuite.TaskStep),
		shape(hatchetflow.WithExecutionTimeout(faultsuite.MainTimeout))...); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskStepRetry, stepFn(faultsuite.TaskStepRetry),
		shape(hatchetflow.WithExecutionTimeout(faultsuite.MainTimeout), hatchetflow.WithRetries(1))...); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskOnSuccess, func(ctx hatchet.Context, in faultsuite.SuccessIn) (string, error) {
		return "ok", count(ctx, faultsuite.TaskOnSuccess, in.Result.Value.ID+"/"+in.Tag)
	}, shape()...); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskOnError, func(ctx hatchet.Context, in faultsuite.ErrorIn) (string, error) {
		return "noted", count(ctx, faultsuite.TaskOnError, in.ID+"/"+in.Tag)
	}, shape()...); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskOnErrorAny, func(ctx hatchet.Context, in map[string]any) (string, error) {
		return "noted", count(ctx, faultsuite.TaskOnErrorAny, fmt.Sprint(in["id"])+"/"+fmt.Sprint(in["tag"]))
	}, shape()...); err != nil {
		return err
	}

	// A swarm's success callback: it counts "<tag>/<item ids in result order>", a
	// failed item's null result as "-".
	if _, err := hatchetflow.NewTask(c, TaskSwarmDone, func(ctx hatchet.Context, in SwarmDoneIn) (string, error) {
		ids := make([]string, len(in.Results.Value))
		for i, r := range in.Results.Value {
			ids[i] = "-"
			if r != nil {
				ids[i] = r.ID
			}
		}
		return "ok", count(ctx, TaskSwarmDone, in.Tag+"/"+strings.Join(ids, ","))
	}, shape()...); err != nil {
		return err
	}

	// A workflow of two tasks, signed through RegisterWorkflow (a crash scenario kills
	// the worker that ran its last task inside hatchetflow's end task).
	dag := hc.NewWorkflow(faultsuite.TaskDAG)
	first := dag.NewTask(faultsuite.TaskDAGFirst, func(ctx hatchet.Context, in faultsuite.MainIn) (faultsuite.MainOut, error) {
		return faultsuite.MainOut{ID: in.ID, Value: 1}, count(ctx, faultsuite.TaskDAGFirst, in.ID)
	}, hatchet.WithExecutionTimeout(faultsuite.MainTimeout))
	dag.NewTask(faultsuite.TaskDAGLast, func(ctx hatchet.Context, in faultsuite.MainIn) (faultsuite.MainOut, error) {
		var prev faultsuite.MainOut
		if err := ctx.ParentOutput(first, &prev); err != nil {
			return faultsuite.MainOut{}, err
		}
		if err := count(ctx, faultsuite.TaskDAGLast, in.ID); err != nil {
			return faultsuite.MainOut{}, err
		}
		return faultsuite.MainOut{ID: in.ID, Value: prev.Value + 1}, nil
	}, hatchet.WithParents(first), hatchet.WithExecutionTimeout(faultsuite.MainTimeout))
	if _, err := hatchetflow.RegisterWorkflow[faultsuite.MainIn, faultsuite.DAGResult](c, dag); err != nil {
		return err
	}
	if _, err := hatchetflow.NewTask(c, faultsuite.TaskDAGDone, func(ctx hatchet.Context, in faultsuite.DAGDoneIn) (string, error) {
		id := "-"
		if in.Result.Value.Last != nil {
			id = fmt.Sprintf("%s:%d", in.Result.Value.Last.ID, in.Result.Value.Last.Value)
		}
		return "ok", count(ctx, faultsuite.TaskDAGDone, id+"/"+in.Tag)
	}, shape()...); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	zl := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Str("worker", *name).Logger()
	w, err := c.NewWorker(ctx, *name, &hatchetflow.WorkerOptions{Options: []hatchet.WorkerOption{
		hatchet.WithSlots(*slots), hatchet.WithLogger(&zl)}})
	if err != nil {
		return err
	}
	cleanup, err := w.Start()
	if err != nil {
		return err
	}
	fmt.Println("ready")
	log.Info("worker ready", "mode", *mode, "pid", os.Getpid())
	<-ctx.Done()
	log.Info("worker stopping")
	err = cleanup() // no new runs
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	drainStart := time.Now()
	if derr := c.Drain(dctx); derr != nil {
		log.Warn("drain incomplete", "error", derr)
	}
	log.Info("worker drained", "in", time.Since(drainStart).Round(time.Millisecond))
	return err
}

// TaskSwarmDone is the swarm success callback the worker registers (the fault suite's
// swarm scenarios name it too).
const TaskSwarmDone = "fs-swarm-done"

// SwarmDoneIn is the input of TaskSwarmDone: the swarm's results, one per item.
type SwarmDoneIn struct {
	Results inject.ReturnValue[[]*faultsuite.MainOut] `json:"results"`
	Tag     string                                    `json:"tag"`
}

func newRedis(url string) (*redis.Client, error) { return faultsuite.NewRedis(url) }

// faultDispatcher wraps the production dispatcher and injects faults into callback
// dispatches (those whose metadata names a parent signature).
type faultDispatcher struct {
	inner     engine.Dispatcher
	mode      string
	failTimes int
	rdb       *redis.Client
	prefix    string
	worker    string
	log       *slog.Logger
	mu        sync.Mutex
}

func (d *faultDispatcher) Dispatch(ctx context.Context, task string, input map[string]any, meta map[string]string) (string, error) {
	cb := meta[engine.MetaSignature]
	if meta[engine.MetaParent] == "" {
		return d.inner.Dispatch(ctx, task, input, meta)
	}
	if d.mode == faultsuite.ModeCrashBefore {
		d.die("before dispatching", cb)
	}
	runID, err := d.inner.Dispatch(ctx, task, input, meta)
	if err != nil {
		return "", err
	}
	bg := context.WithoutCancel(ctx)
	if err := faultsuite.Count(bg, d.rdb, d.prefix, faultsuite.Dispatches, cb, d.worker); err != nil {
		d.log.Error("count dispatch failed", "error", err)
	}
	switch d.mode {
	case faultsuite.ModeCrashAfter:
		d.die("after dispatching", cb)
	case faultsuite.ModeLoseAck:
		if n, lost := d.loseAck(bg, cb); lost {
			d.log.Warn("fault: trigger sent, reporting failure", "callback", cb, "run", runID, "n", n)
			return "", fmt.Errorf("injected: trigger of %s sent but reported lost (%d/%d)", cb, n, d.failTimes)
		}
	}
	return runID, nil
}

// loseAck counts one more trigger of callback cb and reports whether its
// acknowledgement is to be lost (the first failTimes ones are).
func (d *faultDispatcher) loseAck(ctx context.Context, cb string) (int64, bool) {
	key := d.prefix + ":faults:" + cb
	var n *redis.IntCmd
	_, err := d.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.Incr(ctx, key)
		p.PExpire(ctx, key, faultsuite.CounterTTL)
		return nil
	})
	return n.Val(), err == nil && n.Val() <= int64(d.failTimes)
}

// batchFaultDispatcher is the fault dispatcher of a worker with batched dispatch (the
// production default): the faults apply to a batch of callback triggers as to one
// trigger. A lost acknowledgement is an error whose outcome is unknown (not
// engine.ErrBatchRefused), so the lifecycle asks the engine's run list which runs
// exist before it triggers any again.
type batchFaultDispatcher struct{ *faultDispatcher }

var (
	_ engine.BatchDispatcher = (*batchFaultDispatcher)(nil)
	_ engine.RunFinder       = (*faultDispatcher)(nil)
)

// DispatchBatch implements engine.BatchDispatcher through the production dispatcher.
func (d *batchFaultDispatcher) DispatchBatch(ctx context.Context, runs []engine.Run) ([]string, error) {
	var cbs []string
	for _, r := range runs {
		if r.Meta[engine.MetaParent] != "" {
			cbs = append(cbs, r.Meta[engine.MetaSignature])
		}
	}
	if len(cbs) > 0 && d.mode == faultsuite.ModeCrashBefore {
		d.die("before dispatching a batch", cbs[0])
	}
	ids, err := d.inner.(engine.BatchDispatcher).DispatchBatch(ctx, runs)
	if err != nil || len(cbs) == 0 {
		return ids, err
	}
	bg := context.WithoutCancel(ctx)
	for _, cb := range cbs {
		if err := faultsuite.Count(bg, d.rdb, d.prefix, faultsuite.Dispatches, cb, d.worker); err != nil {
			d.log.Error("count dispatch failed", "error", err)
		}
	}
	switch d.mode {
	case faultsuite.ModeCrashAfter:
		d.die("after dispatching a batch", cbs[0])
	case faultsuite.ModeLoseAck:
		lost := false
		for _, cb := range cbs {
			if _, l := d.loseAck(bg, cb); l {
				lost = true
			}
		}
		if lost {
			d.log.Warn("fault: batch sent, reporting it lost", "runs", len(runs))
			return nil, fmt.Errorf("injected: batch of %d triggers sent but reported lost", len(runs))
		}
	}
	return ids, nil
}

// RunsOf implements engine.RunFinder through the production dispatcher.
func (d *faultDispatcher) RunsOf(ctx context.Context, since time.Time, parent string) (map[string]string, error) {
	return d.inner.(engine.RunFinder).RunsOf(ctx, since, parent)
}

// The production dispatcher's other abilities pass through unchanged, so the worker's
// reconciler, waits and cancels behave as in production.
var (
	_ engine.RunLister      = (*faultDispatcher)(nil)
	_ engine.RunChecker     = (*faultDispatcher)(nil)
	_ engine.Waiter         = (*faultDispatcher)(nil)
	_ engine.Canceller      = (*faultDispatcher)(nil)
	_ engine.RunInputReader = (*faultDispatcher)(nil)
)

// EndedRuns implements engine.RunLister through the production dispatcher.
func (d *faultDispatcher) EndedRuns(ctx context.Context, q engine.RunQuery) ([]engine.EndedRun, error) {
	return d.inner.(engine.RunLister).EndedRuns(ctx, q)
}

// RunStatus implements engine.RunChecker through the production dispatcher.
func (d *faultDispatcher) RunStatus(ctx context.Context, runID string) (engine.RunStatus, error) {
	return d.inner.(engine.RunChecker).RunStatus(ctx, runID)
}

// Wait implements engine.Waiter through the production dispatcher.
func (d *faultDispatcher) Wait(ctx context.Context, runID, task string) (json.RawMessage, error) {
	return d.inner.(engine.Waiter).Wait(ctx, runID, task)
}

// CancelRuns implements engine.Canceller through the production dispatcher.
func (d *faultDispatcher) CancelRuns(ctx context.Context, runIDs []string) error {
	return d.inner.(engine.Canceller).CancelRuns(ctx, runIDs)
}

// RunInput implements engine.RunInputReader through the production dispatcher.
func (d *faultDispatcher) RunInput(ctx context.Context, runID string) (json.RawMessage, error) {
	return d.inner.(engine.RunInputReader).RunInput(ctx, runID)
}

// die SIGKILLs this process: no deferred function, no graceful stop.
func (d *faultDispatcher) die(when, cb string) {
	d.mu.Lock() // one goroutine reports; the others wait for the signal
	d.log.Warn("fault: SIGKILL self "+when, "callback", cb)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
