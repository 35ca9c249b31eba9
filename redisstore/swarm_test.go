package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// saveSwarm saves a swarm record with n items (their records too) and returns its id
// and the items' ids.
func saveSwarm(t *testing.T, s *Store, n int, cfg SwarmConfig) (string, []string) {
	t.Helper()
	ctx := context.Background()
	id, _ := NewID()
	var recs []*Record
	var items []CallbackRef
	var ids []string
	for i := 0; i < n; i++ {
		iid, _ := NewID()
		ids = append(ids, iid)
		recs = append(recs, &Record{ID: iid, Task: "t", Item: &SwarmItemRef{SwarmID: id, Index: i}, CreatedAt: time.Now()})
		items = append(items, CallbackRef{ID: iid, Task: "t", ReturnField: "v"})
	}
	recs = append(recs, &Record{ID: id, Kind: KindSwarm, Task: "hatchetflow-swarm", Swarm: &cfg, Items: items, CreatedAt: time.Now()})
	if err := s.SaveTree(ctx, recs); err != nil {
		t.Fatalf("save: %v", err)
	}
	return id, ids
}

func startSwarm(t *testing.T, s *Store, id string) *ItemEnd {
	t.Helper()
	ctx := context.Background()
	if out, _, err := s.Start(ctx, id, "run-1", 1); err != nil || out != Started {
		t.Fatalf("start: %v %v", out, err)
	}
	end, err := s.SwarmClaim(ctx, id, time.Now().UnixMilli(), []byte(`{"x":1}`))
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return end
}

func TestSwarmTransitions(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.store
		id, ids := saveSwarm(t, s, 5, SwarmConfig{MaxConcurrency: 2, StopAfter: 2, Closed: true})
		rec, err := s.Get(ctx, id)
		if err != nil || rec.Swarm == nil || rec.Swarm.MaxConcurrency != 2 || rec.Counts.Items != 5 {
			t.Fatalf("saved swarm: %+v %v", rec, err)
		}
		item, _ := s.Get(ctx, ids[3])
		if item.Item == nil || item.Item.SwarmID != id || item.Item.Index != 3 {
			t.Fatalf("item record names %+v", item.Item)
		}
		end := startSwarm(t, s, id)
		if len(end.Claimed) != 2 || end.Claimed[0].Index != 0 || end.Claimed[1].Ref.ID != ids[1] || end.Claimed[0].Ref.ReturnField != "v" {
			t.Fatalf("claimed %+v, want items 0 and 1", end.Claimed)
		}
		// Item 0 done: item 2 is claimed in the same transition.
		end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 0}, ids[0], "r0", false, "1", time.Now().UnixMilli())
		if err != nil || len(end.Claimed) != 1 || end.Claimed[0].Index != 2 || string(end.Input) != `{"x":1}` {
			t.Fatalf("end 0: %+v %v", end, err)
		}
		// A duplicate event changes nothing.
		before, _ := s.Get(ctx, id)
		end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 0}, ids[0], "r0", true, "boom", time.Now().UnixMilli())
		after, _ := s.Get(ctx, id)
		if err != nil || !end.Duplicate || before.Counts != after.Counts {
			t.Fatalf("duplicate end: %+v %v; counts %+v → %+v", end, err, before.Counts, after.Counts)
		}
		// A wrong entry id is refused.
		if _, err := s.SwarmItemEnd(ctx, SwarmItemRef{id, 1}, ids[4], "r1", false, "1", 0); err == nil {
			t.Fatalf("end with another item's id accepted")
		}
		// Two failures: the swarm stops at the second; nothing more is claimed.
		if end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 1}, ids[1], "r1", true, "e1", 0); err != nil || end.Stopped || len(end.Claimed) != 1 {
			t.Fatalf("first failure: %+v %v", end, err)
		}
		if end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 2}, ids[2], "r2", true, "e2", 0); err != nil || !end.Stopped || end.Failures != 2 {
			t.Fatalf("second failure: %+v %v", end, err)
		}
		if end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 3}, ids[3], "r3", false, "9", 0); err != nil || end.Stopped || end.Complete || len(end.Claimed) != 0 {
			t.Fatalf("an item ending after the stop: %+v %v", end, err)
		}
		items, err := s.SwarmItems(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		states := fmt.Sprint(items[0].State, items[1].State, items[2].State, items[3].State, items[4].State)
		if states != "donefailedfaileddonequeued" || items[0].RunID != "r0" || items[1].Error != "e1" {
			t.Fatalf("items: %s %+v", states, items)
		}
		if got := string(SwarmResults(items)); got != "[1,null,null,9,null]" {
			t.Fatalf("results %s", got)
		}
		if ttl := s.Redis().PTTL(ctx, s.SwarmItemsKey(id)).Val(); ttl <= 0 {
			t.Fatalf("item hash TTL %v", ttl)
		}
	})
}

