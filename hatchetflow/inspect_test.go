package hatchetflow_test

import (
	"context"
	"encoding/json"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/rtcount"
	"github.com/hatchetflow/go/testing/flowtest"
)

type anyIn struct {
	R json.RawMessage `json:"mageflow_results,omitempty"`
}

func countNodes(n *hatchetflow.Node) int {
	c := 1
	for _, l := range [][]*hatchetflow.Node{n.Steps, n.Items, n.OnSuccess, n.OnError} {
		for _, x := range l {
			c += countNodes(x)
		}
	}
	return c
}

// TestTreeOfAThousandNodesTakesAHandfulOfRoundTrips reads a tree of 991 nodes: a
// signature whose success callbacks are 10 chains of 49 steps, each step with an
// error callback. Tree reads one pipelined round trip per level.
func TestTreeOfAThousandNodesTakesAHandfulOfRoundTrips(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "work", func(_ hatchet.Context, _ anyIn) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	var chains []dsl.Spec
	for c := 0; c < 10; c++ {
		var steps []dsl.Spec
		for s := 0; s < 49; s++ {
			steps = append(steps, dsl.Sign("work").OnError(dsl.Sign("work")))
		}
		chains = append(chains, dsl.Chain(steps...))
	}
	saved, err := dsl.Sign("work").OnSuccess(chains...).Save(ctx, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	rt := &rtcount.Counter{}
	h.Client.Store().Redis().AddHook(rt)
	tree, err := h.Client.Tree(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, trips := countNodes(tree), rt.N()
	t.Logf("Tree of %d nodes: %d round trips", n, trips)
	if n != 991 {
		t.Fatalf("tree has %d nodes, want 991", n)
	}
	if trips > 5 {
		t.Fatalf("Tree of %d nodes took %d round trips, want at most 5 (one per level)", n, trips)
	}
}
