package hatchetflow

import (
	"log/slog"
	"sync"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/redisstore"
)

// Metadata keys hatchetflow puts on the runs it dispatches.
const (
	// MetaSignature holds the signature id a run executes.
	MetaSignature = "hatchetflow_signature"
	// MetaParent holds the id of the signature whose callback this run is.
	MetaParent = "hatchetflow_parent"
	// MetaTraceParent holds the W3C traceparent of the span that dispatched the run
	// (a callback's "hatchetflow.dispatch" span). It is not Hatchet's own
	// "traceparent" key, which the engine and SDK set and may replace: the run's span
	// is a child of Hatchet's traceparent when there is one and links to this one.
	MetaTraceParent = "hatchetflow_traceparent"
	// MetaTraceState holds the W3C tracestate that goes with [MetaTraceParent], when
	// the dispatching span has one.
	MetaTraceState = "hatchetflow_tracestate"
)

// Client signs, saves and runs signatures, and registers tasks whose callbacks the
// engine drives. It implements [dsl.Backend]. It is safe for concurrent use.
type Client struct {
	hatchet    *hatchet.Client
	store      *redisstore.Store
	dispatcher Dispatcher
	log        *slog.Logger
	cfg        config
	tel        *telemetry

	mu    sync.RWMutex
	tasks map[string]*taskDef
	order []string
	// workerBuilt is set by NewWorker: tasks registered later would never be served.
	workerBuilt bool

	registry sync.Map // task name -> cachedDef
	schemas  sync.Map // schema document -> *inject.Schema
}

var _ dsl.Backend = (*Client)(nil)

type cachedDef struct {
	def     redisstore.TaskDef
	expires time.Time
}

// New returns a client on a Hatchet client and a Redis client: MageFlow's
// Mageflow(hatchet, redis). hatchetClient may be nil when [WithDispatcher] is given.
func New(hatchetClient *hatchet.Client, redisClient redis.UniversalClient, opts ...Option) (*Client, error) {
	cfg := config{
		logger:        slog.Default(),
		maxKwargs:     DefaultMaxKwargsBytes,
		registryTTL:   DefaultRegistryCacheTTL,
		stepRetryTime: 45 * time.Second,
		swarmWatch:    DefaultSwarmWatchInterval,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if redisClient == nil {
		return nil, ErrNoRedis
	}
	if cfg.tracers == nil {
		cfg.tracers = otel.GetTracerProvider()
	}
	if cfg.meters == nil {
		cfg.meters = otel.GetMeterProvider()
	}
	tel, err := newTelemetry(cfg.tracers, cfg.meters)
	if err != nil {
		return nil, err
	}
	c := &Client{
		hatchet: hatchetClient,
		store:   redisstore.New(redisClient, cfg.store...),
		log:     cfg.logger,
		cfg:     cfg,
		tel:     tel,
		tasks:   map[string]*taskDef{},
	}
	c.registerInternal()
	switch {
	case cfg.dispatcher != nil:
		c.dispatcher = cfg.dispatcher
	case hatchetClient != nil:
		c.dispatcher = &hatchetDispatcher{h: hatchetClient, setRefusal: c.setRefusal}
	default:
		return nil, ErrNoDispatcher
	}
	return c, nil
}

// Store returns the Redis store the client uses.
func (c *Client) Store() *redisstore.Store { return c.store }

// Dispatcher returns the dispatcher the client triggers runs with.
func (c *Client) Dispatcher() Dispatcher { return c.dispatcher }

// Hatchet returns the Hatchet client given to [New], or nil.
func (c *Client) Hatchet() *hatchet.Client { return c.hatchet }

func (c *Client) localTask(name string) (*taskDef, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.tasks[name]
	return d, ok
}

// registeredTasks returns the registered task definitions in registration order.
func (c *Client) registeredTasks() []*taskDef {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*taskDef, 0, len(c.order))
	for _, n := range c.order {
		out = append(out, c.tasks[n])
	}
	return out
}
