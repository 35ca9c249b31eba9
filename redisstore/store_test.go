package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/internal/rtcount"
)

// backend is one Redis the store tests run on.
type backend struct {
	name  string
	store *Store
	rt    *rtcount.Counter
	mini  *miniredis.Miniredis // nil on real Redis
	// nodes is how many servers a multi-slot pipeline may reach: one round trip per
	// node, sent in parallel (1 except on Redis Cluster).
	nodes int64
}

// backends returns miniredis and, when REDIS_URL is set, real Redis (with a prefix of
// its own that is removed afterwards).
func backends(t *testing.T, opts ...Option) []backend {
	t.Helper()
	mr := miniredis.RunT(t)
	// miniredis parses every script call again (gopher-lua): a pipeline of 10,000 saves
	// takes seconds there, not milliseconds, so its client waits longer than go-redis's 3 s.
	mrc := redis.NewClient(&redis.Options{Addr: mr.Addr(), ReadTimeout: time.Minute})
	t.Cleanup(func() { _ = mrc.Close() })
	c1 := &rtcount.Counter{}
	mrc.AddHook(c1)
	out := []backend{{"miniredis", New(mrc, opts...), c1, mr, 1}}
	if url := os.Getenv("REDIS_URL"); url != "" {
		o, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		rc := redis.NewClient(o)
		if err := rc.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("REDIS_URL %s does not answer: %v", url, err)
		}
		prefix := fmt.Sprintf("hftest-%d", time.Now().UnixNano())
		c2 := &rtcount.Counter{}
		rc.AddHook(c2)
		t.Cleanup(func() {
			ctx := context.Background()
			iter := rc.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				rc.Del(ctx, iter.Val())
			}
			_ = rc.Close()
		})
		out = append(out, backend{"redis", New(rc, append(opts, WithPrefix(prefix))...), c2, nil, 1})
	}
	if addrs, ok := clusterAddrs(t); ok {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		if err := cc.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("cluster: %v", err)
		}
		prefix := fmt.Sprintf("hfcluster-%d", time.Now().UnixNano())
		c3 := &rtcount.Counter{}
		cc.AddHook(c3)
		t.Cleanup(func() { _ = cc.Close() })
		out = append(out, backend{"cluster", New(cc, append(opts, WithPrefix(prefix))...), c3, nil, int64(len(addrs))})
	}
	return out
}

func each(t *testing.T, fn func(t *testing.T, b backend), opts ...Option) {
	for _, b := range backends(t, opts...) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

func newRec(t *testing.T, task string, kw map[string]any) *Record {
	t.Helper()
	id, err := NewID()
	if err != nil {
		t.Fatal(err)
	}
	return &Record{ID: id, Task: task, Kwargs: kw, ReturnField: "mageflow_results", CreatedAt: time.Now()}
}

func TestSaveTreeOneRoundTripAllKeysWithTTL(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		var recs []*Record
		var refs []CallbackRef
		for i := 0; i < 10; i++ {
			cb := newRec(t, fmt.Sprintf("cb-%d", i), map[string]any{"i": i})
			recs = append(recs, cb)
			refs = append(refs, CallbackRef{ID: cb.ID, Task: cb.Task, ReturnField: "r"})
		}
		root := newRec(t, "root", map[string]any{"priority": "high", "n": map[string]any{"x": 1.5}})
		root.OnSuccess = refs[:6]
		root.OnError = refs[6:]
		recs = append(recs, root)

		if err := b.store.LoadScripts(ctx); err != nil { // steady state: scripts loaded
			t.Fatal(err)
		}
		b.rt.Reset()
		if err := b.store.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n < 1 || n > b.nodes {
			t.Fatalf("SaveTree of 11 signatures took %d round trips, want 1 per node (%d)", n, b.nodes)
		}
		got, err := b.store.Get(ctx, root.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Task != "root" || got.Status != flowtype.StatusPending || len(got.OnSuccess) != 6 || len(got.OnError) != 4 ||
			got.OnSuccess[2] != refs[2] || got.Kwargs["priority"] != "high" ||
			got.Kwargs["n"].(map[string]any)["x"] != 1.5 || got.CreatedAt.IsZero() {
			t.Fatalf("record = %+v", got)
		}
		rdb := b.store.Redis()
		for _, r := range recs {
			for _, k := range []string{b.store.SignatureKey(r.ID), b.store.KwargsKey(r.ID)} {
				ttl := rdb.PTTL(ctx, k).Val()
				if ttl <= 0 || ttl > defaultActiveTTL {
					t.Fatalf("key %s TTL %v, want (0, 24h]", k, ttl)
				}
			}
		}
	})
}

