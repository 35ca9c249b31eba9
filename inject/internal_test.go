package inject

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

type (
	tfInner struct {
		A int `json:"a"`
		B int
		//lint:ignore U1000 an unexported field: the test checks it is skipped
		c int
	}
	tfOther struct {
		A int `json:"a"`
		D int `json:"d"`
	}
	tfTagged struct {
		B int `json:"B"`
	}
	tfunexported struct {
		E int `json:"e"`
	}
	tfOuter struct {
		Z int `json:"z"`
		tfInner
		*tfOther
		Named tfInner `json:"named"`
		tfunexported
		Skip int `json:"-"`
		//lint:ignore SA5008 encoding/json names this field "-": the test checks we do too
		Dash int `json:"-,"`
		//lint:ignore SA5008 an invalid name: encoding/json uses the Go name, as we must
		Invalid int `json:"a\\b"`
		Later   string
		tfTagged
	}
)

// TestTypeFieldsMatchesEncodingJSON checks the port of encoding/json's
// field rules against encoding/json itself, by the key order of an encoded
// value.
func TestTypeFieldsMatchesEncodingJSON(t *testing.T) {
	v := tfOuter{tfOther: &tfOther{}}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, f := range jsonFields(reflect.TypeFor[tfOuter]()) {
		got = append(got, f.name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("jsonFields names = %q, encoding/json keys = %q", got, want)
	}
}

func TestStripRequired(t *testing.T) {
	doc := map[string]any{
		"required": []any{"required"},
		"properties": map[string]any{
			"required": map[string]any{"type": "object", "required": []any{"x"}},
			"items":    map[string]any{"type": "array", "items": map[string]any{"required": []any{"y"}}},
		},
		"$defs":             map[string]any{"T": map[string]any{"required": []any{"z"}}},
		"anyOf":             []any{map[string]any{"required": []any{"a"}, "title": "A"}, map[string]any{"required": []any{"b"}}},
		"allOf":             []any{map[string]any{"type": "object", "required": []any{"c"}}},
		"dependentRequired": map[string]any{"a": []any{"b"}},
		"dependencies":      map[string]any{"a": []any{"b"}, "c": map[string]any{"required": []any{"d"}}},
	}
	got := stripRequired(doc)
	want := map[string]any{
		"properties": map[string]any{
			"required": map[string]any{"type": "object"},
			"items":    map[string]any{"type": "array", "items": map[string]any{}},
		},
		"$defs":        map[string]any{"T": map[string]any{}},
		"allOf":        []any{map[string]any{"type": "object"}},
		"dependencies": map[string]any{"c": map[string]any{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stripRequired =\n%#v\nwant\n%#v", got, want)
	}
}

type (
	recList struct {
		Next *recList `json:"next"`
	}
	recViaSlice struct {
		Kids []recViaSlice `json:"kids"`
	}
	recViaMap struct {
		Kids map[string]*recViaMap `json:"kids"`
	}
	recViaReturnValue struct {
		R ReturnValue[[]recViaReturnValue] `json:"r"`
	}
	notRecursive struct {
		A recList `json:"-"`
		B []int   `json:"b"`
		C struct {
			D map[string][]string
		}
	}
)

func TestIsRecursive(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[recList](), reflect.TypeFor[recViaSlice](), reflect.TypeFor[recViaMap](),
		reflect.TypeFor[recViaReturnValue](),
	} {
		if !isRecursive(typ) {
			t.Errorf("isRecursive(%v) = false", typ)
		}
	}
	if isRecursive(reflect.TypeFor[notRecursive]()) {
		t.Error("isRecursive(notRecursive) = true")
	}
}

func TestPointerEscapes(t *testing.T) {
	if got := pointer([]string{"a/b", "c~d", "0"}); got != "a~1b/c~0d/0" {
		t.Fatalf("pointer = %q", got)
	}
	if got := pointer(nil); got != "" {
		t.Fatalf("pointer(nil) = %q", got)
	}
}
