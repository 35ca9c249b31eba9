package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultAckTimeout is the WAIT timeout of [WithReplicaAcks] given a timeout <= 0
// (WAIT's own 0 would block for ever).
const defaultAckTimeout = time.Second

// WithReplicaAcks makes every write of the store wait until replicas replicas hold it
// (Redis WAIT), for at most timeout. Default 0: off, a write returns once the master
// applied it, as Redis replicates asynchronously.
//
// Each write script (and each write pipeline, once per master node it touched) is
// followed, in the same pipeline on the same connection, by a small barrier write
// (the key "<prefix>:ack:{tag}", in the slot of the script's first key, one key per
// hash tag, expiring a minute after its last use) and WAIT replicas timeout. The
// barrier moves the connection's replication offset to the master's current one, so
// WAIT also covers earlier writes of other connections: a retried transition that
// finds its work done (Finish's "repeat") returns only once that work is replicated
// too. Fewer acknowledgements within timeout give an error matching
// [ErrReplication]: the write applied on the master but may not survive a failover;
// every transition is safe to retry. Reads never wait.
//
// Cost: one more command (and one replicated SET) per write, in the same round trip,
// and every write waits for the replicas' acknowledgement, about one replica round
// trip. timeout must stay below the Redis client's ReadTimeout (5 s by default in go-redis v9.23):
// pipelined replies are read under it. replicas <= 0 is off; a timeout <= 0 means 1 s.
// Supported clients: a single client (standalone or Sentinel's failover client) and a
// [*redis.ClusterClient] (each write waits on the master that owns its key); a
// [*redis.Ring] is not (its WAIT would reach an arbitrary shard).
func WithReplicaAcks(replicas int, timeout time.Duration) Option {
	return func(s *Store) { s.acks, s.ackTimeout = replicas, timeout }
}

// ReplicaAcks returns the settings of [WithReplicaAcks]: 0 replicas when off.
func (s *Store) ReplicaAcks() (replicas int, timeout time.Duration) {
	return s.acks, s.ackTimeout
}

// ackKey returns the barrier key in key's slot: "<prefix>:ack:{tag}" with key's hash
// tag, or key itself as the tag when it has none.
func (s *Store) ackKey(key string) string {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return s.prefix + ":ack:{" + tag + "}"
}

// queueWait queues the barrier write in key's slot and WAIT on p.
func (s *Store) queueWait(ctx context.Context, p redis.Pipeliner, key string) *redis.Cmd {
	p.Set(ctx, s.ackKey(key), "1", time.Minute)
	return p.Do(ctx, "wait", s.acks, s.ackTimeout.Milliseconds())
}

// acked returns a [*ReplicationError] when w counted fewer replicas than wanted.
func (s *Store) acked(w *redis.Cmd) error {
	n, err := w.Int64()
	if err != nil {
		return err
	}
	if int(n) < s.acks {
		return &ReplicationError{Wanted: s.acks, Acked: int(n), Timeout: s.ackTimeout}
	}
	return nil
}

// pipeliner is what a write is sent on: the store's client, or a Cluster's node.
type pipeliner interface {
	Pipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error)
}

// nodeFor returns what a write of key is pipelined on: the master that owns key for
// a Cluster (a keyless WAIT in a Cluster pipeline would go to an arbitrary node), the
// client itself otherwise (a pipeline of a single client uses one connection).
func (s *Store) nodeFor(ctx context.Context, key string) (pipeliner, string, error) {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		n, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, "", err
		}
		return n, n.Options().Addr, nil
	}
	return s.rdb, "", nil
}

// moved lets a Cluster client reload its slot map when a node answered MOVED or ASK to
// a write sent to the master it thought owned the key, so that the caller's retry is
// routed right.
func (s *Store) moved(ctx context.Context, err error) {
	if err == nil {
		return
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		if m := err.Error(); strings.HasPrefix(m, "MOVED ") || strings.HasPrefix(m, "ASK ") {
			cc.ReloadState(ctx)
		}
	}
}

// eval runs a write script. With replica acks off it is script.Run (EVALSHA, then EVAL
// on NOSCRIPT). With them on, EVALSHA (EVAL on NOSCRIPT), the barrier write and WAIT
// go in one pipeline on one connection to the master of keys[0]; when fewer replicas
// than wanted acknowledged, the returned command carries the script's reply and a
// [*ReplicationError] as its error.
func (s *Store) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.acks <= 0 {
		return script.Run(ctx, s.rdb, keys, args...)
	}
	node, _, err := s.nodeFor(ctx, keys[0])
	if err != nil {
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	var (
		cmd  *redis.Cmd
		wait *redis.Cmd
	)
	send := func(eval bool) {
		_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
			if eval {
				cmd = script.Eval(ctx, p, keys, args...)
			} else {
				cmd = script.EvalSha(ctx, p, keys, args...)
			}
			wait = s.queueWait(ctx, p, keys[0])
			return nil
		})
	}
	send(false)
	if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		send(true)
	}
	if err := cmd.Err(); err != nil && err != redis.Nil {
		s.moved(ctx, err)
		return cmd
	}
	if err := s.acked(wait); err != nil {
		cmd.SetErr(err)
	}
	return cmd
}

