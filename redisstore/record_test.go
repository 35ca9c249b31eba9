package redisstore

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
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
		switch v := f[i+1].(type) {
		case string:
			h[f[i].(string)] = v
		case []byte:
			h[f[i].(string)] = string(v)
		default:
			t.Fatalf("field %v: value of type %T", f[i], v)
		}
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

// Kwargs encode as json.Marshal encodes them and decode as json.Unmarshal decodes
// them, the common values too, which take a shorter way.
func TestKwargCodingIsJSON(t *testing.T) {
	values := []any{"", "x", "plain text 123", "<b>", "a&b", "q\"uote", "back\\slash", "tab\t", "\x7f", "é", "\xff", "\u2028",
		true, false, nil, 0, -1, 42, int64(math.MinInt64), int64(math.MaxInt64), int32(5), uint64(math.MaxUint64),
		0.0, math.Copysign(0, -1), 1.5, -2.25, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64,
		float32(0.1), math.NaN(), math.Inf(1), []any{1, "a"}, map[string]any{"a": 1}, json.RawMessage(`{"a":1}`)}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		values = append(values, r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)), r.Int64()>>r.IntN(64))
	}
	for _, v := range values {
		want, werr := json.Marshal(v)
		got, gerr := encodeKwarg(v)
		if (werr != nil) != (gerr != nil) || (werr == nil && got != string(want)) {
			t.Fatalf("encodeKwarg(%#v) = %q, %v; json.Marshal gives %q, %v", v, got, gerr, want, werr)
		}
	}
	texts := []string{"true", "false", "null", `""`, `"x"`, `"a b"`, `"\u00e9"`, `"\""`, `"a\\b"`, `"<>"`, "\"\xff\"", "\"\x01\"",
		"0", "-0", "1", "-12", "1.5", "1e3", "1E+3", "-1.25e-7", "1e400", "-1e400", "01", "1.", ".5", "-", "+1", "1e", "1e+",
		"0x10", "Inf", "NaN", " 1", "1 ", "tru", "nul", "[1]", `{"a":1}`, "", `"`, `"a`}
	for i := 0; i < 2000; i++ {
		b, _ := json.Marshal(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)))
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		var want any
		werr := json.Unmarshal([]byte(s), &want)
		got, gerr := decodeKwarg(s)
		if (werr != nil) != (gerr != nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("decodeKwarg(%q) = %#v, %v; json.Unmarshal gives %#v, %v", s, got, gerr, want, werr)
		}
	}
}
