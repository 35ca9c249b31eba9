package inject_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hatchetflow/go/inject"
	"pgregory.net/rapid"
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name                string
		base, overlay, want map[string]any
	}{
		{
			name:    "disjoint keys",
			base:    map[string]any{"a": 1.0},
			overlay: map[string]any{"b": 2.0},
			want:    map[string]any{"a": 1.0, "b": 2.0},
		},
		{
			name:    "nested objects merge",
			base:    map[string]any{"prefs": map[string]any{"theme": "light", "lang": "en"}, "x": 1.0},
			overlay: map[string]any{"prefs": map[string]any{"theme": "dark", "deep": map[string]any{"k": true}}},
			want:    map[string]any{"prefs": map[string]any{"theme": "dark", "lang": "en", "deep": map[string]any{"k": true}}, "x": 1.0},
		},
		{
			name:    "overlay scalar wins",
			base:    map[string]any{"a": "base"},
			overlay: map[string]any{"a": "overlay"},
			want:    map[string]any{"a": "overlay"},
		},
		{
			name:    "overlay scalar replaces object",
			base:    map[string]any{"a": map[string]any{"b": 1.0}},
			overlay: map[string]any{"a": 5.0},
			want:    map[string]any{"a": 5.0},
		},
		{
			name:    "overlay object replaces scalar",
			base:    map[string]any{"a": 5.0},
			overlay: map[string]any{"a": map[string]any{"b": 1.0}},
			want:    map[string]any{"a": map[string]any{"b": 1.0}},
		},
		{
			name:    "overlay null wins",
			base:    map[string]any{"a": map[string]any{"b": 1.0}},
			overlay: map[string]any{"a": nil},
			want:    map[string]any{"a": nil},
		},
		{
			name:    "lists are replaced, not merged",
			base:    map[string]any{"a": []any{1.0, 2.0, 3.0}},
			overlay: map[string]any{"a": []any{9.0}},
			want:    map[string]any{"a": []any{9.0}},
		},
		{
			name:    "bound kwargs win over the injected return value",
			base:    map[string]any{"task_result": map[string]any{"total": 3.0, "currency": "EUR"}},
			overlay: map[string]any{"task_result": map[string]any{"currency": "USD"}, "field_int": 7.0},
			want:    map[string]any{"task_result": map[string]any{"total": 3.0, "currency": "USD"}, "field_int": 7.0},
		},
		{
			name:    "typed string-keyed maps are objects",
			base:    map[string]any{"m": map[string]string{"a": "1", "b": "2"}},
			overlay: map[string]any{"m": map[string]any{"b": "x"}},
			want:    map[string]any{"m": map[string]any{"a": "1", "b": "x"}},
		},
		{
			name:    "raw JSON objects merge",
			base:    map[string]any{"task_result": json.RawMessage(`{"total":9007199254740993,"currency":"EUR"}`)},
			overlay: map[string]any{"task_result": map[string]any{"currency": "USD"}},
			want:    map[string]any{"task_result": map[string]any{"total": json.Number("9007199254740993"), "currency": "USD"}},
		},
		{
			name:    "raw JSON non-objects are replaced",
			base:    map[string]any{"task_result": json.RawMessage(`[1,2]`)},
			overlay: map[string]any{"task_result": map[string]any{"currency": "USD"}},
			want:    map[string]any{"task_result": map[string]any{"currency": "USD"}},
		},
		{
			name:    "nil inputs",
			base:    nil,
			overlay: nil,
			want:    map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseBefore, overlayBefore := snapshot(t, tt.base), snapshot(t, tt.overlay)
			got := inject.Merge(tt.base, tt.overlay)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Merge = %#v, want %#v", got, tt.want)
			}
			scribble(got)
			if snapshot(t, tt.base) != baseBefore || snapshot(t, tt.overlay) != overlayBefore {
				t.Fatal("Merge modified an input or its result aliases one")
			}
		})
	}
}

func TestDeepCopy(t *testing.T) {
	in := map[string]any{
		"list":  []any{map[string]any{"a": 1.0}},
		"typed": []string{"x"},
		"tmap":  map[string][]int{"k": {1}},
		"nil":   []string(nil),
		"raw":   json.RawMessage(`{"a":1}`),
	}
	out := inject.DeepCopy(in).(map[string]any)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("DeepCopy = %#v, want %#v", out, in)
	}
	out["list"].([]any)[0].(map[string]any)["a"] = 2.0
	out["typed"].([]string)[0] = "y"
	out["tmap"].(map[string][]int)["k"][0] = 9
	out["raw"].(json.RawMessage)[0] = '['
	if in["list"].([]any)[0].(map[string]any)["a"] != 1.0 || in["typed"].([]string)[0] != "x" ||
		in["tmap"].(map[string][]int)["k"][0] != 1 || string(in["raw"].(json.RawMessage)) != `{"a":1}` {
		t.Fatalf("DeepCopy result aliases its input: %#v", in)
	}
	if out["nil"].([]string) != nil {
		t.Fatal("DeepCopy turned a nil slice into a non-nil one")
	}
	p := &point{1, 2}
	if inject.DeepCopy(p) != p {
		t.Fatal("DeepCopy copied a pointer")
	}
	if inject.DeepCopy(nil) != nil || inject.DeepCopy(3) != 3 {
		t.Fatal("DeepCopy changed a scalar")
	}
}

// snapshot renders v as canonical JSON (sorted keys).
func snapshot(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return string(data)
}

// scribble overwrites every map entry and list element of v in place.
func scribble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			scribble(e)
			x[k] = "scribbled"
		}
		x["scribbled"] = true
	case []any:
		for i, e := range x {
			scribble(e)
			x[i] = "scribbled"
		}
	}
}

// jsonValue generates JSON-decoded values (objects as map[string]any) up to
// the given depth, over a small key alphabet so that keys collide.
func jsonValue(depth int) *rapid.Generator[any] {
	scalars := []*rapid.Generator[any]{
		rapid.Just[any](nil),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Map(rapid.IntRange(-1000, 1000), func(i int) any { return float64(i) }),
		rapid.Map(rapid.StringMatching(`[a-c]{0,3}`), func(s string) any { return s }),
	}
	if depth == 0 {
		return rapid.OneOf(scalars...)
	}
	return rapid.OneOf(append(scalars,
		rapid.Map(jsonObject(depth-1), func(m map[string]any) any { return m }),
		rapid.Map(rapid.SliceOfN(jsonValue(depth-1), 0, 3), func(s []any) any { return s }),
	)...)
}

func jsonObject(depth int) *rapid.Generator[map[string]any] {
	return rapid.MapOfN(rapid.SampledFrom([]string{"a", "b", "c", "d"}), jsonValue(depth), 0, 4)
}

type fataler interface {
	Fatalf(format string, args ...any)
}

// checkMerge checks every rule of Merge on one pair of JSON objects.
func checkMerge(t fataler, base, overlay map[string]any) {
	baseBefore, err1 := json.Marshal(base)
	overlayBefore, err2 := json.Marshal(overlay)
	if err1 != nil || err2 != nil {
		t.Fatalf("inputs not JSON: %v %v", err1, err2)
	}

	got := inject.Merge(base, overlay)

	// Merging nothing changes nothing.
	if id := inject.Merge(base, map[string]any{}); !jsonEqual(id, base) {
		t.Fatalf("Merge(a, {}) = %v, want %v", id, base)
	}
	if id := inject.Merge(map[string]any{}, overlay); !jsonEqual(id, overlay) {
		t.Fatalf("Merge({}, b) = %v, want %v", id, overlay)
	}
	// Every overlay leaf (non-object value) is in the result at its path.
	walkLeaves(overlay, nil, func(path []string, v any) {
		if rv, ok := lookupPath(got, path); !ok || !reflect.DeepEqual(rv, v) {
			t.Fatalf("overlay leaf %v = %v, result has %v (present %v)", path, v, rv, ok)
		}
	})
	// Every base leaf survives unless the overlay replaced it or a parent.
	walkLeaves(base, nil, func(path []string, v any) {
		if overriddenBy(overlay, base, path) {
			return
		}
		if rv, ok := lookupPath(got, path); !ok || !reflect.DeepEqual(rv, v) {
			t.Fatalf("base leaf %v = %v, result has %v (present %v)", path, v, rv, ok)
		}
	})
	// The result holds nothing that is in neither input.
	walkLeaves(got, nil, func(path []string, v any) {
		_, inBase := lookupPath(base, path)
		_, inOverlay := lookupPath(overlay, path)
		if !inBase && !inOverlay {
			t.Fatalf("result leaf %v = %v comes from neither input", path, v)
		}
	})
	// Inputs are unchanged, even after the result is overwritten.
	scribble(got)
	baseAfter, _ := json.Marshal(base)
	overlayAfter, _ := json.Marshal(overlay)
	if string(baseAfter) != string(baseBefore) || string(overlayAfter) != string(overlayBefore) {
		t.Fatalf("inputs changed: base %s -> %s, overlay %s -> %s", baseBefore, baseAfter, overlayBefore, overlayAfter)
	}
}

func jsonEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// walkLeaves calls fn for every value of m that is not a non-empty object,
// with its key path.
func walkLeaves(m map[string]any, prefix []string, fn func([]string, any)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := append(slices.Clip(prefix), k)
		if sub, ok := m[k].(map[string]any); ok && len(sub) > 0 {
			walkLeaves(sub, path, fn)
			continue
		}
		if sub, ok := m[k].(map[string]any); ok && len(sub) == 0 {
			continue // an empty object sets nothing when merged into an object
		}
		fn(path, m[k])
	}
}

func lookupPath(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, k := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// overriddenBy reports whether merging overlay over base replaces the base
// value at path (or one of its parents).
func overriddenBy(overlay, base map[string]any, path []string) bool {
	ov, bv := overlay, base
	for _, k := range path {
		o, ok := ov[k]
		if !ok {
			return false
		}
		om, oIsObj := o.(map[string]any)
		bm, bIsObj := bv[k].(map[string]any)
		if !oIsObj || !bIsObj {
			return true
		}
		ov, bv = om, bm
	}
	return false
}

func TestMergeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := jsonObject(3).Draw(t, "base")
		overlay := jsonObject(3).Draw(t, "overlay")
		checkMerge(t, base, overlay)
	})
}

func FuzzMerge(f *testing.F) {
	f.Add([]byte(`{"a":{"b":1,"c":[1,2]},"d":"x"}`), []byte(`{"a":{"b":2,"e":null},"d":{"f":true}}`))
	f.Add([]byte(`{}`), []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, baseJSON, overlayJSON []byte) {
		var base, overlay map[string]any
		if json.Unmarshal(baseJSON, &base) != nil || json.Unmarshal(overlayJSON, &overlay) != nil {
			t.Skip()
		}
		checkMerge(t, base, overlay)
	})
}

func ExampleMerge() {
	injected := map[string]any{"task_result": map[string]any{"total": 3, "currency": "EUR"}}
	bound := map[string]any{"task_result": map[string]any{"currency": "USD"}, "priority": "high"}
	data, _ := json.Marshal(inject.Merge(injected, bound))
	fmt.Println(string(data))
	// Output: {"priority":"high","task_result":{"currency":"USD","total":3}}
}

func TestCyclicInputsDoNotCrash(t *testing.T) {
	cyclic := map[string]any{"a": 1.0}
	cyclic["self"] = cyclic
	list := []any{1.0, nil}
	list[1] = list

	copied := inject.DeepCopy(map[string]any{"m": cyclic, "l": list}).(map[string]any)
	if copied["m"].(map[string]any)["a"] != 1.0 {
		t.Fatal("DeepCopy lost data of a cyclic map")
	}
	merged := inject.Merge(cyclic, cyclic)
	if merged["a"] != 1.0 {
		t.Fatal("Merge lost data of a cyclic map")
	}
	if _, err := inject.Decode[map[string]any](cyclic); err == nil {
		t.Fatal("Decode accepted a cyclic message")
	}
	s, err := inject.CompileSchema(json.RawMessage(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(cyclic); err == nil {
		t.Fatal("Validate accepted a cyclic message")
	}
	_ = inject.ErrorInput(cyclic, inject.Fields{}, nil)
	_ = inject.SuccessInput(inject.Fields{}, list)
}
