package inject_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

type approval struct {
	By string `json:"by"`
}

type bySignalType struct {
	OrderID  string                   `json:"order_id"`
	Approval inject.Signal[*approval] `json:"approval"`
}

type bySignalTag struct {
	Payload map[string]any `json:"payload" hatchetflow:"signal"`
}

type noSignal struct {
	OrderID string `json:"order_id"`
}

func TestFieldsOfSignal(t *testing.T) {
	for name, tc := range map[string]struct {
		t    reflect.Type
		want string
	}{
		"Signal type":   {reflect.TypeFor[bySignalType](), "approval"},
		"signal tag":    {reflect.TypeFor[bySignalTag](), "payload"},
		"none":          {reflect.TypeFor[noSignal](), ""},
		"map":           {reflect.TypeFor[map[string]any](), ""},
		"pointer types": {reflect.TypeFor[*bySignalType](), "approval"},
	} {
		if got := inject.FieldsOf(tc.t).Signal; got != tc.want {
			t.Errorf("%s: Signal field %q, want %q", name, got, tc.want)
		}
	}
}

func TestSignalIsTransparent(t *testing.T) {
	var in bySignalType
	if err := json.Unmarshal([]byte(`{"order_id":"o","approval":{"by":"ann"}}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.Approval.Value == nil || in.Approval.Value.By != "ann" {
		t.Fatalf("decoded %+v", in.Approval.Value)
	}
	out, err := json.Marshal(in)
	if err != nil || string(out) != `{"order_id":"o","approval":{"by":"ann"}}` {
		t.Fatalf("encoded %s, %v", out, err)
	}
	// Its schema is T's, and a nil pointer's null is accepted.
	raw, err := inject.SchemaOf(reflect.TypeFor[bySignalType]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inject.CompileSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []map[string]any{{"approval": map[string]any{"by": "ann"}}, {"approval": nil}} {
		if err := s.Validate(msg); err != nil {
			t.Errorf("%v: %v", msg, err)
		}
	}
	if err := s.Validate(map[string]any{"approval": map[string]any{"by": 1}}); err == nil {
		t.Errorf("a payload of the wrong type passed")
	}
}

func TestSignalInput(t *testing.T) {
	msg := map[string]any{"order_id": "o", "nested": map[string]any{"a": 1}}
	payload := map[string]any{"by": "ann"}
	got := inject.SignalInput(msg, inject.Fields{Signal: "approval"}, payload)
	want := map[string]any{"order_id": "o", "nested": map[string]any{"a": 1}, "approval": map[string]any{"by": "ann"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SignalInput = %v", got)
	}
	if _, changed := msg["approval"]; changed {
		t.Fatalf("SignalInput changed its input")
	}
	payload["by"] = "bob"
	if got["approval"].(map[string]any)["by"] != "ann" {
		t.Fatalf("SignalInput kept the caller's payload map")
	}
	if got := inject.SignalInput(nil, inject.Fields{}, payload); got[inject.DefaultSignalField] == nil {
		t.Fatalf("default field: %v", got)
	}
}
