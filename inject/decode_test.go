package inject_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hatchetflow/go/inject"
)

type (
	orderLine struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	order struct {
		ID      int64                           `json:"id"`
		Items   []orderLine                     `json:"items"`
		Tags    map[string][]int                `json:"tags"`
		Result  inject.ReturnValue[[]orderLine] `json:"task_result"`
		Created time.Time                       `json:"created"`
		Counts  map[int]string                  `json:"counts"`
		Nested  *struct{ Deep []bool }          `json:"nested"`
	}
)

func TestDecode(t *testing.T) {
	msg := map[string]any{
		"id":          12.0,
		"items":       []any{map[string]any{"sku": "a", "qty": 1.0}},
		"TAGS":        map[string]any{"x": []any{1.0, 2.0}},
		"task_result": []any{map[string]any{"sku": "r", "qty": 3.0}},
		"unknown":     "ignored",
	}
	got, err := inject.Decode[order](msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 12 || got.Items[0].SKU != "a" || got.Tags["x"][1] != 2 || got.Result.Value[0].Qty != 3 {
		t.Fatalf("Decode = %+v", got)
	}
	if p, err := inject.Decode[*order](msg); err != nil || p.ID != 12 {
		t.Fatalf("Decode[*order] = %+v, %v", p, err)
	}
	if m, err := inject.Decode[map[string]any](nil); err != nil || m != nil {
		t.Fatalf("Decode(nil) = %#v, %v", m, err)
	}
}

func TestDecodeErrorPaths(t *testing.T) {
	tests := []struct {
		name          string
		msg           map[string]any
		field, expect string
		got           string
	}{
		{
			name: "list element field",
			msg: map[string]any{"items": []any{
				map[string]any{"qty": 1.0}, map[string]any{"qty": 2.0}, map[string]any{"sku": "c", "qty": "three"},
			}},
			field: "items[2].qty", expect: "int", got: "string",
		},
		{
			name:  "top-level field",
			msg:   map[string]any{"id": "x"},
			field: "id", expect: "int64", got: "string",
		},
		{
			name:  "fractional int",
			msg:   map[string]any{"items": []any{map[string]any{"qty": 1.5}}},
			field: "items[0].qty", expect: "int", got: "number",
		},
		{
			name:  "object instead of list",
			msg:   map[string]any{"items": map[string]any{}},
			field: "items", expect: "[]inject_test.orderLine", got: "object",
		},
		{
			name:  "map value",
			msg:   map[string]any{"tags": map[string]any{"k": []any{1.0, true}}},
			field: "tags.k[1]", expect: "int", got: "boolean",
		},
		{
			name:  "map key",
			msg:   map[string]any{"counts": map[string]any{"nope": "x"}},
			field: "counts.nope", expect: "int", got: "string",
		},
		{
			name:  "inside ReturnValue",
			msg:   map[string]any{"task_result": []any{map[string]any{"qty": false}}},
			field: "task_result[0].qty", expect: "int", got: "boolean",
		},
		{
			name:  "pointer to anonymous struct",
			msg:   map[string]any{"nested": map[string]any{"Deep": []any{true, "no"}}},
			field: "nested.Deep[1]", expect: "bool", got: "string",
		},
		{
			name:  "custom unmarshaler",
			msg:   map[string]any{"created": "yesterday"},
			field: "created", expect: "time.Time", got: "string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inject.Decode[order](tt.msg)
			var de *inject.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v (%T), want *DecodeError", err, err)
			}
			if de.Field != tt.field || de.Expected != tt.expect || de.Got != tt.got {
				t.Fatalf("DecodeError = {Field %q, Expected %q, Got %q}, want {%q, %q, %q}",
					de.Field, de.Expected, de.Got, tt.field, tt.expect, tt.got)
			}
			if !errors.Is(err, inject.ErrDecode) || de.Unwrap() == nil {
				t.Fatalf("DecodeError does not match ErrDecode or wraps nothing: %v", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Error() = %q does not name %q", err.Error(), tt.field)
			}
		})
	}
}

func TestDecodeRootMismatch(t *testing.T) {
	_, err := inject.Decode[[]int](map[string]any{"a": 1})
	var de *inject.DecodeError
	if !errors.As(err, &de) || de.Field != "" || de.Got != "object" || de.Expected != "[]int" {
		t.Fatalf("Decode[[]int] error = %#v", err)
	}
}

func TestDecodeUnencodable(t *testing.T) {
	for _, msg := range []map[string]any{
		{"id": math.NaN()},
		{"id": make(chan int)},
		{"id": func() {}},
		{"id": json.Number("12abc")},
	} {
		_, err := inject.Decode[order](msg)
		var de *inject.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode(%v) error = %v, want *DecodeError", msg, err)
		}
	}
}

