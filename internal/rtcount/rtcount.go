// Package rtcount counts Redis network round trips with a go-redis hook: one per
// command sent alone, one per pipeline or MULTI/EXEC block.
package rtcount

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts round trips. Add it with rdb.AddHook.
type Counter struct {
	n atomic.Int64
}

// N returns the round trips counted so far.
func (c *Counter) N() int64 { return c.n.Load() }

// Reset sets the count to zero and returns the old count.
func (c *Counter) Reset() int64 { return c.n.Swap(0) }

// DialHook implements redis.Hook.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook implements redis.Hook.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !handshake(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !handshake(cmd) {
				c.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// handshake reports whether cmd is part of go-redis's connection set-up (HELLO,
// CLIENT ...), which is not an operation of ours.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth":
		return true
	}
	return false
}
