package hatchetflow_test

import (
	"context"
	"errors"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// TestListShowsChainsAsTheyRun: a chain's own record (and so ls and the status index)
// follows its steps: done after its last step, failed when a step fails.
func TestListShowsChainsAsTheyRun(t *testing.T) {
	h := flowtest.New(t)
	h.Quiet()
	h.ExpectFailure("boom")
	ctx := context.Background()
	if _, err := hatchetflow.NewTask(h.Client, "ok", func(_ hatchet.Context, _ anyIn) (int, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(h.Client, "boom", func(_ hatchet.Context, _ anyIn) (int, error) {
		return 0, hatchetflow.NonRetryable(errors.New("boom"))
	}); err != nil {
		t.Fatal(err)
	}
	good, err := dsl.Chain(dsl.Sign("ok"), dsl.Sign("ok"), dsl.Sign("ok")).Run(ctx, h.Client, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := dsl.Chain(dsl.Sign("ok"), dsl.Sign("boom"), dsl.Sign("ok")).Run(ctx, h.Client, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := dsl.Chain(dsl.Sign("ok"), dsl.Sign("ok")).Save(ctx, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	status := func(st hatchetflow.Status) []string {
		t.Helper()
		p, err := h.Client.List(ctx, &hatchetflow.ListOptions{Task: "chain", Status: st})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range p.Entries {
			ids = append(ids, e.ID)
			if e.Kind != "chain" || !e.Root {
				t.Fatalf("entry %+v", e)
			}
			if (st == hatchetflow.StatusDone || st == hatchetflow.StatusFailed) && (e.StartedAt == nil || e.EndedAt == nil) {
				t.Fatalf("ended chain without times: %+v", e)
			}
		}
		return ids
	}
	if got := status(hatchetflow.StatusDone); len(got) != 1 || got[0] != good.SignatureID() {
		t.Fatalf("done chains %v, want [%s]", got, good.SignatureID())
	}
	if got := status(hatchetflow.StatusFailed); len(got) != 1 || got[0] != bad.SignatureID() {
		t.Fatalf("failed chains %v, want [%s]", got, bad.SignatureID())
	}
	if got := status(hatchetflow.StatusPending); len(got) != 1 || got[0] != pending.ID {
		t.Fatalf("pending chains %v, want [%s]", got, pending.ID)
	}
	if got := status(hatchetflow.StatusActive); len(got) != 0 {
		t.Fatalf("active chains %v after every run ended", got)
	}
	if err := h.Client.Suspend(ctx, pending.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := status(hatchetflow.StatusSuspended); len(got) != 1 || got[0] != pending.ID {
		t.Fatalf("suspended chains %v, want [%s]", got, pending.ID)
	}
	if err := h.Client.Resume(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	if got := status(hatchetflow.StatusPending); len(got) != 1 || got[0] != pending.ID {
		t.Fatalf("pending chains after resume %v, want [%s]", got, pending.ID)
	}
}
