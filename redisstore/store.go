package redisstore

import (
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the store's options.
const (
	defaultPrefix    = "hf"
	defaultActiveTTL = 24 * time.Hour
	defaultDoneTTL   = 3 * time.Hour
)

// Store reads and writes hatchetflow's keys. It is safe for concurrent use.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	activeTTL time.Duration
	doneTTL   time.Duration
	saves     atomic.Int64 // every tenth save sweeps its shard's expired index entries
	// acks and ackTimeout are WithReplicaAcks's: replicas each write waits for (0: off).
	acks       int
	ackTimeout time.Duration
	// bases and ixBases are each shard's "<prefix>:{sNN}:" and "<prefix>:{sNN}:ix".
	bases, ixBases [IndexShards]string
}

// Option configures a [Store].
type Option func(*Store)

// WithPrefix sets the key prefix. Default "hf".
func WithPrefix(prefix string) Option { return func(s *Store) { s.prefix = prefix } }

// WithActiveTTL sets the TTL of signatures that have not ended. Default 24 h.
func WithActiveTTL(d time.Duration) Option { return func(s *Store) { s.activeTTL = d } }

// WithDoneTTL sets the TTL of ended signatures and of callbacks that will never run.
// Default 3 h.
func WithDoneTTL(d time.Duration) Option { return func(s *Store) { s.doneTTL = d } }

// New returns a store on rdb.
func New(rdb redis.UniversalClient, opts ...Option) *Store {
	s := &Store{rdb: rdb, prefix: defaultPrefix, activeTTL: defaultActiveTTL, doneTTL: defaultDoneTTL}
	for _, o := range opts {
		o(s)
	}
	if s.prefix == "" {
		s.prefix = defaultPrefix
	}
	if s.activeTTL <= 0 {
		s.activeTTL = defaultActiveTTL
	}
	if s.doneTTL <= 0 {
		s.doneTTL = defaultDoneTTL
	}
	if s.acks < 0 {
		s.acks = 0
	}
	if s.acks > 0 && s.ackTimeout <= 0 {
		s.ackTimeout = defaultAckTimeout
	}
	s.setBases()
	return s
}

// ActiveTTL returns the TTL of signatures that have not ended (see [WithActiveTTL]).
func (s *Store) ActiveTTL() time.Duration { return s.activeTTL }

// Redis returns the client the store uses.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }
