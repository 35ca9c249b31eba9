package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// chainRecs returns three leaf records of one chain and its container record.
func chainRecs(t *testing.T) (leaves []*Record, container *Record) {
	t.Helper()
	cid, _ := NewID()
	container = &Record{ID: cid, Kind: KindChain, Task: KindChain, CreatedAt: time.Now()}
	for i := 0; i < 3; i++ {
		leaves = append(leaves, newRec(t, "step", map[string]any{"i": i}))
	}
	errCB := newRec(t, "on-chain-error", nil)
	for i, l := range leaves {
		l.Containers = []string{cid}
		l.FirstLeaf = i == 0
		l.ChainErrors = []ContainerCallbackRef{{CallbackRef: CallbackRef{ID: errCB.ID, Task: errCB.Task, ErrorField: "failure"},
			ContainerID: cid, FirstLeafID: leaves[0].ID}}
		if i > 0 {
			leaves[i-1].OnSuccess = []CallbackRef{{ID: l.ID, Task: l.Task, ReturnField: "v"}}
		}
		container.Leaves = append(container.Leaves, l.ID)
	}
	container.Steps = container.Leaves
	return leaves, container
}

func TestChainRecordsRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		leaves, container := chainRecs(t)
		if err := b.store.SaveTree(ctx, []*Record{leaves[2], leaves[1], leaves[0], container}); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.GetMany(ctx, []string{leaves[0].ID, leaves[1].ID, container.ID})
		if err != nil {
			t.Fatal(err)
		}
		c, first, mid := got[container.ID], got[leaves[0].ID], got[leaves[1].ID]
		if c.Kind != KindChain || len(c.Leaves) != 3 || c.Leaves[2] != leaves[2].ID || len(c.Steps) != 3 {
			t.Fatalf("container read back as %+v", c)
		}
		if !first.FirstLeaf || mid.FirstLeaf || len(mid.Containers) != 1 || mid.Containers[0] != container.ID ||
			len(mid.ChainErrors) != 1 || mid.ChainErrors[0].FirstLeafID != leaves[0].ID || mid.ChainErrors[0].ErrorField != "failure" ||
			len(mid.OnSuccess) != 1 || mid.OnSuccess[0].ID != leaves[2].ID {
			t.Fatalf("leaves read back as %+v / %+v", first, mid)
		}
	})
}

// Advancing a chain costs what finishing a signature with one callback costs: one
// round trip for Finish (with the chain's step list), one for markers and TTLs.
func TestChainAdvanceRoundTripsAndTTLs(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		leaves, container := chainRecs(t)
		if err := b.store.SaveTree(ctx, []*Record{leaves[2], leaves[1], leaves[0], container}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.Start(ctx, leaves[0].ID, "run-1", 1); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		tr, err := b.store.Finish(ctx, leaves[0].ID, "run-1", json.RawMessage(`1`),
			&FinishOptions{Input: json.RawMessage(`{"v":0}`), Containers: leaves[0].Containers})
		if err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n < 1 || n > b.nodes {
			t.Fatalf("Finish of a chain step took %d round trips", n)
		}
		later := tr.Later[container.ID]
		if len(later) != 2 || later[0] != leaves[1].ID || later[1] != leaves[2].ID {
			t.Fatalf("Later = %v", tr.Later)
		}
		rec, err := b.store.Get(ctx, leaves[0].ID)
		if err != nil || string(rec.Input) != `{"v":0}` {
			t.Fatalf("the chain's first step kept input %s (%v)", rec.Input, err)
		}
		if b.mini != nil {
			b.mini.FastForward(20 * time.Hour) // the later steps have ~4 h of their 24 h left
		}
		keep := append([]string{container.ID}, later...)
		b.rt.Reset()
		if err := b.store.MarkDispatched(ctx, leaves[0].ID, flowtype.OutcomeSuccess, map[string]string{leaves[1].ID: "run-2"}, nil, nil, keep); err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n < 1 || n > b.nodes {
			t.Fatalf("MarkDispatched took %d round trips", n)
		}
		rdb := b.store.rdb
		for _, id := range keep {
			if ttl := rdb.PTTL(ctx, b.store.SignatureKey(id)).Val(); ttl < 23*time.Hour {
				t.Fatalf("%s keeps a TTL of %v after the chain advanced, want the active TTL again", id, ttl)
			}
		}
		// A step that is not the first keeps no input.
		_, _, _ = b.store.Start(ctx, leaves[1].ID, "run-2", 1)
		if _, err := b.store.Finish(ctx, leaves[1].ID, "run-2", json.RawMessage(`2`), &FinishOptions{Input: json.RawMessage(`{"x":1}`)}); err != nil {
			t.Fatal(err)
		}
		if rec, err := b.store.Get(ctx, leaves[1].ID); err != nil || len(rec.Input) != 0 {
			t.Fatalf("a later step kept input %+v (%v)", rec, err)
		}
	})
}

func TestLinkStep(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		step := newRec(t, "step", map[string]any{"own": 1})
		active := newRec(t, "step", nil)
		if err := b.store.SaveTree(ctx, []*Record{step, active}); err != nil {
			t.Fatal(err)
		}
		next := CallbackRef{ID: "0190f2a0-0000-7000-8000-000000000001", Task: "next", ReturnField: "v"}
		fields := &Record{Containers: []string{"c-1"}, FirstLeaf: true, OnSuccess: []CallbackRef{next}}
		if err := b.store.LinkStep(ctx, step.ID, fields, map[string]any{"own": 2, "chain": 3}); err != nil {
			t.Fatal(err)
		}
		rec, err := b.store.Get(ctx, step.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kwargs["own"] != 1.0 || rec.Kwargs["chain"] != 3.0 || !rec.FirstLeaf || len(rec.OnSuccess) != 1 || rec.OnSuccess[0] != next {
			t.Fatalf("linked step %+v (kwargs %v)", rec, rec.Kwargs)
		}
		var ce *ContainedError
		if err := b.store.LinkStep(ctx, step.ID, fields, nil); !errors.As(err, &ce) || ce.ChainID != "c-1" {
			t.Fatalf("linking a step twice = %v", err)
		}
		_, _, _ = b.store.Start(ctx, active.ID, "run-1", 1)
		var np *NotPendingError
		if err := b.store.LinkStep(ctx, active.ID, fields, nil); !errors.As(err, &np) || np.Status != flowtype.StatusActive {
			t.Fatalf("linking an active signature = %v", err)
		}
		var nf *NotFoundError
		if err := b.store.LinkStep(ctx, "0190f2a0-0000-7000-8000-00000000dead", fields, nil); !errors.As(err, &nf) {
			t.Fatalf("linking a missing signature = %v", err)
		}
	})
}