// The transition that stops a swarm records the failure count it stopped at ("sf"):
// an item failing after the stop counts in Failed, not in StopFailures.
func TestSwarmStopRecordsItsFailureCount(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.store
		id, ids := saveSwarm(t, s, 3, SwarmConfig{MaxConcurrency: 3, StopAfter: 2, Closed: true})
		if end := startSwarm(t, s, id); len(end.Claimed) != 3 {
			t.Fatalf("claimed %+v, want all 3 items", end.Claimed)
		}
		rec, err := s.Get(ctx, id)
		if err != nil || rec.Counts.StopFailures != 0 {
			t.Fatalf("before the stop: %+v %v, want no stop count", rec.Counts, err)
		}
		if _, err := s.SwarmItemEnd(ctx, SwarmItemRef{id, 0}, ids[0], "r0", true, "e0", 0); err != nil {
			t.Fatal(err)
		}
		end, err := s.SwarmItemEnd(ctx, SwarmItemRef{id, 1}, ids[1], "r1", true, "e1", 0)
		if err != nil || !end.Stopped || end.Failures != 2 {
			t.Fatalf("second failure: %+v %v, want the stop at 2", end, err)
		}
		// Item 2 was running: it fails after the stop.
		if end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 2}, ids[2], "r2", true, "e2", 0); err != nil || end.Stopped {
			t.Fatalf("failure after the stop: %+v %v, want no second stop", end, err)
		}
		rec, err = s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c := rec.Counts; !c.Stopped || c.StopFailures != 2 || c.Failed != 3 {
			t.Fatalf("counts %+v, want stopped at 2 failures with 3 failed now", c)
		}
		if got := s.Redis().HGet(ctx, s.SignatureKey(id), fStopFails).Val(); got != "2" {
			t.Fatalf("%s = %q, want 2", fStopFails, got)
		}
	})
}

func TestSwarmCompletesOnceClosed(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.store
		id, ids := saveSwarm(t, s, 1, SwarmConfig{})
		end := startSwarm(t, s, id)
		if len(end.Claimed) != 1 {
			t.Fatalf("claimed %+v", end.Claimed)
		}
		end, err := s.SwarmItemEnd(ctx, SwarmItemRef{id, 0}, ids[0], "r0", false, `"a"`, 0)
		if err != nil || end.Complete {
			t.Fatalf("open swarm completed: %+v %v", end, err)
		}
		newID, _ := NewID()
		if err := s.SaveTree(ctx, []*Record{{ID: newID, Task: "t", Item: &SwarmItemRef{id, 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SwarmAdd(ctx, id, []CallbackRef{{ID: newID, Task: "t"}}, 5, false, 0); !errors.As(err, new(*SwarmMovedError)) {
			t.Fatalf("add at a wrong index: %v", err)
		}
		first, end, err := s.SwarmAdd(ctx, id, []CallbackRef{{ID: newID, Task: "t"}}, 1, false, 0)
		if err != nil || first != 1 || len(end.Claimed) != 1 {
			t.Fatalf("add: %d %+v %v", first, end, err)
		}
		if end, err = s.SwarmItemEnd(ctx, SwarmItemRef{id, 1}, newID, "r1", false, `"b"`, 0); err != nil || end.Complete {
			t.Fatalf("%+v %v", end, err)
		}
		complete, err := s.SwarmClose(ctx, id)
		if err != nil || !complete {
			t.Fatalf("close: %v %v", complete, err)
		}
		if _, _, err := s.SwarmAdd(ctx, id, []CallbackRef{{ID: newID, Task: "t"}}, -1, false, 0); !errors.Is(err, ErrSwarmClosed) {
			t.Fatalf("add to closed: %v", err)
		}
	})
}

func TestSwarmMaxItems(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		s := b.store
		id, _ := saveSwarm(t, s, 2, SwarmConfig{MaxItems: 2})
		_, _, err := s.SwarmAdd(context.Background(), id, []CallbackRef{{ID: "x", Task: "t"}}, -1, false, 0)
		var full *SwarmFullError
		if !errors.As(err, &full) || full.Max != 2 || full.Items != 2 {
			t.Fatalf("add past max: %v", err)
		}
	})
}

