package inject_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hatchetflow/go/inject"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	tests := []struct {
		result any
		want   string
	}{
		{42, `42`},
		{"s", `"s"`},
		{[]int{1, 2}, `[1,2]`},
		{[]any{1.0, "x"}, `[1,"x"]`},
		{nil, `null`},
		{map[string]any{"a": 1}, `{"a":1}`},
		{point{1, 2}, `{"x":1,"y":2}`},
		{json.RawMessage(`{"raw":true}`), `{"raw":true}`},
	}
	for _, tt := range tests {
		env := inject.Envelope(tt.result, true)
		if env[inject.DispatchedKey] != true {
			t.Fatalf("Envelope(%v) dispatched = %v", tt.result, env[inject.DispatchedKey])
		}
		got, err := inject.Unenvelope(env)
		if err != nil {
			t.Fatalf("Unenvelope(map of %v): %v", tt.result, err)
		}
		if string(got) != tt.want {
			t.Fatalf("Unenvelope(map of %v) = %s, want %s", tt.result, got, tt.want)
		}

		data, err := json.Marshal(inject.Envelope(tt.result, false))
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range []any{data, json.RawMessage(data)} {
			got, err := inject.Unenvelope(out)
			if err != nil {
				t.Fatalf("Unenvelope(%s): %v", data, err)
			}
			if string(got) != tt.want {
				t.Fatalf("Unenvelope(%s) = %s, want %s", data, got, tt.want)
			}
		}
		var raws map[string]json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			t.Fatal(err)
		}
		if got, err := inject.Unenvelope(raws); err != nil || string(got) != tt.want {
			t.Fatalf("Unenvelope(map[string]json.RawMessage %s) = %s, %v", data, got, err)
		}
	}
}

func TestUnenvelopeErrors(t *testing.T) {
	for _, out := range []any{
		map[string]any{"hatchet_results": 1},
		[]byte(`{"dispatched":true}`),
		[]byte(`[1,2]`),
		[]byte(`42`),
		[]byte(`null`),
		[]byte(`not json`),
		json.RawMessage(``),
		map[string]json.RawMessage{},
		nil,
		42,
		"{\"result\":1}",
	} {
		if _, err := inject.Unenvelope(out); !errors.Is(err, inject.ErrNotEnvelope) {
			t.Errorf("Unenvelope(%#v) error = %v, want ErrNotEnvelope", out, err)
		}
	}
	if _, err := inject.Unenvelope(map[string]any{"result": make(chan int)}); err == nil || errors.Is(err, inject.ErrNotEnvelope) {
		t.Errorf("Unenvelope of an unencodable result = %v, want an encoding error", err)
	}
}
