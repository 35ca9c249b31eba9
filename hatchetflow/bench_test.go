package hatchetflow_test

import (
	"context"
	"testing"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type (
	benchIn struct {
		OrderID     string `json:"order_id"`
		Priority    string `json:"priority"`
		Region      string `json:"region"`
		MaxAttempts int    `json:"max_attempts"`
	}
	benchOut struct {
		OrderID string  `json:"order_id"`
		Total   float64 `json:"total"`
	}
	benchCallbackIn struct {
		TaskResult inject.ReturnValue[benchOut] `json:"task_result"`
		Template   string                       `json:"template"`
	}
	benchErrorIn struct {
		benchIn
		Err *inject.TaskError `json:"error"`
	}
)

// benchNoDispatch is a dispatcher that triggers nothing (SaveSignature never
// dispatches).
type benchNoDispatch struct{}

func (benchNoDispatch) Dispatch(context.Context, string, map[string]any, map[string]string) (string, error) {
	return "run", nil
}

// benchTasks registers the three tasks of the benchmark tree on c.
func benchTasks(b *testing.B, c *hatchetflow.Client) (*hatchetflow.Task[benchIn, benchOut], *hatchetflow.Task[benchCallbackIn, any], *hatchetflow.Task[benchErrorIn, any]) {
	b.Helper()
	parent, err := hatchetflow.NewTask(c, "bench-parent", func(_ hatchet.Context, in benchIn) (benchOut, error) {
		return benchOut{OrderID: in.OrderID, Total: 42}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cb, err := hatchetflow.NewTask(c, "bench-callback", func(hatchet.Context, benchCallbackIn) (any, error) { return nil, nil })
	if err != nil {
		b.Fatal(err)
	}
	onErr, err := hatchetflow.NewTask(c, "bench-on-error", func(hatchet.Context, benchErrorIn) (any, error) { return nil, nil })
	if err != nil {
		b.Fatal(err)
	}
	return parent, cb, onErr
}

// benchTree is a signature with 3 kwargs and n callbacks (success and error
// alternately), each callback with one kwarg.
func benchTree(parent, cb, onErr any, n int) dsl.Builder {
	t := dsl.Sign(parent).With(dsl.KW{"priority": "high", "region": "eu-west-1", "max_attempts": 3})
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			t = t.OnSuccess(dsl.Sign(cb).With(dsl.KW{"template": "welcome"}))
		} else {
			t = t.OnError(dsl.Sign(onErr).With(dsl.KW{"priority": "low"}))
		}
	}
	return t
}

func benchClient(b *testing.B, opts ...hatchetflow.Option) (*hatchetflow.Client, redis.UniversalClient) {
	b.Helper()
	mr := miniredis.RunT(b)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	c, err := hatchetflow.New(nil, rdb, append(opts, hatchetflow.WithDispatcher(benchNoDispatch{}))...)
	if err != nil {
		b.Fatal(err)
	}
	return c, rdb
}

func benchSave(b *testing.B, n int) {
	c, _ := benchClient(b)
	parent, cb, onErr := benchTasks(b, c)
	tree := benchTree(parent, cb, onErr, n)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tree.Save(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveSignature saves a signature with 3 kwargs and 2 callbacks (one
// success, one error) on miniredis, with the tasks registered on the client: kwargs
// checks against each schema, ids, encoding and one MULTI/EXEC.
func BenchmarkSaveSignature(b *testing.B) { benchSave(b, 2) }

// BenchmarkSaveSignature0 saves a signature with 3 kwargs and no callbacks.
func BenchmarkSaveSignature0(b *testing.B) { benchSave(b, 0) }

// BenchmarkSaveSignature10 saves a signature with 3 kwargs and 10 callbacks.
func BenchmarkSaveSignature10(b *testing.B) { benchSave(b, 10) }

// BenchmarkSaveSignatureProducer saves the 2-callback tree from a producer client
// that knows the tasks only through the Redis registry (cached after the first Save).
func BenchmarkSaveSignatureProducer(b *testing.B) {
	worker, rdb := benchClient(b)
	benchTasks(b, worker)
	ctx := context.Background()
	if err := worker.RegisterTasks(ctx); err != nil {
		b.Fatal(err)
	}
	producer, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(benchNoDispatch{}))
	if err != nil {
		b.Fatal(err)
	}
	tree := benchTree("bench-parent", "bench-callback", "bench-on-error", 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tree.Save(ctx, producer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlowtestRunWithCallback runs a signature with one success callback end
// to end in memory (flowtest on miniredis): save, dispatch, the parent's main step
// (start, user function, finish, fast-path dispatch, markers), then the callback's
// main step. Everything but the engine.
func BenchmarkFlowtestRunWithCallback(b *testing.B) {
	h := flowtest.New(b)
	h.Quiet()
	parent, cb, _ := benchTasks(b, h.Client)
	sig := dsl.Sign(parent).With(dsl.KW{"priority": "high", "region": "eu-west-1", "max_attempts": 3}).
		OnSuccess(dsl.Sign(cb).With(dsl.KW{"template": "welcome"}))
	ctx := context.Background()
	in := map[string]any{"order_id": "ord-1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sig.Run(ctx, h.Client, in); err != nil {
			b.Fatal(err)
		}
		h.Drain(ctx)
	}
}