func TestGetMissing(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		_, err := b.store.Get(context.Background(), "0190f2a0-0000-7000-8000-000000000000")
		var nf *NotFoundError
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.ID == "" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStartTransitions(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		r := newRec(t, "task", map[string]any{"a": "b"})
		if err := b.store.SaveTree(ctx, []*Record{r}); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		out, rec, err := b.store.Start(ctx, r.ID, "run-1", 1)
		if err != nil || out != Started || rec.Status != flowtype.StatusActive || rec.LastStatus != flowtype.StatusPending ||
			rec.RunID != "run-1" || rec.Kwargs["a"] != "b" {
			t.Fatalf("Start = %v %+v %v", out, rec, err)
		}
		if n := b.rt.Reset(); n > 2 { // EVALSHA, plus EVAL once if the script was not loaded yet
			t.Fatalf("Start took %d round trips", n)
		}
		if out, _, _ := b.store.Start(ctx, r.ID, "run-1", 1); out != Resumed {
			t.Fatalf("same run again = %v, want resumed", out)
		}
		if n := b.rt.Reset(); n != 1 {
			t.Fatalf("warm Start took %d round trips, want 1", n)
		}
		if out, _, _ := b.store.Start(ctx, r.ID, "run-2", 1); out != Busy {
			t.Fatalf("other run = %v, want busy", out)
		}
		if _, err := b.store.Finish(ctx, r.ID, "run-1", json.RawMessage(`[1,2]`), nil); err != nil {
			t.Fatal(err)
		}
		out, rec, _ = b.store.Start(ctx, r.ID, "run-1", 1)
		if out != AlreadyDone || string(rec.Result) != `[1,2]` {
			t.Fatalf("after done = %v %s", out, rec.Result)
		}
		_, _, err = b.store.Start(ctx, "0190f2a0-0000-7000-8000-00000000dead", "run-1", 1)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing = %v", err)
		}
	})
}

func TestFinishAndFailRules(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		pending := newRec(t, "p", nil)
		active := newRec(t, "a", map[string]any{"k": 1})
		if err := b.store.SaveTree(ctx, []*Record{pending, active}); err != nil {
			t.Fatal(err)
		}
		// pending→done is refused: a signature must start first.
		_, err := b.store.Finish(ctx, pending.ID, "run-1", json.RawMessage(`1`), nil)
		var te *TransitionError
		if !errors.Is(err, ErrTransition) || !errors.As(err, &te) || te.From != flowtype.StatusPending || te.To != flowtype.StatusDone {
			t.Fatalf("finish pending = %v", err)
		}
		if _, _, err := b.store.Start(ctx, active.ID, "run-1", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.Finish(ctx, active.ID, "run-2", nil, nil); !errors.Is(err, ErrTransition) {
			t.Fatalf("finish by another run = %v", err)
		}
		if _, err := b.store.Fail(ctx, active.ID, "run-2", "x"); !errors.Is(err, ErrTransition) {
			t.Fatalf("fail by another run = %v", err)
		}
		tr, err := b.store.Finish(ctx, active.ID, "run-1", json.RawMessage(`{"ok":true}`), nil)
		if err != nil || tr.Repeated || tr.Record.Status != flowtype.StatusDone || tr.Record.LastStatus != flowtype.StatusActive {
			t.Fatalf("finish = %+v %v", tr, err)
		}
		tr, err = b.store.Finish(ctx, active.ID, "run-1", json.RawMessage(`{"ok":false}`), nil)
		if err != nil || !tr.Repeated || string(tr.Record.Result) != `{"ok":true}` {
			t.Fatalf("repeat finish = %+v %v", tr, err)
		}
		if _, err := b.store.Fail(ctx, active.ID, "run-1", "late"); !errors.Is(err, ErrTransition) {
			t.Fatalf("done→failed = %v", err)
		}
		for _, k := range []string{b.store.SignatureKey(active.ID), b.store.KwargsKey(active.ID)} {
			if ttl := b.store.Redis().PTTL(ctx, k).Val(); ttl <= 0 || ttl > defaultDoneTTL {
				t.Fatalf("done key %s TTL %v, want (0, 3h]", k, ttl)
			}
		}
		// pending→failed is allowed (the run failed before it started).
		tr, err = b.store.Fail(ctx, pending.ID, "run-9", "schedule timeout")
		if err != nil || tr.Record.Status != flowtype.StatusFailed || tr.Record.Error != "schedule timeout" || tr.Record.RunID != "run-9" {
			t.Fatalf("fail pending = %+v %v", tr, err)
		}
		if tr, err := b.store.Fail(ctx, pending.ID, "run-9", "again"); err != nil || !tr.Repeated {
			t.Fatalf("repeat fail = %+v %v", tr, err)
		}
	})
}

