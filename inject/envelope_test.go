package inject_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hatchetflow/go/inject"
)

func TestWrapOutputRoundTrip(t *testing.T) {
	tests := []struct {
		value, wire string
	}{
		{`42`, `{"hatchetflow_value":42}`},
		{`"s"`, `{"hatchetflow_value":"s"}`},
		{`[1,2]`, `{"hatchetflow_value":[1,2]}`},
		{`true`, `{"hatchetflow_value":true}`},
		{`null`, `null`},
		{``, `null`},
		{`{"a":1}`, `{"a":1}`},
		{` {"x":1,"y":2}`, `{"x":1,"y":2}`},
		// An object that happens to hold the key next to others is a plain object.
		{`{"hatchetflow_value":1,"b":2}`, `{"hatchetflow_value":1,"b":2}`},
	}
	for _, tt := range tests {
		wire := inject.WrapOutput(json.RawMessage(tt.value))
		if string(wire) != tt.wire {
			t.Errorf("WrapOutput(%s) = %s, want %s", tt.value, wire, tt.wire)
		}
		var obj any
		if err := json.Unmarshal(wire, &obj); err != nil {
			t.Fatalf("WrapOutput(%s) is not JSON: %v", tt.value, err)
		}
		if _, isObj := obj.(map[string]any); !isObj && obj != nil {
			t.Errorf("WrapOutput(%s) = %s: not an object or null", tt.value, wire)
		}
		back, err := inject.UnwrapOutput(wire)
		want := tt.value
		if want == "" {
			want = "null"
		}
		if err != nil || jsonCompact(t, string(back)) != jsonCompact(t, want) {
			t.Errorf("UnwrapOutput(%s) = %s, %v; want %s", wire, back, err, want)
		}
	}
}

func TestUnwrapOutputRejectsNonJSON(t *testing.T) {
	if _, err := inject.UnwrapOutput(json.RawMessage(`{"a":`)); !errors.Is(err, inject.ErrNotJSON) {
		t.Fatalf("UnwrapOutput(bad) = %v, want ErrNotJSON", err)
	}
}

func jsonCompact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