type panicky struct{}

func (*panicky) UnmarshalJSON([]byte) error { panic("boom") }

func TestDecodeNeverPanics(t *testing.T) {
	type withPanicky struct {
		P panicky `json:"p"`
	}
	_, err := inject.Decode[withPanicky](map[string]any{"p": 1})
	var de *inject.DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Decode with a panicking UnmarshalJSON = %v", err)
	}
}

func TestDecodeLargeInt64(t *testing.T) {
	const big = 9007199254740993 // 2^53 + 1: not representable as float64
	type msg struct {
		ID  int64  `json:"id"`
		UID uint64 `json:"uid"`
		R   inject.ReturnValue[int64]
	}
	for name, m := range map[string]map[string]any{
		"json.Number": {"id": json.Number("9007199254740993"), "uid": json.Number("18446744073709551615"), "R": json.Number("9007199254740993")},
		"Go integers": {"id": int64(big), "uid": uint64(math.MaxUint64), "R": int64(big)},
	} {
		got, err := inject.Decode[msg](m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != big || got.UID != math.MaxUint64 || got.R.Value != big {
			t.Fatalf("%s: Decode lost precision: %+v", name, got)
		}
	}

	// A message decoded from JSON text with UseNumber keeps the precision end to end.
	dec := json.NewDecoder(strings.NewReader(`{"id": 9007199254740993}`))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	got, err := inject.Decode[msg](m)
	if err != nil || got.ID != big {
		t.Fatalf("Decode of a UseNumber message = %+v, %v", got, err)
	}
}

type fuzzTarget struct {
	A  int                         `json:"a"`
	B  []orderLine                 `json:"b"`
	C  map[string]*orderLine       `json:"c"`
	D  inject.ReturnValue[[]uint8] `json:"d"`
	E  [2]float32                  `json:"e"`
	F  *string                     `json:"f"`
	G  any                         `json:"g"`
	H  map[int8]bool               `json:"h"`
	TE *inject.TaskError           `json:"te"`
	T  time.Time                   `json:"t"`
}

var fuzzSchema = mustSchema[fuzzTarget]()

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[{"sku":"x","qty":2}],"c":{"k":{"qty":1}},"d":[1,2],"e":[1.5,2]}`))
	f.Add([]byte(`{"b":[{"qty":"x"}],"h":{"300":true}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var msg map[string]any
		if dec.Decode(&msg) != nil {
			t.Skip()
		}
		// Validation never fails with anything but a *ValidationError.
		for _, verr := range []error{fuzzSchema.Validate(msg), fuzzSchema.ValidatePartial(msg)} {
			var ve *inject.ValidationError
			if verr != nil && (!errors.As(verr, &ve) || len(ve.Fields) == 0) {
				t.Fatalf("validation error %v is not a non-empty *ValidationError", verr)
			}
		}
		v, err := inject.Decode[fuzzTarget](msg)
		if err == nil {
			return
		}
		var de *inject.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("Decode error %v is not a *DecodeError", err)
		}
		if v.A != 0 || v.B != nil {
			t.Fatalf("Decode returned a partial value with an error: %+v", v)
		}
		// Standard encoding/json must agree that the message does not fit.
		var std fuzzTarget
		raw, _ := json.Marshal(msg)
		if json.Unmarshal(raw, &std) == nil {
			t.Fatalf("Decode failed (%v) where encoding/json succeeds", err)
		}
	})
}

// A negative zero is a valid unsigned integer to the schema (it equals 0), so Decode
// takes it as 0, as a float64 and as a json.Number, at any depth.
func TestDecodeNegativeZeroIntoUnsigned(t *testing.T) {
	type T struct {
		Count uint   `json:"count"`
		List  []uint `json:"list"`
	}
	for _, msg := range []map[string]any{
		{"count": math.Copysign(0, -1), "list": []any{1.0, math.Copysign(0, -1)}},
		{"count": json.Number("-0"), "list": []any{json.Number("-0.0")}},
	} {
		got, err := inject.Decode[T](msg)
		if err != nil || got.Count != 0 || len(got.List) == 0 || got.List[len(got.List)-1] != 0 {
			t.Fatalf("Decode(%v) = %+v, %v; want zeros", msg, got, err)
		}
	}
	if _, err := inject.Decode[T](map[string]any{"count": -1.0}); err == nil {
		t.Fatal("Decode of -1 into uint succeeded")
	}
}
