// Package rtcount counts Redis network round trips with a go-redis hook: one per
// command sent alone, one per pipeline or MULTI/EXEC block. The commands go-redis
// sends to set up a new connection (HELLO, AUTH, SELECT, READONLY, CLIENT SETNAME,
// CLIENT SETINFO, ...) are not counted: they are the client's, not the caller's.
package rtcount

import (
	"context"
	"fmt"
	"net"
	"strings"
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
		if !setup(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook. A pipeline counts once, unless every
// command in it is connection set-up (go-redis sends SELECT, READONLY and CLIENT
// SETNAME/SETINFO as pipelines on connect).
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !setup(cmd) {
				c.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// setup reports whether cmd is one that go-redis sends while it sets up a new
// connection (see baseClient.initConn), which is not an operation of ours.
func setup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "readonly":
		return true
	case "client":
		args := cmd.Args()
		if len(args) < 2 {
			return false
		}
		switch strings.ToLower(fmt.Sprint(args[1])) {
		case "setname", "setinfo", "tracking", "maint_notifications":
			return true
		}
	}
	return false
}