// TestSwarmItemCost measures what one item costs the swarm: Redis round trips of its
// transitions, and bytes of the item hash per item.
func TestSwarmItemCost(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.store
		const n = 200
		id, ids := saveSwarm(t, s, n, SwarmConfig{MaxConcurrency: 10, Closed: true})
		end := startSwarm(t, s, id)
		queue := end.Claimed
		if err := s.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			run := "0193f1d0-0000-7000-8000-00000000000" + fmt.Sprint(it.Index%10)
			e, err := s.SwarmItemEnd(ctx, SwarmItemRef{id, it.Index}, ids[it.Index], run, false, "1", 0)
			if err != nil {
				t.Fatal(err)
			}
			queue = append(queue, e.Claimed...)
		}
		if got := b.rt.N(); got != n {
			t.Errorf("round trips for %d item ends = %d, want 1 per item", n, got)
		}
		if b.mini == nil {
			bytes, err := s.Redis().MemoryUsage(ctx, s.SwarmItemsKey(id), 0).Result() // every field, not a sample
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: item hash %d bytes for %d items: %d bytes per item", b.name, bytes, n, bytes/n)
		}
	})
}

// TestSwarmOfTenThousandItems saves and reads a swarm the size of the bench's: its
// item hash is written in one script (Lua's unpack has a limit it must stay under).
func TestSwarmOfTenThousandItems(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		id, ids := saveSwarm(t, b.store, 10000, SwarmConfig{MaxConcurrency: 100, Closed: true})
		items, err := b.store.SwarmItems(context.Background(), id)
		if err != nil || len(items) != 10000 || items[9999].Ref.ID != ids[9999] {
			t.Fatalf("read %d items, %v", len(items), err)
		}
		if end := startSwarm(t, b.store, id); len(end.Claimed) != 100 {
			t.Fatalf("claimed %d, want 100", len(end.Claimed))
		}
	})
}

func TestCancelSwarmEndsQueuedItemsInOneScript(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		id, ids := saveSwarm(t, b.store, 5, SwarmConfig{MaxConcurrency: 2, Closed: true})
		startSwarm(t, b.store, id)
		cn, err := b.store.Cancel(ctx, id, "stop")
		if err != nil || cn.QueuedFrom != 2 || cn.Previous != flowtype.StatusActive || cn.Record.Status != flowtype.StatusCancelled {
			t.Fatalf("cancel: %+v %v", cn, err)
		}
		items, _ := b.store.SwarmItems(ctx, id)
		for i, it := range items {
			want := ItemFailed
			if i < 2 {
				want = ItemClaimed
			}
			if it.State != want || (want == ItemFailed && it.Error != "stop") {
				t.Errorf("item %d: %s %q, want %s", i, it.State, it.Error, want)
			}
		}
		b.rt.Reset()
		if n, err := b.store.CancelMany(ctx, ids[2:], "stop"); err != nil || n != 3 {
			t.Fatalf("CancelMany: %d %v", n, err)
		}
		if got := b.rt.N(); got < 1 || got > b.nodes {
			t.Errorf("CancelMany of 3 took %d round trips, want one pipeline (one per node)", got)
		}
		if _, err := b.store.Cancel(ctx, id, "again"); !errors.Is(err, ErrTransition) {
			t.Errorf("second cancel: %v", err)
		}
	})
}
