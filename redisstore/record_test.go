package redisstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// recordHashes encodes r as its record and kwargs hashes hold it, plus fields only
// scripts write (timings, attempt, calls, result, markers, hold).
func recordHashes(t *testing.T, r *Record, extra ...string) (h, kw map[string]string) {
	t.Helper()
	f, err := r.fields()
	if err != nil {
		t.Fatal(err)
	}
	k, err := kwargsFields(r.Kwargs)
	if err != nil {
		t.Fatal(err)
	}
	h, kw = map[string]string{}, map[string]string{}
	for i := 0; i+1 < len(f); i += 2 {
		h[f[i].(string)] = f[i+1].(string)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	for i := 0; i+1 < len(k); i += 2 {
		kw[k[i].(string)] = k[i+1].(string)
	}
	return h, kw
}

// asReply lists m's fields and values as a script returns HGETALL: in order, or
// reversed (a script's list comes in the hash's order, which no one relies on).
func asReply(m map[string]string, reversed bool) reply {
	out := reply{}
	for k, v := range m {
		if reversed {
			out = append(reply{k, v}, out...)
		} else {
			out = append(out, k, v)
		}
	}
	return out
}

// A script's field/value lists decode to the record its hashes read as maps decode to
// (GetMany), whatever the order of the fields.
func TestParseRecordReplyMatchesParseRecord(t *testing.T) {
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	sig := &Record{ID: "00000000-0000-7000-8000-000000000001", Task: "t", Status: flowtype.StatusDone,
		LastStatus: flowtype.StatusActive, Kwargs: map[string]any{"a": 1.5, "b": "x", "c": []any{true, nil}, "d": map[string]any{"e": "f"}},
		OnSuccess:   []CallbackRef{{ID: "s1", Task: "cb1", ReturnField: "rf"}, {ID: "s2", Task: "cb2"}, {ID: "s3", Task: "cb3"}},
		OnError:     []CallbackRef{{ID: "e1", Task: "eb", ErrorField: "err"}},
		ReturnField: "mageflow_results", ErrorField: "error", Schema: json.RawMessage(`{"type":"object"}`),
		CreatedAt: now, RunID: "run", Containers: []string{"c1", "c2"}, FirstLeaf: true, Input: json.RawMessage(`{"x":1}`),
		ChainErrors: []ContainerCallbackRef{{CallbackRef: CallbackRef{ID: "ce1", Task: "h"}, ContainerID: "c1", FirstLeafID: "l1"},
			{CallbackRef: CallbackRef{ID: "ce2", Task: "h2", ErrorField: "e"}, ContainerID: "c2", FirstLeafID: "l2"}},
		Item: &SwarmItemRef{SwarmID: "sw", Index: 3}}
	swarm := &Record{ID: "00000000-0000-7000-8000-000000000002", Kind: KindSwarm, Task: "swarm", CreatedAt: now,
		Swarm: &SwarmConfig{MaxConcurrency: 5, StopAfter: 2, MaxItems: 9, Closed: true}, Items: []CallbackRef{{ID: "i1", Task: "t"}, {ID: "i2", Task: "t"}}}
	chain := &Record{ID: "00000000-0000-7000-8000-000000000003", Kind: KindChain, Task: KindChain, CreatedAt: now,
		Steps: []string{"a", "b"}, Leaves: []string{"a", "b1", "b2"}, Kwargs: map[string]any{"k": "v"}}
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	cases := []struct {
		name  string
		rec   *Record
		extra []string
	}{
		{"signature", sig, []string{fStartedAt, ms(time.Second), fEndedAt, ms(2 * time.Second), fAttempt, "2", fCalls, "3",
			fResult, `{"ok":true}`, fError, "boom", markerPrefix + "success:s1", "r1", markerPrefix + "error:e1", "r2",
			fHold, "1", fHeldRunID, "hr", fHeldInput, `{}`}},
		{"swarm", swarm, []string{fNext, "2", fRunning, "1", fNumDone, "1", fNumFailed, "1", fStopped, "1", fComplete, "1", fStopFails, "1"}},
		{"chain", chain, nil},
		{"bad timings", chain, []string{fStartedAt, "x", fAttempt, "y"}},
	}
	for _, c := range cases {
		h, kw := recordHashes(t, c.rec, c.extra...)
		want, err := parseRecord(c.rec.ID, h, kw)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, reversed := range []bool{false, true} {
			got, err := parseRecordReply(c.rec.ID, asReply(h, reversed), asReply(kw, reversed))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: from a reply\n%+v\nfrom maps\n%+v", c.name, got, want)
			}
		}
	}
	// The decoded signature is the one encoded, with the script-written fields.
	h, kw := recordHashes(t, sig, fAttempt, "2", markerPrefix+"success:s1", "r1")
	got, err := parseRecordReply(sig.ID, asReply(h, false), asReply(kw, false))
	if err != nil {
		t.Fatal(err)
	}
	want := *sig
	want.Attempt, want.Dispatched = 2, map[string]string{"success:s1": "r1"}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, &want)
	}
	// Nothing, or a trailing field alone, is a missing record; bad encodings are errors.
	for _, h := range []reply{nil, {}, {"t"}} {
		if _, err := parseRecordReply("x", h, nil); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%v: %v, want not found", h, err)
		}
	}
	for _, c := range []struct{ h, kw reply }{
		{reply{fTask, "t", fOnSuccess + "x", "bad"}, nil},
		{reply{fTask, "t", fChainError + "x", "1\x1ft\x1f\x1f"}, nil},
		{reply{fTask, "t"}, reply{"k", "{bad"}},
	} {
		if _, err := parseRecordReply("x", c.h, c.kw); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("%v %v: %v, want a decoding error", c.h, c.kw, err)
		}
	}
}
