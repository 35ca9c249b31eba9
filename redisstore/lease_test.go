package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func TestLeaseHasOneHolderAtATime(t *testing.T) {
	mr := miniredis.RunT(t)
	s := New(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	ctx := context.Background()
	hold := func(token string) bool {
		t.Helper()
		ok, err := s.HoldLease(ctx, "r", token, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !hold("a") {
		t.Fatal("a free lease was not granted")
	}
	if !hold("a") {
		t.Fatal("the holder does not keep its lease")
	}
	if hold("b") {
		t.Fatal("a second holder took a held lease")
	}
	mr.FastForward(2 * time.Second)
	if !hold("b") || hold("a") {
		t.Fatal("the lease did not pass on once its holder stopped renewing")
	}
	if ttl := mr.TTL(s.leaseKey("r")); ttl <= 0 || ttl > time.Second {
		t.Fatalf("lease TTL %v", ttl)
	}
}