func TestMarkDispatchedAndDeadBranch(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dead := newRec(t, "never", nil)
		parent := newRec(t, "parent", nil)
		if err := b.store.SaveTree(ctx, []*Record{dead, parent}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		err := b.store.MarkDispatched(ctx, parent.ID, flowtype.OutcomeSuccess, map[string]string{"cb-1": "run-a", "cb-2": "run-b"}, nil, []string{dead.ID}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n < 1 || n > b.nodes {
			t.Fatalf("MarkDispatched took %d round trips, want 1 per node (%d)", n, b.nodes)
		}
		rec, _ := b.store.Get(ctx, parent.ID)
		if rec.Dispatched["success:cb-1"] != "run-a" || rec.Dispatched["success:cb-2"] != "run-b" {
			t.Fatalf("markers = %v", rec.Dispatched)
		}
		if ttl := b.store.Redis().PTTL(ctx, b.store.SignatureKey(dead.ID)).Val(); ttl > defaultDoneTTL {
			t.Fatalf("dead branch TTL %v not lowered", ttl)
		}
		// A marker for a record that expired must not create a key without TTL.
		gone := "0190f2a0-0000-7000-8000-00000000beef"
		if err := b.store.MarkDispatched(ctx, gone, flowtype.OutcomeError, map[string]string{"cb": "r"}, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if n := b.store.Redis().Exists(ctx, b.store.SignatureKey(gone)).Val(); n != 0 {
			t.Fatal("marker created a record")
		}
	}, WithDoneTTL(time.Hour))
}

func TestDeadBranchTTLIsNeverRaised(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cb := newRec(t, "cb", nil)
		if err := b.store.SaveTree(ctx, []*Record{cb}); err != nil {
			t.Fatal(err)
		}
		b.store.Redis().Expire(ctx, b.store.SignatureKey(cb.ID), time.Minute)
		if err := b.store.MarkDispatched(ctx, "p", flowtype.OutcomeSuccess, nil, nil, []string{cb.ID}, nil); err != nil {
			t.Fatal(err)
		}
		if ttl := b.store.Redis().TTL(ctx, b.store.SignatureKey(cb.ID)).Val(); ttl > time.Minute {
			t.Fatalf("TTL raised to %v", ttl)
		}
	})
}

func TestUpdateKwargsConcurrentLosesNothing(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		r := newRec(t, "t", nil) // no kwargs key yet: the first update creates it with a TTL
		if err := b.store.SaveTree(ctx, []*Record{r}); err != nil {
			t.Fatal(err)
		}
		const n = 100
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs <- b.store.UpdateKwargs(ctx, r.ID, map[string]any{fmt.Sprintf("k%03d", i): i}, 0)
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _ := b.store.Get(ctx, r.ID)
		if len(got.Kwargs) != n {
			t.Fatalf("%d kwargs after %d concurrent updates", len(got.Kwargs), n)
		}
		for i := 0; i < n; i++ {
			if got.Kwargs[fmt.Sprintf("k%03d", i)] != float64(i) {
				t.Fatalf("k%03d = %v", i, got.Kwargs[fmt.Sprintf("k%03d", i)])
			}
		}
		if ttl := b.store.Redis().PTTL(ctx, b.store.KwargsKey(r.ID)).Val(); ttl <= 0 {
			t.Fatalf("kwargs key TTL %v", ttl)
		}
		err := b.store.UpdateKwargs(ctx, "0190f2a0-0000-7000-8000-00000000f00d", map[string]any{"a": 1}, 0)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("update missing = %v", err)
		}
		if n := b.store.Redis().Exists(ctx, b.store.KwargsKey("0190f2a0-0000-7000-8000-00000000f00d")).Val(); n != 0 {
			t.Fatal("update of a missing signature created its kwargs key")
		}
	})
}

