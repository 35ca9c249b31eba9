package redisstore

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// A waiting signature keeps its wait, and a callback that waits is marked so, through
// a save and a read; MarkWaiting records the waiting run only while the signature has
// not started.
func TestWaitRoundTripAndMarkWaiting(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cb := newRec(t, "cb", nil)
		cb.Wait = &WaitSpec{Event: "cb-go", Key: "k", Timeout: time.Minute, Field: "signal"}
		chainCB := newRec(t, "chain-cb", nil)
		r := newRec(t, "ship", map[string]any{"carrier": "dhl"})
		r.Wait = &WaitSpec{Event: "order-approved", Key: "ord-1", Timeout: 30 * time.Minute, Field: "approval"}
		r.OnSuccess = []CallbackRef{{ID: cb.ID, Task: cb.Task, ReturnField: "mageflow_results", Wait: true}}
		r.OnError = []CallbackRef{{ID: chainCB.ID, Task: chainCB.Task}}
		r.ChainErrors = []ContainerCallbackRef{{CallbackRef: CallbackRef{ID: cb.ID, Task: cb.Task, Wait: true}, ContainerID: "c", FirstLeafID: r.ID}}
		if err := b.store.SaveTree(ctx, []*Record{cb, chainCB, r}); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Wait, r.Wait) || got.WaitRunID != "" {
			t.Fatalf("wait %+v (run %q), want %+v", got.Wait, got.WaitRunID, r.Wait)
		}
		if !got.OnSuccess[0].Wait || got.OnError[0].Wait || !got.ChainErrors[0].Wait || got.ChainErrors[0].ContainerID != "c" ||
			got.ChainErrors[0].FirstLeafID != r.ID {
			t.Fatalf("callbacks %+v %+v %+v", got.OnSuccess, got.OnError, got.ChainErrors)
		}
		rec, err := b.store.MarkWaiting(ctx, r.ID, "wait-run")
		if err != nil || rec.WaitRunID != "wait-run" || rec.Status != flowtype.StatusPending || rec.Wait == nil {
			t.Fatalf("MarkWaiting = %+v, %v", rec, err)
		}
		if _, err := b.store.Suspend(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.MarkWaiting(ctx, r.ID, "wait-run"); err != nil {
			t.Fatalf("MarkWaiting while suspended: %v", err)
		}
		if _, err := b.store.Resume(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.store.Start(ctx, r.ID, "task-run", 1); err != nil {
			t.Fatal(err)
		}
		_, err = b.store.MarkWaiting(ctx, r.ID, "wait-run")
		var te *TransitionError
		if !errors.Is(err, ErrTransition) || !errors.As(err, &te) || te.From != flowtype.StatusActive {
			t.Fatalf("MarkWaiting once started: %v", err)
		}
		if _, err := b.store.MarkWaiting(ctx, "0190f2a0-0000-7000-8000-00000000dead", "wait-run"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("MarkWaiting of a missing signature: %v", err)
		}
	})
}
