package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// TestScenariosOnEngine runs what `make demo` runs, on the real engine and Redis, so
// the README's first command stays true.
func TestScenariosOnEngine(t *testing.T) {
	hc := enginetest.Client(t)
	opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := "hfdemo-" + enginetest.Namespace()
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	tk, err := register(c, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := enginetest.Context(t, 2*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(ctx, "demo-test", nil) })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := enginetest.Wait(ctx, w.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	t.Cleanup(func() {
		bg := context.Background()
		iter := rdb.Scan(bg, 0, prefix+":*", 1000).Iterator()
		for iter.Next(bg) {
			rdb.Del(bg, iter.Val())
		}
	})

	start := time.Now()
	var out bytes.Buffer
	d := &demo{c: c, t: tk, rec: rec, out: &out}
	if err := d.run(ctx); err != nil {
		t.Fatalf("%v\noutput so far:\n%s", err, out.String())
	}
	t.Logf("scenarios on the engine took %v\n%s", time.Since(start), out.String())
	for _, want := range []string{`"task_result":{"order_id":"ord-1001","total":30}`, `"mageflow_results":{"order_id":"ord-1001","total":30}`,
		`"reservations":[{"order_id":"ord-3003","warehouse":"north"},{"order_id":"ord-3003","warehouse":"south"},{"order_id":"ord-3003","warehouse":"east"}]`,
		`"additional_field1":12345`, `"processing_mode":"batch"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
}
