package hatchetflow_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/rtcount"
)

type nopDispatcher struct{}

func (nopDispatcher) Dispatch(context.Context, string, map[string]any, map[string]string) (string, error) {
	return "run", nil
}

// TestProducerSaveRoundTrips: a producer in another process signs tasks by name from
// the registry a worker wrote. Its first Save reads the registry once; afterwards a
// Save is one round trip whatever the number of callbacks.
func TestProducerSaveRoundTrips(t *testing.T) {
	mr := miniredis.RunT(t)
	ctx := context.Background()

	workerRedis := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	worker, err := hatchetflow.New(nil, workerRedis, hatchetflow.WithDispatcher(nopDispatcher{}))
	must(t, err)
	for i := 0; i < 11; i++ {
		_, err := hatchetflow.NewTask(worker, fmt.Sprintf("task-%d", i), func(hatchet.Context, map[string]any) (any, error) { return nil, nil })
		must(t, err)
	}
	must(t, worker.RegisterTasks(ctx))

	rt := &rtcount.Counter{}
	producerRedis := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	producerRedis.AddHook(rt)
	producer, err := hatchetflow.New(nil, producerRedis, hatchetflow.WithDispatcher(nopDispatcher{}))
	must(t, err)

	tree := func(n int) dsl.Builder {
		b := dsl.Sign("task-0").With(dsl.KW{"a": 1})
		for i := 1; i <= n; i++ {
			b = b.OnSuccess(dsl.Sign(fmt.Sprintf("task-%d", i)).With(dsl.KW{"i": i}))
		}
		return b
	}
	if _, err := tree(10).Save(ctx, producer); err != nil {
		t.Fatal(err)
	}
	if n := rt.Reset(); n != 2 {
		t.Fatalf("cold Save took %d round trips, want 2 (registry read + write)", n)
	}
	for _, callbacks := range []int{0, 2, 10} {
		if _, err := tree(callbacks).Save(ctx, producer); err != nil {
			t.Fatal(err)
		}
		if n := rt.Reset(); n != 1 {
			t.Fatalf("warm Save with %d callbacks took %d round trips, want 1", callbacks, n)
		}
	}
	// Refs cost one more round trip, for all of them together.
	a, _ := dsl.Sign("task-1").Save(ctx, producer)
	b, _ := dsl.Sign("task-2").Save(ctx, producer)
	rt.Reset()
	if _, err := dsl.Sign("task-0").OnSuccess(a, b.Ref()).Save(ctx, producer); err != nil {
		t.Fatal(err)
	}
	if n := rt.Reset(); n != 2 {
		t.Fatalf("Save with two refs took %d round trips, want 2", n)
	}
}
