package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// inTaskFlow registers a parent task that runs and saves child signatures from inside
// its handler and fails on its first attempt, and the child task.
type inTaskFlow struct {
	h                       *flowtest.Harness
	childCalls, parentCalls atomic.Int32
	children                chan string // signature ids the parent got, per attempt
}

func newInTaskFlow(t *testing.T) *inTaskFlow {
	t.Helper()
	f := &inTaskFlow{h: flowtest.New(t), children: make(chan string, 16)}
	f.h.Quiet()
	f.h.ExpectFailure("parent") // its first attempt fails on purpose
	must(t, registerInTask(f)(f.h.Client))
	return f
}

func registerInTask(f *inTaskFlow) func(c *hatchetflow.Client) error {
	return func(c *hatchetflow.Client) error {
		if _, err := hatchetflow.NewTask(c, "child", func(_ hatchet.Context, in map[string]any) (any, error) {
			f.childCalls.Add(1)
			return nil, nil
		}); err != nil {
			return err
		}
		_, err := hatchetflow.NewTask(c, "parent", func(ctx hatchet.Context, in map[string]any) (any, error) {
			f.parentCalls.Add(1)
			tb := c.InTask(ctx)
			h, err := dsl.Sign("child").With(dsl.KW{"n": 1}).Run(ctx, tb, map[string]any{})
			if err != nil {
				return nil, err
			}
			saved, err := dsl.Sign("child").Save(ctx, tb.Key("later"))
			if err != nil {
				return nil, err
			}
			f.children <- h.SignatureID() + " " + h.RunID() + " " + saved.ID
			if ctx.RetryCount() == 0 {
				return nil, errors.New("first attempt fails after running its child")
			}
			return nil, nil
		}, hatchetflow.WithRetries(1))
		return err
	}
}

func TestSigningInsideARetriedTask(t *testing.T) {
	f := newInTaskFlow(t)
	ctx := context.Background()
	before := len(recordKeys(f.h.Redis.Keys()))
	_, err := dsl.Sign("parent").Run(ctx, f.h.Client, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	first, second := <-f.children, <-f.children
	if f.parentCalls.Load() != 2 || first != second {
		t.Fatalf("parent ran %d times; attempts got %q and %q, want the same ids and run", f.parentCalls.Load(), first, second)
	}
	if n := f.childCalls.Load(); n != 1 {
		t.Fatalf("child user code ran %d times, want 1", n)
	}
	if n := len(f.h.Runs("child")); n != 1 {
		t.Fatalf("%d child runs dispatched, want 1", n)
	}
	// parent + its kwargs-less record, child run signature (2 keys: it has kwargs), saved
	// child: one set of keys each, whatever the number of attempts.
	if after := len(recordKeys(f.h.Redis.Keys())); after-before != 4 {
		t.Fatalf("the two attempts wrote %d keys, want 4 (no duplicates)", after-before)
	}
}

// recordKeys drops the index keys (":ix" in their name) from keys.
func recordKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		if !strings.Contains(k, ":ix") {
			out = append(out, k)
		}
	}
	return out
}

// A swarm run from inside a task takes the same run path as one from the client: it
// starts, and its handle waits for the swarm's end (its results in item order), not
// for the start run.
func TestSwarmRunInsideATask(t *testing.T) {
	f := newSwarmFlow(t)
	c := f.h.Client
	handles := make(chan dsl.Handle, 1)
	_, err := hatchetflow.NewTask(c, "fan-out", func(ctx hatchet.Context, _ map[string]any) (any, error) {
		h, err := dsl.Swarm(dsl.Sign("sq").With(dsl.KW{"n": 2}), dsl.Sign("sq").With(dsl.KW{"n": 3})).
			Run(ctx, c.InTask(ctx), map[string]any{})
		if err != nil {
			return nil, err
		}
		handles <- h
		return nil, nil
	})
	must(t, err)
	ctx := context.Background()
	_, err = dsl.Sign("fan-out").Run(ctx, c, map[string]any{})
	must(t, err)
	f.h.Drain(ctx)
	var h dsl.Handle
	select {
	case h = <-handles:
	default:
		t.Fatal("the task's swarm run failed (see the harness log)")
	}
	out, err := h.Wait(ctx)
	must(t, err)
	var got []int
	must(t, json.Unmarshal(out, &got))
	if fmt.Sprint(got) != "[4 9]" {
		t.Fatalf("swarm handle from a task waited for %s, want the swarm's results [4 9]", out)
	}
}
