package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// listAll pages through q with page size limit and returns the ids in order.
func listAll(t *testing.T, s *Store, q ListQuery) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.After = p.Next
	}
}

func TestListFiltersFollowTransitions(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cb := newRec(t, "notify", nil)
		root := newRec(t, "order", map[string]any{"n": 1})
		root.OnSuccess = []CallbackRef{{ID: cb.ID, Task: "notify", ReturnField: "r"}}
		root.Root = true
		other := newRec(t, "order", nil)
		other.Root = true
		if err := b.store.SaveTree(ctx, []*Record{cb, root, other}); err != nil {
			t.Fatal(err)
		}
		check := func(q ListQuery, want ...string) {
			t.Helper()
			q.Limit = 10
			got := listAll(t, b.store, q)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("List(%+v) = %v, want %v", q, got, want)
			}
		}
		// newest first: other, root, cb were created in the order cb, root, other
		check(ListQuery{}, other.ID, root.ID, cb.ID)
		check(ListQuery{Task: "order"}, other.ID, root.ID)
		check(ListQuery{RootsOnly: true}, other.ID, root.ID)
		check(ListQuery{Task: "notify", RootsOnly: true})
		check(ListQuery{Status: flowtype.StatusPending, Task: "notify"}, cb.ID)

		if _, _, err := b.store.Start(ctx, root.ID, "run-1", 1); err != nil {
			t.Fatal(err)
		}
		check(ListQuery{Status: flowtype.StatusActive}, root.ID)
		check(ListQuery{Status: flowtype.StatusPending}, other.ID, cb.ID)
		if _, err := b.store.Finish(ctx, root.ID, "run-1", json.RawMessage(`7`), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.Cancel(ctx, other.ID, "stop"); err != nil {
			t.Fatal(err)
		}
		check(ListQuery{Status: flowtype.StatusActive})
		check(ListQuery{Status: flowtype.StatusDone}, root.ID)
		check(ListQuery{Status: flowtype.StatusCancelled, Task: "order", RootsOnly: true}, other.ID)
		if _, err := b.store.Suspend(ctx, cb.ID); err != nil {
			t.Fatal(err)
		}
		check(ListQuery{Status: flowtype.StatusSuspended}, cb.ID)
		check(ListQuery{Status: flowtype.StatusPending})
		if _, err := b.store.Resume(ctx, cb.ID); err != nil {
			t.Fatal(err)
		}
		check(ListQuery{Status: flowtype.StatusPending}, cb.ID)

		p, err := b.store.List(ctx, ListQuery{Limit: 10, Task: "order"})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Roots[root.ID] || p.Roots[cb.ID] || p.Records[1].Status != flowtype.StatusDone {
			t.Fatalf("page = %+v", p)
		}
		if r := p.Records[1]; r.StartedAt.IsZero() || r.EndedAt.Before(r.StartedAt) || !p.Records[0].StartedAt.IsZero() || p.Records[0].EndedAt.IsZero() {
			t.Fatalf("timings: done %v..%v, cancelled before start %v..%v", r.StartedAt, r.EndedAt, p.Records[0].StartedAt, p.Records[0].EndedAt)
		}

		if err := b.store.DeleteMany(ctx, []string{root.ID, cb.ID, other.ID}); err != nil {
			t.Fatal(err)
		}
		check(ListQuery{})
		keys := b.store.Redis().Keys(ctx, b.store.keyPattern()).Val()
		for _, k := range keys {
			if strings.Contains(k, ":ix") && !strings.HasSuffix(k, ":ix:exp") {
				if n := b.store.Redis().ZCard(ctx, k).Val(); n != 0 {
					t.Fatalf("index %s keeps %d entries after every record was deleted", k, n)
				}
			}
		}
	})
}

