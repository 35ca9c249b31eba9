package redisstore

import (
	"context"
	"testing"
	"time"
)

// The engine-settled set keeps each member's first dispatch time, reports its oldest,
// forgets what is removed and, on the next add, members older than the active TTL.
func TestEngineSettledSet(t *testing.T) {
	each(t, func(t *testing.T, b backend) { testEngineSettledSet(t, b) })
}

func testEngineSettledSet(t *testing.T, b backend) {
	ctx := context.Background()
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.UnixMilli(time.Now().UnixMilli())
	if _, ok, err := b.store.OldestEngineSettled(ctx); err != nil || ok {
		t.Fatalf("empty set: ok=%v err=%v", ok, err)
	}
	must(t, b.store.WatchEngineSettled(ctx, t0, "a", "b"))
	must(t, b.store.WatchEngineSettled(ctx, t0.Add(time.Second), "a", "c"))
	oldest, ok, err := b.store.OldestEngineSettled(ctx)
	if err != nil || !ok || !oldest.Equal(t0) {
		t.Fatalf("oldest = %v %v %v, want %v", oldest, ok, err, t0)
	}
	must(t, b.store.UnwatchEngineSettled(ctx, "a", "b"))
	if oldest, _, _ := b.store.OldestEngineSettled(ctx); !oldest.Equal(t0.Add(time.Second)) {
		t.Fatalf("after removing a and b, oldest = %v, want c's %v", oldest, t0.Add(time.Second))
	}
	if ttl := b.store.Redis().PTTL(ctx, b.store.engineSettledKey()).Val(); ttl <= 0 {
		t.Fatalf("engine-settled set has no TTL (%v)", ttl)
	}
	must(t, b.store.WatchEngineSettled(ctx, t0.Add(b.store.activeTTL+2*time.Second), "d"))
	if oldest, _, _ := b.store.OldestEngineSettled(ctx); !oldest.Equal(t0.Add(b.store.activeTTL + 2*time.Second)) {
		t.Fatalf("a member older than the active TTL was kept: oldest %v", oldest)
	}
}
