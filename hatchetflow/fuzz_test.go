package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type fuzzLine struct {
	SKU string  `json:"sku"`
	N   float64 `json:"n"`
}

// fuzzMsg is the fuzzed task's input; it returns what it received.
type fuzzMsg struct {
	ID    string         `json:"id"`
	Qty   int            `json:"qty"`
	Tags  []string       `json:"tags"`
	Line  *fuzzLine      `json:"line"`
	Meta  map[string]any `json:"meta"`
	Flags map[string]bool
}

type fuzzCallbackIn struct {
	Result inject.ReturnValue[fuzzMsg] `json:"result"`
	Tag    string                      `json:"tag"`
}

// FuzzRunInput drives Run with arbitrary JSON input and bound kwargs through the
// production steps (flowtest, on miniredis):
//
//   - a refused run gets ErrNotObject, an inject.ErrValidation or ErrKwargsTooLarge,
//     and writes no key;
//   - an accepted run calls the task once with the input and the kwargs merged over it
//     (kwargs win), the worker decodes what the producer accepted, and the success
//     callback runs once with the task's return value;
//   - every key written has a TTL, the task registry excepted.
func FuzzRunInput(f *testing.F) {
	f.Add([]byte(`{"id":"o-1","qty":2,"tags":["a"],"line":{"sku":"x","n":1.5},"meta":{"k":[1,null]},"Flags":{"f":true}}`), []byte(`{"qty":3}`))
	f.Add([]byte(`{"id":"o-2"}`), []byte(`{"line":null,"meta":{"k":{"deep":true}}}`))
	f.Add([]byte(`[1,2]`), []byte(`null`))
	f.Add([]byte(`"text"`), []byte(`{}`))
	f.Add([]byte(`{"qty":"three"}`), []byte(`{}`))
	f.Add([]byte(`{"id":"o-3"}`), []byte(`{"colour":"red"}`))
	f.Add([]byte(`null`), []byte(`{"tags":["`+strings.Repeat("x", 300)+`"]}`))
	f.Fuzz(func(t *testing.T, inputJSON, kwargsJSON []byte) {
		var input any
		var kw map[string]any
		if json.Unmarshal(inputJSON, &input) != nil || json.Unmarshal(kwargsJSON, &kw) != nil {
			t.Skip()
		}
		h := flowtest.New(t, hatchetflow.WithMaxKwargsBytes(256))
		h.Quiet()
		var (
			got   []fuzzMsg
			cbGot []fuzzCallbackIn
		)
		task, err := hatchetflow.NewTask(h.Client, "fuzz-task", func(_ hatchet.Context, in fuzzMsg) (fuzzMsg, error) {
			got = append(got, in)
			return in, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hatchetflow.NewTask(h.Client, "fuzz-callback", func(_ hatchet.Context, in fuzzCallbackIn) (string, error) {
			cbGot = append(cbGot, in)
			return "", nil
		}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		b := dsl.Sign(task).With(dsl.KW(kw)).OnSuccess(dsl.Sign("fuzz-callback").With(dsl.KW{"tag": "t"}))
		before := len(h.Redis.Keys())
		_, err = b.Run(ctx, h.Client, input)
		if err != nil {
			if !errors.Is(err, hatchetflow.ErrNotObject) && !errors.Is(err, inject.ErrValidation) &&
				!errors.Is(err, hatchetflow.ErrKwargsTooLarge) {
				t.Fatalf("Run(%s, kwargs %s) = %v: not a typed input error", inputJSON, kwargsJSON, err)
			}
			if after := len(h.Redis.Keys()); after != before {
				t.Fatalf("refused run wrote %d keys", after-before)
			}
			return
		}
		h.Drain(ctx)
		if len(got) != 1 {
			runs := h.Runs("fuzz-task")
			t.Fatalf("accepted input %s (kwargs %s): task ran %d times; runs %+v", inputJSON, kwargsJSON, len(got), runs)
		}
		// The task received the input with the kwargs merged over it.
		obj, _ := input.(map[string]any)
		want, err := inject.Decode[fuzzMsg](inject.Merge(obj, kw))
		if err != nil {
			t.Fatalf("decode the expected message: %v", err)
		}
		if !reflect.DeepEqual(jsonOf(t, got[0]), jsonOf(t, want)) {
			t.Fatalf("task got %s, want %s", jsonOf(t, got[0]), jsonOf(t, want))
		}
		if len(cbGot) != 1 || cbGot[0].Tag != "t" || !reflect.DeepEqual(jsonOf(t, cbGot[0].Result.Value), jsonOf(t, got[0])) {
			t.Fatalf("callback got %+v, want the return value %s once", cbGot, jsonOf(t, got[0]))
		}
		for _, k := range h.Redis.Keys() {
			if k != h.Client.Store().RegistryKey() && h.Redis.TTL(k) <= 0 {
				t.Fatalf("key %s has no TTL", k)
			}
		}
	})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
