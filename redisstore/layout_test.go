package redisstore

import (
	"context"
	"errors"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// The first check records the layout with its long TTL; later checks agree; a Redis that
// holds a newer layout is refused with a LayoutError.
func TestCheckLayout(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	s := New(rdb, WithPrefix("lay"))
	ctx := context.Background()
	for range 2 {
		got, err := s.CheckLayout(ctx)
		if err != nil || got != Layout {
			t.Fatalf("CheckLayout = %d, %v; want %d", got, err, Layout)
		}
	}
	if v, _ := mr.Get(s.layoutKey()); v != "1" || mr.TTL(s.layoutKey()) < layoutTTL {
		t.Fatalf("layout key %q (ttl %v), want 1 with a TTL of %v", v, mr.TTL(s.layoutKey()), layoutTTL)
	}
	if err := mr.Set(s.layoutKey(), "2"); err != nil {
		t.Fatal(err)
	}
	_, err := s.CheckLayout(ctx)
	var le *LayoutError
	if !errors.As(err, &le) || !errors.Is(err, ErrLayoutTooNew) || le.Found != 2 || le.Supported != Layout {
		t.Fatalf("CheckLayout on layout 2 = %v", err)
	}
}
