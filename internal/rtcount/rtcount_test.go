package rtcount

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// servers returns option sets for the Redis servers to test on: miniredis, and the
// server of REDIS_URL when it is set. Each selects a database other than 0 and sets a
// client name, so go-redis's connection set-up pipeline carries SELECT and CLIENT
// SETNAME.
func servers(t *testing.T) map[string]*redis.Options {
	t.Helper()
	mr := miniredis.RunT(t)
	out := map[string]*redis.Options{
		"miniredis": {Addr: mr.Addr(), DB: 15, ClientName: "rtcount-test"},
	}
	if url := os.Getenv("REDIS_URL"); url != "" {
		o, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		if o.DB == 0 {
			o.DB = 15
		}
		o.ClientName = "rtcount-test"
		out["redis"] = o
	}
	return out
}

func TestConnectionSetUpIsNotARoundTrip(t *testing.T) {
	for name, o := range servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rdb := redis.NewClient(o)
			t.Cleanup(func() { _ = rdb.Close() })
			c := &Counter{}
			rdb.AddHook(c)
			key := fmt.Sprintf("rtcount-test-%d", time.Now().UnixNano())
			t.Cleanup(func() { rdb.Del(context.Background(), key) })

			// The first command dials: HELLO, then a pipeline of SELECT and CLIENT
			// SETNAME, then the command itself.
			if err := rdb.Set(ctx, key, "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if n := c.Reset(); n != 1 {
				t.Fatalf("SET on a new connection to DB %d counted %d round trips, want 1", o.DB, n)
			}
			// The set-up really ran: the key is in the selected database.
			if v := rdb.Get(ctx, key).Val(); v != "v" {
				t.Fatalf("GET = %q, want v", v)
			}
			if n := c.Reset(); n != 1 {
				t.Fatalf("GET counted %d round trips, want 1", n)
			}
			if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, key+":n")
				p.Expire(ctx, key+":n", time.Minute)
				p.Get(ctx, key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Del(context.Background(), key+":n") })
			if n := c.Reset(); n != 1 {
				t.Fatalf("pipeline of 3 counted %d round trips, want 1", n)
			}
			if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, key+":n")
				p.Get(ctx, key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n := c.Reset(); n != 1 {
				t.Fatalf("MULTI/EXEC counted %d round trips, want 1", n)
			}
		})
	}
}

// TestEveryNewConnectionIsFree dials many connections at once: none of their set-up
// counts, only the commands.
func TestEveryNewConnectionIsFree(t *testing.T) {
	for name, o := range servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			o := *o
			o.PoolSize = 8
			rdb := redis.NewClient(&o)
			t.Cleanup(func() { _ = rdb.Close() })
			c := &Counter{}
			rdb.AddHook(c)
			const n = 8
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				go func() { errs <- rdb.Ping(ctx).Err() }()
			}
			for i := 0; i < n; i++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if got := c.N(); got != n {
				t.Fatalf("%d commands on up to %d new connections counted %d round trips, want %d",
					n, o.PoolSize, got, n)
			}
		})
	}
}

func TestSetUpCommands(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args  []any
		setup bool
	}{
		{[]any{"hello", "3"}, true},
		{[]any{"HELLO", "3", "AUTH", "u", "p"}, true},
		{[]any{"auth", "p"}, true},
		{[]any{"select", 15}, true},
		{[]any{"readonly"}, true},
		{[]any{"client", "setname", "x"}, true},
		{[]any{"CLIENT", "SETINFO", "LIB-NAME", "go-redis"}, true},
		{[]any{"client", "tracking", "on"}, true},
		{[]any{"client", "maint_notifications", "on"}, true},
		{[]any{"client", "list"}, false},
		{[]any{"client", "kill", "id", "1"}, false},
		{[]any{"client"}, false},
		{[]any{"get", "k"}, false},
		{[]any{"evalsha", "abc", "1", "k"}, false},
		{[]any{"ping"}, false},
	} {
		if got := setup(redis.NewCmd(ctx, tc.args...)); got != tc.setup {
			t.Errorf("setup(%v) = %v, want %v", tc.args, got, tc.setup)
		}
	}
}

func TestPipelineOfOnlySetUpIsFree(t *testing.T) {
	ctx := context.Background()
	c := &Counter{}
	run := c.ProcessPipelineHook(func(context.Context, []redis.Cmder) error { return nil })
	_ = run(ctx, []redis.Cmder{redis.NewCmd(ctx, "select", 15), redis.NewCmd(ctx, "client", "setname", "x")})
	if n := c.Reset(); n != 0 {
		t.Fatalf("set-up pipeline counted %d, want 0", n)
	}
	_ = run(ctx, []redis.Cmder{redis.NewCmd(ctx, "select", 15), redis.NewCmd(ctx, "get", "k")})
	if n := c.Reset(); n != 1 {
		t.Fatalf("pipeline with one real command counted %d, want 1", n)
	}
}
