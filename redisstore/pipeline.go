package redisstore

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// scriptCall is one invocation of a Lua script in a pipeline.
type scriptCall struct {
	script *redis.Script // nil: the pipeline's script
	keys   []string
	args   []any
}

// pipelineScripts sends calls of script with EVALSHA, then whatever reads queues, in
// one pipeline (one round trip per node), and returns the calls' commands in their
// order. A pipeline cannot fall back from EVALSHA to EVAL command by command, so when
// Redis answers NOSCRIPT (first use, or after a restart or SCRIPT FLUSH) the script is
// loaded on every node and the pipeline is sent again; every script here is safe to
// repeat. The calls write: with [WithReplicaAcks] the pipeline waits for the replicas
// (pipelineAcked); reads must be read-only commands.
func (s *Store) pipelineScripts(ctx context.Context, script *redis.Script, calls []scriptCall, reads func(redis.Pipeliner)) ([]*redis.Cmd, error) {
	if s.acks > 0 {
		return s.pipelineAcked(ctx, script, calls, reads)
	}
	return s.readScripts(ctx, script, calls, reads)
}

// readScripts is pipelineScripts without waiting for replicas, for read-only scripts
// (listCmd), and for every script with replica acks off.
func (s *Store) readScripts(ctx context.Context, script *redis.Script, calls []scriptCall, reads func(redis.Pipeliner)) ([]*redis.Cmd, error) {
	if len(calls) == 0 && reads == nil {
		return nil, nil
	}
	cmds := make([]*redis.Cmd, len(calls))
	send := func() ([]redis.Cmder, error) {
		return s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range calls {
				sc := script
				if c.script != nil {
					sc = c.script
				}
				cmds[i] = sc.EvalSha(ctx, p, c.keys, c.args...)
			}
			if reads != nil {
				reads(p)
			}
			return nil
		})
	}
	sent, err := send()
	if err != nil && noScript(sent) {
		if err := s.LoadScripts(ctx); err != nil {
			return nil, err
		}
		_, err = send()
	}
	return cmds, err
}

func noScript(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if err := c.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// scripts are every Lua script of the store.
var scripts = []*redis.Script{saveCmd, startCmd, finishCmd, failCmd, markCmd, updateKwargsCmd, linkCmd, cancelCmd, suspendCmd, resumeCmd, suspendRunningCmd,
	saveSwarmItemsCmd, swarmClaimCmd, deleteCmd, ttlCmd, listCmd, containerCmd, swarmItemEndCmd, swarmAddCmd, swarmCloseCmd, waitingCmd}

// LoadScripts loads every Lua script into Redis (on every node of a Cluster), so that
// the first operations after a start or a Redis restart take their usual single round
// trip. It is optional: a script missing at run time is loaded on demand. Workers call
// it at start.
func (s *Store) LoadScripts(ctx context.Context) error {
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return opError("load scripts", err)
		}
	}
	return nil
}
