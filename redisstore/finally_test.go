package redisstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// Finally callbacks, a chain's finally callbacks carried by a step and the outcome
// field round-trip through the record's hash, and a callback encoded before outcome
// fields existed (four parts, six for a chain's) still decodes.
func TestFinallyFieldsRoundTrip(t *testing.T) {
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	rec := &Record{ID: "00000000-0000-7000-8000-0000000000f1", Task: "t", Status: flowtype.StatusPending, CreatedAt: now,
		OutcomeField: "out",
		OnError:      []CallbackRef{{ID: "e1", Task: "eb", ErrorField: "err"}},
		Finally:      []CallbackRef{{ID: "f1", Task: "fa", OutcomeField: "o"}, {ID: "f2", Task: "fb", ErrorField: "e"}},
		ChainErrors:  []ContainerCallbackRef{{CallbackRef: CallbackRef{ID: "ce", Task: "h"}, ContainerID: "c1", FirstLeafID: "l1"}},
		ChainFinally: []ContainerCallbackRef{{CallbackRef: CallbackRef{ID: "cf1", Task: "h", OutcomeField: "o"}, ContainerID: "c1", FirstLeafID: "l1"},
			{CallbackRef: CallbackRef{ID: "cf2", Task: "h2", ReturnField: "rf"}, ContainerID: "c2", FirstLeafID: "l2"}},
	}
	h, kw := recordHashes(t, rec)
	if h[fFinally+"f2"] != "1\x1ffb\x1f\x1fe" || h[fChainFinal+"cf2"] != "1\x1fh2\x1frf\x1f\x1fc2\x1fl2" {
		t.Fatalf("a callback with no outcome field is encoded as before: %q, %q", h[fFinally+"f2"], h[fChainFinal+"cf2"])
	}
	got, err := parseRecord(rec.ID, h, kw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, rec)
	}
	for _, bad := range []string{"1\x1ft", "1\x1ft\x1f\x1f\x1f\x1f\x1f"} {
		if _, err := parseRecord("x", map[string]string{fTask: "t", fFinally + "x": bad}, nil); err == nil {
			t.Fatalf("finally callback %q decoded", bad)
		}
	}
	if _, err := parseRecord("x", map[string]string{fTask: "t", fChainFinal + "x": "1\x1ft\x1f\x1f"}, nil); err == nil {
		t.Fatal("a malformed chain finally callback decoded")
	}
}

// The markers of a branch and of the finally callbacks that go out with it are one
// round trip.
func TestMarkDispatchedMany(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		parent := newRec(t, "parent", nil)
		dead := newRec(t, "never", nil)
		if err := b.store.SaveTree(ctx, []*Record{dead, parent}); err != nil {
			t.Fatal(err)
		}
		if err := b.store.LoadScripts(ctx); err != nil {
			t.Fatal(err)
		}
		b.rt.Reset()
		runs := map[flowtype.Outcome]map[string]string{
			flowtype.OutcomeError:   {"cb-1": "run-a"},
			flowtype.OutcomeFinally: {"cb-2": "run-b"},
		}
		if err := b.store.MarkDispatchedMany(ctx, parent.ID, runs, nil, []string{dead.ID}, nil); err != nil {
			t.Fatal(err)
		}
		if n := b.rt.Reset(); n < 1 || n > b.nodes {
			t.Fatalf("MarkDispatchedMany took %d round trips, want 1 per node (%d)", n, b.nodes)
		}
		rec, _ := b.store.Get(ctx, parent.ID)
		if rec.Dispatched["error:cb-1"] != "run-a" || rec.Dispatched["finally:cb-2"] != "run-b" || len(rec.Dispatched) != 2 {
			t.Fatalf("markers = %v", rec.Dispatched)
		}
		if ttl := b.store.Redis().PTTL(ctx, b.store.SignatureKey(dead.ID)).Val(); ttl > time.Hour {
			t.Fatalf("dead branch TTL %v not lowered", ttl)
		}
	}, WithDoneTTL(time.Hour))
}
