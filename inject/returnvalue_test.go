package inject_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

type point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

func roundTrip[T any](t *testing.T, in inject.ReturnValue[T], wantJSON string) {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", in, err)
	}
	if string(data) != wantJSON {
		t.Fatalf("Marshal(%#v) = %s, want %s", in, data, wantJSON)
	}
	var out inject.ReturnValue[T]
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip of %s = %#v, want %#v", data, out, in)
	}
}

func TestReturnValueJSONTransparent(t *testing.T) {
	roundTrip(t, inject.ReturnValue[int]{Value: 42}, `42`)
	roundTrip(t, inject.ReturnValue[string]{Value: "s"}, `"s"`)
	roundTrip(t, inject.ReturnValue[point]{Value: point{1, 2}}, `{"x":1,"y":2}`)
	roundTrip(t, inject.ReturnValue[[]int]{Value: []int{1, 2, 3}}, `[1,2,3]`)
	roundTrip(t, inject.ReturnValue[[]int]{}, `null`)
	roundTrip(t, inject.ReturnValue[*int]{}, `null`)
	roundTrip(t, inject.ReturnValue[any]{}, `null`)
	roundTrip(t, inject.ReturnValue[any]{Value: map[string]any{"a": []any{1.5, "b", nil}}}, `{"a":[1.5,"b",null]}`)
}

func TestReturnValueInStruct(t *testing.T) {
	type msg struct {
		TaskResult inject.ReturnValue[int] `json:"task_result"`
		FieldInt   int                     `json:"field_int"`
	}
	var m msg
	if err := json.Unmarshal([]byte(`{"task_result": 42, "field_int": 7}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.TaskResult.Value != 42 || m.FieldInt != 7 {
		t.Fatalf("got %+v", m)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"task_result":42,"field_int":7}` {
		t.Fatalf("Marshal = %s", data)
	}
}

func TestReturnValueNullLeavesValue(t *testing.T) {
	rv := inject.ReturnValue[int]{Value: 5}
	if err := json.Unmarshal([]byte(`null`), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.Value != 5 {
		t.Fatalf("null changed a non-pointer Value to %d", rv.Value)
	}
	p := 3
	rp := inject.ReturnValue[*int]{Value: &p}
	if err := json.Unmarshal([]byte(`null`), &rp); err != nil {
		t.Fatal(err)
	}
	if rp.Value != nil {
		t.Fatalf("null did not reset a pointer Value")
	}
}

func TestReturnValueTypeMismatch(t *testing.T) {
	var rv inject.ReturnValue[int]
	if err := json.Unmarshal([]byte(`"x"`), &rv); err == nil {
		t.Fatal("want an error decoding a string into ReturnValue[int]")
	}
}
