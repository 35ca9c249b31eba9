package inject

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// Mismatch is a place where a value a producer's schema allows would not fit a
// receiver's schema; see [Fits].
type Mismatch struct {
	// Path is where, below the compared values: "" for the value itself, then
	// ".name" for object properties and "[]" for list items.
	Path string
	// Want is the JSON type(s) the receiver accepts there, such as "integer".
	Want string
	// Got is the JSON type(s) the producer sends, or "" when the producer does not
	// provide a property the receiver needs.
	Got string
}

// Fits reports whether values valid under the producer schema from fit the receiver
// schema to, as far as both schemas say: JSON types (an integer fits a number, not
// the other way round), properties an object receiver needs, the types of
// properties both sides declare, and list items, recursively. An object receiver
// needs the properties it lists as "required" and, in schemas made by [SchemaOf],
// its struct's fields that are neither omitempty/omitzero nor given a default: a
// producer object that declares properties must declare each of these (a map or
// an object of unknown properties is not checked). Where either side says nothing
// (an any-typed value, a reference to a recursive definition, an invalid document)
// it fits, so an unknown side is never refused. A producer that may send
// null fits a receiver that does not take null: nil pointers are common returns and
// decode as zero values. When it does not fit, Mismatch says where and why.
func Fits(from, to json.RawMessage) (Mismatch, bool) {
	f, okF := parseNode(from)
	t, okT := parseNode(to)
	if !okF || !okT {
		return Mismatch{}, true
	}
	return schemaFits(f, t, "", 0)
}

// Properties returns the property schemas and the required property names of an
// object schema. ok is false when schema is not a document that lists properties (an
// any-typed value, a map, invalid JSON), so nothing is known about its fields.
func Properties(schema json.RawMessage) (props map[string]json.RawMessage, required []string, ok bool) {
	n, ok := parseNode(schema)
	if !ok {
		return nil, nil, false
	}
	obj := alternative(n, "object")
	raw, has := obj["properties"].(map[string]any)
	if !has {
		return nil, nil, false
	}
	props = make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, nil, false
		}
		props[k] = b
	}
	for _, r := range asList(obj["required"]) {
		if s, ok := r.(string); ok {
			required = append(required, s)
		}
	}
	return props, required, true
}

// Kinds names the JSON type(s) a schema accepts, such as "integer" or "string or
// null"; "any" when it does not say.
func Kinds(schema json.RawMessage) string {
	n, ok := parseNode(schema)
	if !ok {
		return "any"
	}
	return describe(kinds(n, 0))
}

func parseNode(raw json.RawMessage) (map[string]any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	switch n := v.(type) {
	case map[string]any:
		return n, true
	case bool: // true: anything; false: nothing, which no check of ours needs
		return map[string]any{}, true
	}
	return nil, false
}

const maxFitDepth = 32

func schemaFits(from, to map[string]any, path string, depth int) (Mismatch, bool) {
	if depth > maxFitDepth {
		return Mismatch{}, true
	}
	tk, fk := kinds(to, 0), kinds(from, 0)
	if tk == nil || fk == nil {
		return Mismatch{}, true
	}
	for _, k := range fk {
		if k == "null" || slices.Contains(tk, k) || (k == "integer" && slices.Contains(tk, "number")) {
			continue
		}
		return Mismatch{Path: path, Want: describe(tk), Got: describe(fk)}, false
	}
	if slices.Contains(fk, "object") && slices.Contains(tk, "object") {
		if m, ok := fitsObject(alternative(from, "object"), alternative(to, "object"), path, depth); !ok {
			return m, false
		}
	}
	if slices.Contains(fk, "array") && slices.Contains(tk, "array") {
		fi, okF := alternative(from, "array")["items"].(map[string]any)
		ti, okT := alternative(to, "array")["items"].(map[string]any)
		if okF && okT {
			return schemaFits(fi, ti, path+"[]", depth+1)
		}
	}
	return Mismatch{}, true
}

func fitsObject(from, to map[string]any, path string, depth int) (Mismatch, bool) {
	fp, okF := from["properties"].(map[string]any)
	tp, _ := to["properties"].(map[string]any)
	if !okF { // a map or an any-typed object: nothing known about its keys
		return Mismatch{}, true
	}
	for _, r := range slices.Concat(asList(to["required"]), asList(to[neededKeyword])) {
		name, _ := r.(string)
		if _, has := fp[name]; !has && name != "" {
			want := "any"
			if s, ok := tp[name].(map[string]any); ok {
				want = describe(kinds(s, 0))
			}
			return Mismatch{Path: path + "." + name, Want: want}, false
		}
	}
	names := make([]string, 0, len(tp))
	for name := range tp {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fs, okF := fp[name].(map[string]any)
		ts, okT := tp[name].(map[string]any)
		if !okF || !okT {
			continue
		}
		if m, ok := schemaFits(fs, ts, path+"."+name, depth+1); !ok {
			return m, false
		}
	}
	return Mismatch{}, true
}

// kinds returns the JSON types node accepts, sorted, or nil when it does not say.
func kinds(node map[string]any, depth int) []string {
	if depth > maxFitDepth {
		return nil
	}
	if _, ref := node["$ref"]; ref {
		return nil
	}
	var out []string
	switch t := node["type"].(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts := asList(node[key])
		if len(alts) == 0 {
			continue
		}
		var union []string
		for _, a := range alts {
			an, ok := a.(map[string]any)
			if !ok {
				return nil
			}
			k := kinds(an, depth+1)
			if k == nil {
				return nil
			}
			union = append(union, k...)
		}
		if out == nil {
			out = union
		} else { // type and anyOf both apply: the intersection
			out = slices.DeleteFunc(out, func(k string) bool { return !slices.Contains(union, k) })
		}
	}
	if out == nil {
		return nil
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// alternative returns the branch of node that describes values of JSON type kind:
// node itself, or one of its anyOf/oneOf alternatives.
func alternative(node map[string]any, kind string) map[string]any {
	if _, has := node["properties"]; has || kind == "array" && node["items"] != nil {
		return node
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		for _, a := range asList(node[key]) {
			if an, ok := a.(map[string]any); ok && slices.Contains(kinds(an, 0), kind) {
				return alternative(an, kind)
			}
		}
	}
	return node
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func describe(k []string) string {
	if k == nil {
		return "any"
	}
	return strings.Join(k, " or ")
}