// AwaitReplicas waits until the replicas wanted by [WithReplicaAcks] hold every write
// the master of signature id's keys has applied so far (the barrier write and WAIT,
// one round trip), or returns a [*ReplicationError]. With replica acks off it returns
// nil at once. A caller whose transition returned ErrReplication, and who must not
// run the transition again, waits with it instead.
func (s *Store) AwaitReplicas(ctx context.Context, id string) error {
	if s.acks <= 0 {
		return nil
	}
	key := s.SignatureKey(id)
	node, _, err := s.nodeFor(ctx, key)
	if err != nil {
		return opError("wait for replicas", err)
	}
	var wait *redis.Cmd
	if _, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		wait = s.queueWait(ctx, p, key)
		return nil
	}); err != nil {
		s.moved(ctx, err)
		return opError("wait for replicas", err)
	}
	if err := s.acked(wait); err != nil {
		return opError("wait for replicas", err)
	}
	return nil
}

// pipelineAcked is pipelineScripts with replica acks on: the calls and reads in one
// pipeline, then the barrier write and WAIT. On a single client that is one pipeline
// on one connection; on a Cluster the calls are grouped by the master that owns their
// first key, each group is one pipeline on that node ending with the barrier and WAIT
// (in parallel, with the reads, which go through the Cluster client and do not wait).
func (s *Store) pipelineAcked(ctx context.Context, script *redis.Script, calls []scriptCall, reads func(redis.Pipeliner)) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	queue := func(p redis.Pipeliner, idx []int) {
		for _, i := range idx {
			sc := script
			if calls[i].script != nil {
				sc = calls[i].script
			}
			cmds[i] = sc.EvalSha(ctx, p, calls[i].keys, calls[i].args...)
		}
	}
	type group struct {
		node pipeliner
		idx  []int
	}
	var groups []*group
	if _, ok := s.rdb.(*redis.ClusterClient); ok {
		byAddr := map[string]*group{}
		for i, c := range calls {
			node, addr, err := s.nodeFor(ctx, c.keys[0])
			if err != nil {
				return nil, err
			}
			g := byAddr[addr]
			if g == nil {
				g = &group{node: node}
				byAddr[addr] = g
				groups = append(groups, g)
			}
			g.idx = append(g.idx, i)
		}
	} else {
		all := make([]int, len(calls))
		for i := range all {
			all[i] = i
		}
		groups = []*group{{node: s.rdb, idx: all}}
	}
	send := func() (err, short error) {
		if _, ok := s.rdb.(*redis.ClusterClient); !ok {
			var wait *redis.Cmd
			_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				queue(p, groups[0].idx)
				if reads != nil {
					reads(p)
				}
				if len(calls) > 0 {
					wait = s.queueWait(ctx, p, calls[0].keys[0])
				}
				return nil
			})
			if err != nil || wait == nil {
				return err, nil
			}
			if short = s.acked(wait); !errors.Is(short, ErrReplication) {
				return short, nil // WAIT's own error
			}
			return nil, short
		}
		var (
			mu       sync.Mutex
			firstErr error
			wg       sync.WaitGroup
		)
		keep := func(err, repl error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if r, ok := repl.(*ReplicationError); ok {
				if cur, ok := short.(*ReplicationError); !ok || r.Acked < cur.Acked {
					short = r
				}
			} else if repl != nil && firstErr == nil {
				firstErr = repl
			}
		}
		for _, g := range groups {
			wg.Go(func() {
				var wait *redis.Cmd
				_, err := g.node.Pipelined(ctx, func(p redis.Pipeliner) error {
					queue(p, g.idx)
					wait = s.queueWait(ctx, p, calls[g.idx[0]].keys[0])
					return nil
				})
				if err != nil {
					s.moved(ctx, err)
					keep(err, nil)
					return
				}
				keep(nil, s.acked(wait))
			})
		}
		if reads != nil {
			wg.Go(func() {
				_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					reads(p)
					return nil
				})
				keep(err, nil)
			})
		}
		wg.Wait()
		return firstErr, short
	}
	err, short := send()
	if err != nil && noScriptIn(cmds) {
		if err := s.LoadScripts(ctx); err != nil {
			return nil, err
		}
		err, short = send()
	}
	if err != nil {
		return cmds, err
	}
	return cmds, short
}

func noScriptIn(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if c != nil {
			if err := c.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				return true
			}
		}
	}
	return false
}
