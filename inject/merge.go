package inject

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Merge deep-merges overlay onto base and returns a new map; neither input
// is modified, and the result shares no maps or slices with them.
//
// Where both sides hold JSON objects at the same key the two merge
// recursively; otherwise overlay's value wins, whatever the two kinds are.
// This is how bound kwargs (overlay) are merged over an injected or incoming
// message (base): bound kwargs win on conflicts, as in MageFlow's
// deep_merge. JSON objects are map[string]any values and maps with string
// keys (such as map[string]string), and json.RawMessage values whose text
// is a JSON object (decoded with json.Number numbers when they must be
// merged); a merged object is a map[string]any.
// A nil base or overlay counts as empty. The result is never nil.
func Merge(base, overlay map[string]any) map[string]any {
	return merge(base, overlay, 0)
}

// maxMergeDepth bounds the recursion of Merge, so that cyclic inputs cannot
// exhaust the stack; deeper objects are replaced instead of merged.
const maxMergeDepth = 10000

func merge(base, overlay map[string]any, depth int) map[string]any {
	var c copier
	out := make(map[string]any, len(base)+len(overlay))
	for k, bv := range base {
		if _, ok := overlay[k]; !ok {
			out[k] = c.copy(bv)
		}
	}
	for k, ov := range overlay {
		if bv, ok := base[k]; ok && depth < maxMergeDepth {
			if bm, ok := asObject(bv); ok {
				if om, ok := asObject(ov); ok {
					out[k] = merge(bm, om, depth+1)
					continue
				}
			}
		}
		out[k] = c.copy(ov)
	}
	return out
}

// asObject returns v as a map[string]any when it is a JSON object: a
// map[string]any, any other map whose key kind is string (converted,
// shallowly), or a json.RawMessage holding an object (decoded). A nil typed
// map is not an object: it encodes as JSON null.
func asObject(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, m != nil
	case nil:
		return nil, false
	case json.RawMessage:
		return decodeObject(m)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String || rv.IsNil() {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// decodeObject decodes raw when it is a JSON object, keeping numbers exact.
func decodeObject(raw json.RawMessage) (map[string]any, bool) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}
