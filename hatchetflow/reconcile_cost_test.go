package hatchetflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/rtcount"
)

// healthyEngine is an engine on which every run is healthy and still running: it
// counts the calls the reconciler makes and reports no ended run.
type healthyEngine struct{ lists atomic.Int64 }

func (e *healthyEngine) Dispatch(context.Context, string, map[string]any, map[string]string) (string, error) {
	return "run", nil
}

func (e *healthyEngine) EndedRuns(context.Context, engine.RunQuery) ([]engine.EndedRun, error) {
	e.lists.Add(1)
	return nil, nil
}

func (e *healthyEngine) Wait(context.Context, string, string) (json.RawMessage, error) {
	return nil, fmt.Errorf("not used")
}

// The reconciler's cost per minute (engine calls and Redis round trips, at the
// default 1 s reconcile and 5 s swarm intervals) does not grow with the number of
// signatures in flight: 0, 1,000 and 10,000 running signatures cost the same, and
// runs of plain tasks in flight add one engine call and nothing more per pass,
// whatever their number. The table is what docs/reliability.md reports.
func TestReconcilerCostDoesNotGrowWithInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("saves 11,000 signatures")
	}
	type cost struct{ engine, redis int64 }
	// measure populates a fresh store with n running signatures, then runs a
	// minute of passes with no plain run in flight and another with one.
	measure := func(n int) (healthy, plain cost) {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), PoolSize: 16})
		defer rdb.Close()
		eng := &healthyEngine{}
		c, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(eng))
		must(t, err)
		ctx := context.Background()
		var g errgroup.Group
		g.SetLimit(8)
		for i := range n {
			g.Go(func() error {
				s, err := dsl.Sign("busy").Validate(Order{}).Save(ctx, c)
				if err != nil {
					return err
				}
				_, _, err = c.Store().Start(ctx, s.ID, fmt.Sprintf("run-%d", i), 1)
				return err
			})
		}
		must(t, g.Wait())
		minute := func() cost {
			rt := &rtcount.Counter{}
			rdb.AddHook(rt)
			eng.lists.Store(0)
			for sec := range 60 {
				held, err := c.ReconcilePass(ctx, "token", sec%5 == 0)
				must(t, err)
				if !held {
					t.Fatal("the only reconciler does not hold the lease")
				}
			}
			return cost{eng.lists.Load(), rt.N()}
		}
		minute() // loads the scripts
		healthy = minute()
		s, err := dsl.Sign("plain").Validate(Order{}).Save(ctx, c)
		must(t, err)
		must(t, c.Store().WatchEngineSettled(ctx, time.Now(), s.ID))
		return healthy, minute()
	}
	var base, basePlain cost
	t.Logf("in flight | engine calls/min | Redis round trips/min | with a plain run in flight: engine | Redis")
	for _, n := range []int{0, 1000, 10000} {
		got, gotPlain := measure(n)
		t.Logf("%9d | %16d | %21d | %6d | %5d", n, got.engine, got.redis, gotPlain.engine, gotPlain.redis)
		if n == 0 {
			base, basePlain = got, gotPlain
		} else if got != base || gotPlain != basePlain {
			t.Errorf("%d signatures in flight cost %+v (%+v with a plain run), want %+v (%+v) as with none", n, got, gotPlain, base, basePlain)
		}
	}
}
