package hatchetflow

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// Client signs, saves and runs signatures, and registers tasks whose callbacks the
// engine drives. It implements [dsl.Backend]. It is safe for concurrent use.
type Client struct {
	hatchet    *hatchet.Client
	store      *redisstore.Store
	dispatcher engine.Dispatcher
	log        *slog.Logger
	cfg        config
	tel        *telemetry

	mu    sync.RWMutex
	tasks map[string]*taskDef
	order []string
	// workerBuilt is set by NewWorker: tasks registered later would never be served.
	workerBuilt bool

	reconciler reconciler
	running    running // steps running in this process (Drain)

	registry sync.Map // task name -> cachedDef
	schemas  sync.Map // schema document -> *inject.Schema
	fits     fitCache // Save's callback checks (fit.go)
}

var _ dsl.Backend = (*Client)(nil)

type cachedDef struct {
	def     redisstore.TaskDef
	expires time.Time
}

// New returns a client on a Hatchet client and a Redis client: MageFlow's
// Mageflow(hatchet, redis). hatchetClient is required: it is the engine the client dispatches to.
func New(hatchetClient *hatchet.Client, redisClient redis.UniversalClient, opts ...Option) (*Client, error) {
	cfg := config{
		Logger:        slog.Default(),
		MaxKwargs:     DefaultMaxKwargsBytes,
		RegistryTTL:   DefaultRegistryCacheTTL,
		StepRetryTime: 45 * time.Second,
		SwarmWatch:    DefaultSwarmWatchInterval,

		ReconcileInterval: DefaultReconcileInterval,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.OptionErrors) > 0 {
		return nil, cfg.OptionErrors[0]
	}
	if redisClient == nil {
		return nil, ErrNoRedis
	}
	if cfg.Tracers == nil {
		cfg.Tracers = otel.GetTracerProvider()
	}
	if cfg.Meters == nil {
		cfg.Meters = otel.GetMeterProvider()
	}
	tel, err := newTelemetry(cfg.Tracers, cfg.Meters)
	if err != nil {
		return nil, err
	}
	c := &Client{
		hatchet: hatchetClient,
		store:   redisstore.New(redisClient, cfg.StoreOptions...),
		log:     cfg.Logger,
		cfg:     cfg,
		tel:     tel,
		tasks:   map[string]*taskDef{},
	}
	if err := checkReplicaAcks(c.store, redisClient); err != nil {
		return nil, err
	}
	c.registerInternal()
	switch {
	case cfg.Dispatcher != nil:
		c.dispatcher = cfg.Dispatcher
	case hatchetClient != nil:
		hd := &hatchetDispatcher{h: hatchetClient, setRefusal: c.setRefusal}
		c.dispatcher = hd
		admin, err := bulkAdmin(&cfg)
		if err != nil {
			return nil, err
		}
		if admin != nil {
			c.dispatcher = &hatchetBatchDispatcher{hatchetDispatcher: hd, admin: admin}
		}
	default:
		return nil, ErrNoDispatcher
	}
	if cfg.Expose != nil {
		*cfg.Expose = engine.Machinery{Store: c.store, Dispatcher: c.dispatcher, Steps: c.steps,
			SettleCancel: c.settleExternalCancel, Reconcile: c.reconcile}
	}
	return c, nil
}

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

// checkReplicaAcks refuses a [WithReplicaAcks] timeout that is not below the Redis
// client's ReadTimeout: a pipelined WAIT's reply is read under it, so the client would
// time out (and drop the connection) before WAIT answers.
func checkReplicaAcks(store *redisstore.Store, rdb redis.UniversalClient) error {
	replicas, timeout := store.ReplicaAcks()
	if replicas == 0 {
		return nil
	}
	var read time.Duration // 0: no read deadline, or another client: not checked
	switch r := rdb.(type) {
	case *redis.Client:
		read = r.Options().ReadTimeout
	case *redis.ClusterClient:
		read = r.Options().ReadTimeout
	}
	if read > 0 && timeout >= read {
		return &InvalidOptionError{Option: "WithReplicaAcks",
			Detail: fmt.Sprintf("timeout %v is not below the Redis client's ReadTimeout %v", timeout, read)}
	}
	return nil
}