func TestListPagesAndTimeRange(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		start := time.UnixMilli(time.Now().UnixMilli())
		var recs []*Record
		var want []string
		for i := 0; i < 95; i++ {
			r := newRec(t, "bulk", nil)
			r.CreatedAt = start.Add(time.Duration(i/3) * time.Millisecond) // three per ms: ties page correctly
			recs = append(recs, r)
		}
		if err := b.store.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got := listAll(t, b.store, ListQuery{Task: "bulk", Limit: 7})
		if len(got) != 95 {
			t.Fatalf("paged %d records, want 95", len(got))
		}
		seen := map[string]bool{}
		for i, id := range got {
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
			if i > 0 {
				a, _ := b.store.Get(ctx, got[i-1])
				c, _ := b.store.Get(ctx, id)
				if a.CreatedAt.Before(c.CreatedAt) {
					t.Fatalf("not newest first at %d", i)
				}
			}
		}
		for _, r := range recs {
			if !r.CreatedAt.Before(start.Add(10*time.Millisecond)) && r.CreatedAt.Before(start.Add(20*time.Millisecond)) {
				want = append(want, r.ID)
			}
		}
		ranged := listAll(t, b.store, ListQuery{Limit: 4, Since: start.Add(10 * time.Millisecond), Until: start.Add(20 * time.Millisecond)})
		if len(ranged) != len(want) || len(want) != 30 {
			t.Fatalf("time range listed %d, want %d (30)", len(ranged), len(want))
		}
		for _, id := range ranged {
			if !contains(want, id) {
				t.Fatalf("%s is outside the range", id)
			}
		}
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestIndexEntriesNeverOutliveTheirRecords(t *testing.T) {
	b := backends(t, WithActiveTTL(time.Hour), WithDoneTTL(time.Minute))[0] // miniredis: a clock to move
	ctx := context.Background()
	now := time.Now()
	b.mini.SetTime(now)
	keep := newRec(t, "t", nil)
	gone := newRec(t, "t", nil)
	if err := b.store.SaveTree(ctx, []*Record{keep, gone}); err != nil {
		t.Fatal(err)
	}
	b.store.Start(ctx, gone.ID, "run", 1)
	b.store.Finish(ctx, gone.ID, "run", json.RawMessage(`1`), nil) // done TTL: 1 minute
	for _, k := range b.mini.Keys() {
		if b.mini.TTL(k) <= 0 && k != b.store.RegistryKey() {
			t.Fatalf("key %s has no TTL", k)
		}
	}
	b.mini.SetTime(now.Add(2 * time.Minute))
	b.mini.FastForward(2 * time.Minute)
	got := listAll(t, b.store, ListQuery{Limit: 10, Task: "t"})
	if len(got) != 1 || got[0] != keep.ID {
		t.Fatalf("listed %v, want only %s", got, keep.ID)
	}
	for _, k := range b.mini.Keys() {
		if strings.Contains(k, ":ix") {
			m, _ := b.mini.ZMembers(k)
			for _, x := range m {
				if strings.HasSuffix(x, gone.ID) {
					t.Fatalf("index %s still lists the expired %s", k, gone.ID)
				}
			}
		}
	}
	b.mini.SetTime(now.Add(2 * time.Hour))
	b.mini.FastForward(2 * time.Hour)
	if keys := b.mini.Keys(); len(keys) != 0 {
		t.Fatalf("keys left after every TTL: %v", keys)
	}
}

func TestListRefusesBadInput(t *testing.T) {
	b := backends(t)[0]
	if _, err := b.store.List(context.Background(), ListQuery{}); err == nil {
		t.Fatal("a zero limit was accepted")
	}
	_, err := b.store.List(context.Background(), ListQuery{Limit: 1, After: "nope"})
	var ce *cursorError
	if !errors.As(err, &ce) || ce.Cursor != "nope" {
		t.Fatalf("malformed cursor: %v", err)
	}
}

func TestTasksCountsPerTask(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		if err := b.store.RegisterTasks(ctx, []TaskDef{{Name: "b", ReturnField: "r"}, {Name: "a", ReturnField: "r", Retries: 2}}); err != nil {
			t.Fatal(err)
		}
		var recs []*Record
		for i := 0; i < 5; i++ {
			recs = append(recs, newRec(t, []string{"a", "b"}[i%2], nil))
		}
		if err := b.store.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
		defs, counts, err := b.store.Tasks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(defs) != 2 || defs[0].Name != "a" || defs[0].Retries != 2 || counts["a"] != 3 || counts["b"] != 2 {
			t.Fatalf("tasks = %+v, counts %v", defs, counts)
		}
	})
}

// TestListRoundTrips measures a listing: one pipelined round trip per node for the
// shards' list scripts, one for the page's records, on however many records.
func TestListRoundTrips(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		var recs []*Record
		for i := 0; i < 2000; i++ {
			r := newRec(t, fmt.Sprintf("task-%d", i%4), nil)
			recs = append(recs, r)
		}
		if err := b.store.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if err := b.store.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		p, err := b.store.List(ctx, ListQuery{Task: "task-1", Status: flowtype.StatusPending, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n > 2*b.nodes || len(p.Records) != 50 || p.Next == "" {
			t.Fatalf("List took %d round trips (want ≤ %d) for %d records, next %q", n, 2*b.nodes, len(p.Records), p.Next)
		}
	})
}

