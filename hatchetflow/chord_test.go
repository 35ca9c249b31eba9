package hatchetflow_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

// Chord rules: a swarm followed by a step is a chord (Celery's name), whose error
// callbacks are a decade of bug reports there. Here a swarm that stops after a failing
// item fires its own error callback exactly once and its success callback never; the
// chain step after it never starts; the chain's error callback fires exactly once. The
// same holds when several items fail (one of them stops the swarm; the others change
// nothing) and when items are still running at the stop.
func TestChordRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail []int
		conc int
	}{
		{"one item fails, one at a time", []int{2}, 1},
		{"three items fail, all running at once", []int{1, 2, 3}, 4},
		{"the last item fails", []int{4}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSwarmFlow(t)
			f.h.AllowFailures()
			ctx := context.Background()
			var chainErrs []SwarmFailure
			_, err := hatchetflow.NewTask(f.h.Client, "chain-failed", func(_ hatchet.Context, in SwarmFailure) (any, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				chainErrs = append(chainErrs, in)
				return nil, nil
			})
			must(t, err)
			for _, n := range tc.fail {
				f.fail[n] = true
			}
			sw := dsl.Swarm(sq(1), sq(2), sq(3), sq(4)).MaxConcurrency(tc.conc).StopAfter(1).
				OnSuccess(dsl.Sign("sum-list")).OnError(dsl.Sign("swarm-failed"))
			ch := dsl.Chain(sw, dsl.Sign("sum-list")).OnError(dsl.Sign("chain-failed"))
			h, err := ch.Run(ctx, f.h.Client, map[string]any{"n": 7})
			must(t, err)
			_, err = h.Wait(ctx)
			if !errors.Is(err, hatchetflow.ErrRunFailed) {
				t.Fatalf("chain Wait = %v, want a failure", err)
			}
			f.h.Drain(ctx)
			// Again: a later look changes nothing.
			f.h.Drain(ctx)
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.lists) != 0 {
				t.Errorf("a success branch ran (the swarm's callback or the chain's next step): %v", f.lists)
			}
			if len(f.failures) != 1 {
				t.Fatalf("the swarm's error callback ran %d times, want once", len(f.failures))
			}
			if fl := f.failures[0].Failure; fl == nil || fl.Task != hatchetflow.SwarmTask || fl.Failures != 1 {
				t.Errorf("the swarm's error callback got %+v, want the swarm's failure after 1 item", fl)
			}
			if len(chainErrs) != 1 {
				t.Fatalf("the chain's error callback ran %d times, want once", len(chainErrs))
			}
			if fl := chainErrs[0].Failure; fl == nil || fl.ChainID != h.SignatureID() || chainErrs[0].N != 7 {
				t.Errorf("the chain's error callback got %+v (n %d), want the chain's failure and its input n=7", fl, chainErrs[0].N)
			}
			f.h.RequireStatus(t, h.SignatureID(), hatchetflow.StatusFailed)
			if got := fmt.Sprint(f.squared); len(f.squared) > 4 {
				t.Errorf("items ran %s: an item ran twice", got)
			}
		})
	}
}
