package redisstore

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkSaveOneSignature saves one signature per iteration (its record, kwargs and
// index entries: one script) on real Redis (REDIS_URL), in pipelines of 100, the way a
// tree save sends them. It reports what the indexes add to Redis's work per save.
func BenchmarkSaveOneSignature(b *testing.B) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		b.Skip("needs REDIS_URL")
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	rc := redis.NewClient(o)
	defer rc.Close()
	s := New(rc, WithPrefix("hfbench-save"))
	ctx := context.Background()
	b.Cleanup(func() {
		iter := rc.Scan(ctx, 0, "hfbench-save:*", 1000).Iterator()
		for iter.Next(ctx) {
			rc.Del(ctx, iter.Val())
		}
	})
	recs := make([]*Record, 0, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id, _ := NewID()
		recs = append(recs, &Record{ID: id, Task: "t", Kwargs: map[string]any{"a": 1}, ReturnField: "mageflow_results", Root: true})
		if len(recs) == cap(recs) || i == b.N-1 {
			if err := s.SaveTree(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}
