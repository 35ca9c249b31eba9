package redisstore

import (
	"fmt"
	"hash/crc32"
	"testing"
)

// shard computes the CRC-32 in place: the same shard as crc32.ChecksumIEEE, which the
// key layout is defined by.
func TestShardIsCRC32OfTheID(t *testing.T) {
	ids := []string{"", "a", "x:{s00}", "0193a3f0-1c2b-7def-8abc-0123456789ab"}
	for i := 0; i < 1000; i++ {
		id, err := NewID()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if got, want := shard(id), int(crc32.ChecksumIEEE([]byte(id))%IndexShards); got != want {
			t.Fatalf("shard(%q) = %d, want %d", id, got, want)
		}
	}
	s := New(nil, WithPrefix("p"))
	for n := 0; n < IndexShards; n++ {
		if got, want := s.shardBase(n), fmt.Sprintf("p:{s%02x}:", n); got != want {
			t.Fatalf("shard base %d = %q, want %q", n, got, want)
		}
	}
	id := ids[len(ids)-1]
	base := s.shardBase(shard(id))
	keys := s.recordKeys(id)
	if keys[0] != base+id || keys[0] != s.SignatureKey(id) || keys[1] != base+id+":kw" || keys[1] != s.KwargsKey(id) ||
		keys[2] != base+"ix" || keys[2] != s.indexBase(shard(id)) || len(keys) != 3 {
		t.Fatalf("record keys %q", keys)
	}
}
