package hatchetflow

import (
	"fmt"
	"log/slog"
	"time"

	//lint:ignore SA1019 hatchet.NewClient takes exactly these options; batched dispatch takes the same
	"github.com/hatchet-dev/hatchet/pkg/client"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// Defaults of the client options.
const (
	DefaultMaxKwargsBytes   = 64 << 10
	DefaultRegistryCacheTTL = time.Minute
)

// config is the client's configuration (kept in package engine so that this module's
// harnesses can set the dispatcher; see [Option]).
type config = engine.Config

// Option configures a [Client]. The With functions of this package make them.
type Option func(*engine.Config)

// WithActiveTTL sets how long a signature that has not ended is kept. Default 24 h.
func WithActiveTTL(d time.Duration) Option {
	return func(c *config) { c.StoreOptions = append(c.StoreOptions, redisstore.WithActiveTTL(d)) }
}

// WithBulkDispatch configures the Hatchet client that batched dispatch triggers runs
// with, by the same options the application gave hatchet.NewClient (for a client
// configured in code rather than from the environment).
//
// Batched dispatch: the callbacks of one outcome, a swarm fill and the items
// AddItems starts are triggered with the engine's bulk call, one call per 500 runs
// (the SDK offers that call only on its v0 client, which hatchetflow builds for it).
// By default it is on when the environment configures a Hatchet client
// (HATCHET_CLIENT_TOKEN is set; hatchet.NewClient() without options reads the same
// variables), and off otherwise, when each run is its own engine call. A batch the
// engine refuses is sent again one run at a time; one whose outcome is unknown is
// checked against the engine's run list first, so no run is lost.
//
//lint:ignore SA1019 the options hatchet.NewClient takes
func WithBulkDispatch(opts ...client.ClientOpt) Option {
	//lint:ignore SA1019 as above
	return func(c *config) { c.BulkOptions, c.BulkOff = append([]client.ClientOpt{}, opts...), false }
}

// WithoutBulkDispatch turns batched dispatch off (see [WithBulkDispatch]): every run is
// its own engine call.
func WithoutBulkDispatch() Option { return func(c *config) { c.BulkOff = true } }

// WithDoneTTL sets how long an ended signature, and the callbacks of the branch that
// will never run, are kept. Default 3 h.
func WithDoneTTL(d time.Duration) Option {
	return func(c *config) { c.StoreOptions = append(c.StoreOptions, redisstore.WithDoneTTL(d)) }
}

// WithReplicaAcks makes every write hatchetflow makes to Redis (each transition of a
// signature, each save, each dispatch marker) wait until replicas replicas hold it,
// for at most timeout (Redis WAIT, sent in the same round trip as the write). Default
// off (replicas 0): a write returns once the master applied it and Redis replicates
// asynchronously, so a failover (Sentinel, Cluster) that promotes a replica that had
// not received it loses it, and a Finish that marked a signature done could be undone.
//
// When fewer replicas acknowledge within timeout, the operation returns an error
// matching [ErrReplication]: the write applied on the master but may not survive a
// failover. hatchetflow's steps retry it like a lost Redis reply (docs/deploy.md).
//
// Set replicas to the number of replicas a failover may promote: a write that only
// some replicas acknowledged can still be lost when another one is promoted, or when
// the acknowledging replica resynchronises from the promoted one (docs/deploy.md).
//
// The trade-off: every write waits for the replicas' acknowledgement (the write and
// the wait share one round trip to the master), and a replica that lags or is down
// makes writes fail after timeout instead of succeeding. timeout must be below the
// Redis client's ReadTimeout (5 s by default in go-redis v9.23). replicas < 0, a
// timeout <= 0 with replicas > 0, or a timeout not below the client's ReadTimeout is
// an [*InvalidOptionError] from [New]. Reads never wait.
func WithReplicaAcks(replicas int, timeout time.Duration) Option {
	return func(c *config) {
		switch {
		case replicas < 0:
			c.OptionErrors = append(c.OptionErrors, &InvalidOptionError{Option: "WithReplicaAcks",
				Detail: fmt.Sprintf("replicas is %d: it must be 0 (off) or more", replicas)})
		case replicas > 0 && timeout <= 0:
			c.OptionErrors = append(c.OptionErrors, &InvalidOptionError{Option: "WithReplicaAcks",
				Detail: fmt.Sprintf("timeout is %v: waiting for %d replicas needs a positive timeout", timeout, replicas)})
		default:
			c.StoreOptions = append(c.StoreOptions, redisstore.WithReplicaAcks(replicas, timeout))
		}
	}
}

// WithKeyPrefix sets the prefix of every Redis key. Default "hf".
func WithKeyPrefix(prefix string) Option {
	return func(c *config) { c.StoreOptions = append(c.StoreOptions, redisstore.WithPrefix(prefix)) }
}

// WithLogger sets the logger. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.Logger = l } }

// WithMaxKwargsBytes limits the JSON size of one signature's bound kwargs. Default
// [DefaultMaxKwargsBytes] (64 KiB).
func WithMaxKwargsBytes(n int) Option { return func(c *config) { c.MaxKwargs = n } }

// WithRegistryCacheTTL sets how long a producer trusts a task registry entry it read
// before reading it again. Default [DefaultRegistryCacheTTL] (1 min); 0 or less
// disables the cache.
func WithRegistryCacheTTL(d time.Duration) Option { return func(c *config) { c.RegistryTTL = d } }

// WithStepRetryTime bounds how long the main step (its failure path included) and the
// on-failure step of a task that has one keep retrying Redis and dispatch errors
// within one attempt (for example while Redis restarts) before they fail the attempt.
// Default 45 s, under Hatchet's 60 s step timeout.
func WithStepRetryTime(d time.Duration) Option { return func(c *config) { c.StepRetryTime = d } }

// WithTracerProvider sets where the spans of signature runs, on-failure steps (of tasks
// registered with [WithOnFailureStep]) and callback dispatches go (docs/design.md,
// "Observability"). Default otel.GetTracerProvider() at [New]: the global provider, a
// no-op unless the application installed one, so nothing is recorded or exported by
// default.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.Tracers = tp } }

// WithMeterProvider sets where hatchetflow's metrics go: hatchetflow.runs,
// hatchetflow.dispatch.duration, hatchetflow.redis.errors and hatchetflow.step.retries
// (docs/design.md, "Observability"). Default otel.GetMeterProvider() at [New]: the
// global provider, a no-op unless the application installed one.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.Meters = mp } }

// WithReconcileInterval sets how often the reconciler that [Client.NewWorker] starts
// asks the engine for runs that ended without a hatchetflow step settling them (a run
// cancelled while still queued or while its worker was gone, a run that failed before
// its step started, a run the engine failed while it still owned its signature because
// its worker was lost or an attempt hung past its timeout, a run whose worker died
// inside its failure path or after storing its result, a run of a plain Hatchet task or
// another language's) and settles their signatures; the time from the engine's verdict
// to the callbacks is about one interval. For a task without an on-failure step (the
// default; see [WithOnFailureStep]) it is what ends a failure no attempt could end, so
// with 0 on every worker such a signature stays active and its error callbacks never
// fire (a swarm item is still failed by the swarm watch). One worker per Redis prefix
// runs it at a time (a lease); it also watches running swarms (see
// [WithSwarmWatchInterval]). Waiting for a plain task's run waits
// up to five intervals for it (see [UnsettledError]). Default
// [DefaultReconcileInterval]; 0 or less turns the run pass off.
func WithReconcileInterval(d time.Duration) Option {
	return func(c *config) { c.ReconcileInterval = d }
}

// WithSwarmWatchInterval sets how often the reconciler that [Client.NewWorker] starts
// (see [WithReconcileInterval]) checks each running swarm's items against their runs
// and settles what a lost event left open ([Client.ReconcileSwarm]). Default
// [DefaultSwarmWatchInterval]. A duration of 0 or less turns the swarm watch off: a
// lost item event then leaves the swarm open until [Client.ReconcileSwarm] is called
// (flowtest's harness does this, as its queue runs only what a test steps).
func WithSwarmWatchInterval(d time.Duration) Option { return func(c *config) { c.SwarmWatch = d } }
