package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// TestScenariosOnEngine runs what `make demo` runs, on the real engine and Redis, so
// the README's first command stays true.
func TestScenariosOnEngine(t *testing.T) {
	hc := enginetest.Client(t)
	prefix := "hfdemo-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	tk, err := register(c, hc, rec)
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

	start := time.Now()
	var out bytes.Buffer
	d := &demo{c: c, t: tk, rec: rec, out: &out}
	if err := d.run(ctx); err != nil {
		t.Fatalf("%v\noutput so far:\n%s", err, out.String())
	}
	t.Logf("scenarios on the engine took %v\n%s", time.Since(start), out.String())
	for _, want := range []string{`"task_result":{"order_id":"ord-1001","total":30}`, `"mageflow_results":{"order_id":"ord-1001","total":30}`,
		`"reservations":[{"order_id":"ord-3003","warehouse":"north"},{"order_id":"ord-3003","warehouse":"south"},{"order_id":"ord-3003","warehouse":"east"}]`,
		`"additional_field1":12345`, `"processing_mode":"batch"`,
		`announce-fulfilment  received {"fulfilment":{"pack":{"order_id":"ord-4004","items":2,"box":"box-2"},"label":{"carrier":"ups","priority":"express"}},"channel":"email"}`,
		`"mageflow_results":{"order_id":"ord-4005","total":10}`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s", want)
		}
	}
}