// TestListOnHundredThousandSignatures stores 100,000 signatures of 10 tasks (real
// Redis only: REDIS_URL) and measures listings: each takes two round trips whatever
// the number stored, and reads only index entries near the page.
func TestListOnHundredThousandSignatures(t *testing.T) {
	var b *backend
	for _, x := range backends(t) {
		if x.name == "redis" {
			b = &x
		}
	}
	if b == nil {
		t.Skip("needs REDIS_URL (real Redis)")
	}
	ctx := context.Background()
	const total = 100_000
	for i := 0; i < total; i += 5000 {
		recs := make([]*Record, 0, 5000)
		for j := i; j < i+5000; j++ {
			r := newRec(t, fmt.Sprintf("task-%d", j%10), nil)
			r.Root = j%3 == 0
			recs = append(recs, r)
		}
		if err := b.store.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	var ixBytes int64
	for n := range IndexShards {
		keys, err := b.store.Redis().Keys(ctx, b.store.indexBase(n)+":*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			ixBytes += b.store.Redis().MemoryUsage(ctx, k, 0).Val()
		}
	}
	t.Logf("indexes: %d bytes per signature (all, status, task, root for a third, expiry)", ixBytes/total)
	cases := []ListQuery{
		{Limit: 50},
		{Limit: 50, Task: "task-3"},
		{Limit: 50, Task: "task-3", Status: flowtype.StatusPending, RootsOnly: true},
		{Limit: 1000, Status: flowtype.StatusPending},
	}
	for _, q := range cases {
		b.rt.Reset()
		start := time.Now()
		p, err := b.store.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		took, n := time.Since(start), b.rt.Reset()
		t.Logf("ls status=%q task=%q roots=%v limit=%d on %d signatures: %d records, %d round trips, %v", q.Status, q.Task, q.RootsOnly, q.Limit, total, len(p.Records), n, took)
		if n != 2 || len(p.Records) != q.Limit || p.Next == "" {
			t.Fatalf("%d round trips (want 2), %d records (want %d), next %q", n, len(p.Records), q.Limit, p.Next)
		}
	}
	// A second page continues where the first ended.
	p1, _ := b.store.List(ctx, ListQuery{Limit: 50, Task: "task-3"})
	p2, err := b.store.List(ctx, ListQuery{Limit: 50, Task: "task-3", After: p1.Next})
	if err != nil || len(p2.Records) != 50 || !p1.Records[49].CreatedAt.After(p2.Records[0].CreatedAt.Add(-time.Millisecond)) {
		t.Fatalf("second page: %v %d", err, len(p2.Records))
	}
	for _, r := range append(p1.Records, p2.Records...) {
		if r.Task != "task-3" {
			t.Fatalf("listed %s of %s", r.ID, r.Task)
		}
	}
}

// A record whose TTL a transition raises (a start long after its save) stays listed as
// long as it lives: the index keys that list it (all, by task, roots) get their TTL
// raised with the record's, not only its status entry.
func TestIndexKeysLiveAsLongAsARecordTheyList(t *testing.T) {
	b := backends(t, WithActiveTTL(time.Hour), WithDoneTTL(time.Minute))[0] // miniredis: a clock to move
	ctx := context.Background()
	now := time.Now()
	b.mini.SetTime(now)
	rec := newRec(t, "late", nil)
	rec.Root = true
	if err := b.store.SaveTree(ctx, []*Record{rec}); err != nil {
		t.Fatal(err)
	}
	// Started 50 minutes after its save: the record lives an hour from now.
	b.mini.SetTime(now.Add(50 * time.Minute))
	b.mini.FastForward(50 * time.Minute)
	if _, _, err := b.store.Start(ctx, rec.ID, "run", 1); err != nil {
		t.Fatal(err)
	}
	recTTL := b.mini.TTL(b.store.SignatureKey(rec.ID))
	base := b.store.indexBase(shard(rec.ID))
	for _, k := range []string{base + ":all", base + ":t:late", base + ":root"} {
		if ttl := b.mini.TTL(k); ttl < recTTL {
			t.Errorf("index %s expires in %v, before the record it lists (%v)", k, ttl, recTTL)
		}
	}
	// Past the save's hour, the record is still listed, by every filter.
	b.mini.SetTime(now.Add(75 * time.Minute))
	b.mini.FastForward(25 * time.Minute)
	for _, q := range []ListQuery{{}, {Task: "late"}, {RootsOnly: true}} {
		q.Limit = 10
		if got := listAll(t, b.store, q); len(got) != 1 || got[0] != rec.ID {
			t.Errorf("List(%+v) = %v, want the live record %s", q, got, rec.ID)
		}
	}
}