func TestRegistry(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		defs := []TaskDef{
			{Name: "a", Schema: json.RawMessage(`{"type":"object"}`), ReturnField: "task_result", Retries: 2},
			{Name: "b", ReturnField: "mageflow_results", ErrorField: "error"},
		}
		if err := b.store.RegisterTasks(ctx, defs); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.LookupTasks(ctx, []string{"a", "b", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["a"].Retries != 2 || got["a"].ReturnField != "task_result" ||
			string(got["a"].Schema) != `{"type":"object"}` || got["b"].ErrorField != "error" {
			t.Fatalf("lookup = %+v", got)
		}
		if ttl := b.store.Redis().TTL(ctx, b.store.RegistryKey()).Val(); ttl != -1 {
			t.Fatalf("registry TTL = %v, want none", ttl)
		}
	})
}

func TestTTLsAgeOut(t *testing.T) {
	b := backends(t, WithActiveTTL(time.Hour), WithDoneTTL(time.Minute))[0] // miniredis: FastForward
	ctx := context.Background()
	r := newRec(t, "t", map[string]any{"a": 1})
	if err := b.store.SaveTree(ctx, []*Record{r}); err != nil {
		t.Fatal(err)
	}
	b.store.Start(ctx, r.ID, "run", 1)
	b.store.Finish(ctx, r.ID, "run", json.RawMessage(`1`), nil)
	b.mini.FastForward(2 * time.Minute)
	if _, err := b.store.Get(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("done signature still there after its done TTL: %v", err)
	}
}

func TestIDs(t *testing.T) {
	a, _ := NewID()
	b, _ := NewID()
	if !ValidID(a) || a >= b {
		t.Fatalf("ids %s %s: want valid and increasing", a, b)
	}
	for _, bad := range []string{"", "x", "../../etc", "0190f2a0000070008000000000000000"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestRedisDownIsTypedAndRetryable(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	s := New(rdb)
	ctx := context.Background()
	r := newRec(t, "t", nil)
	mr.Close()
	err := s.SaveTree(ctx, []*Record{r})
	var oe *OpError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &oe) || oe.Op != "save 1 signatures" {
		t.Fatalf("SaveTree with Redis down = %v, want ErrUnavailable", err)
	}
	if _, _, err := s.Start(ctx, r.ID, "run", 1); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start with Redis down = %v", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTree(ctx, []*Record{r}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := s.Get(ctx, r.ID); err != nil {
		t.Fatalf("nothing lost: %v", err)
	}
}

func TestScriptsLoadOnDemandAfterFlush(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// As after a Redis restart: no script is loaded (on any node).
		if cc, ok := b.store.Redis().(*redis.ClusterClient); ok {
			if err := cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error { return c.ScriptFlush(ctx).Err() }); err != nil {
				t.Fatal(err)
			}
		} else if err := b.store.Redis().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		r := newRec(t, "t", map[string]any{"a": 1})
		if err := b.store.SaveTree(ctx, []*Record{r}); err != nil {
			t.Fatalf("save after SCRIPT FLUSH: %v", err)
		}
		if err := b.store.MarkDispatched(ctx, r.ID, flowtype.OutcomeSuccess, map[string]string{"cb": "run"}, nil, nil, nil); err != nil {
			t.Fatalf("mark after SCRIPT FLUSH: %v", err)
		}
		got, err := b.store.Get(ctx, r.ID)
		if err != nil || got.Kwargs["a"] != float64(1) || got.Dispatched["success:cb"] != "run" {
			t.Fatalf("after reload: %+v, %v", got, err)
		}
	})
}
