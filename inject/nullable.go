package inject

import (
	"reflect"
	"slices"

	"github.com/invopop/jsonschema"
)

// nullWalker lets the schema nodes of pointer, slice and map values accept
// null, following the Go type alongside the generated schema.
type nullWalker struct {
	defs jsonschema.Definitions
	seen map[*jsonschema.Schema]bool
}

// resolve follows a local "#/$defs/" reference.
func (w *nullWalker) resolve(s *jsonschema.Schema) *jsonschema.Schema {
	const prefix = "#/$defs/"
	for i := 0; s != nil && len(s.Ref) > len(prefix) && s.Ref[:len(prefix)] == prefix && i < 64; i++ {
		s = w.defs[s.Ref[len(prefix):]]
	}
	return s
}

// valueType follows pointers and the types aliasOf maps to (at most 64 steps) to the
// type whose schema was generated.
func valueType(t reflect.Type) reflect.Type {
	for range 64 {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		} else if a := aliasOf(t); a != nil {
			t = a
		} else {
			break
		}
	}
	return t
}

func (w *nullWalker) walk(s *jsonschema.Schema, t reflect.Type) {
	t = valueType(t)
	s = w.resolve(s)
	if s == nil || s == jsonschema.TrueSchema || s == jsonschema.FalseSchema || w.seen[s] {
		return
	}
	w.seen[s] = true
	switch t.Kind() {
	case reflect.Struct:
		if s.Properties == nil || t.Implements(schemaProviderType) || t.Implements(schemaPropertyAliaserType) {
			return
		}
		for _, f := range jsonFields(t) {
			p, ok := s.Properties.Get(f.name)
			if !ok {
				continue
			}
			w.walk(p, f.sf.Type)
			if goNullable(f.sf.Type) {
				s.Properties.Set(f.name, allowNull(p))
			}
		}
	case reflect.Slice, reflect.Array:
		if s.Items != nil {
			w.walk(s.Items, t.Elem())
			if goNullable(t.Elem()) {
				s.Items = allowNull(s.Items)
			}
		}
	case reflect.Map:
		if a := s.AdditionalProperties; a != nil && a != jsonschema.TrueSchema && a != jsonschema.FalseSchema {
			w.walk(a, t.Elem())
			if goNullable(t.Elem()) {
				s.AdditionalProperties = allowNull(a)
			}
		}
		for k, p := range s.PatternProperties {
			w.walk(p, t.Elem())
			if goNullable(t.Elem()) {
				s.PatternProperties[k] = allowNull(p)
			}
		}
	}
}

// goNullable reports whether encoding/json may write a value of type t as
// null: nil pointers, slices and maps (also inside a ReturnValue or a Signal).
func goNullable(t reflect.Type) bool {
	for range 64 {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			return true
		}
		inner, ok := returnValueElem(t)
		if !ok {
			inner, ok = signalElem(t)
		}
		if !ok {
			return false
		}
		t = inner
	}
	return false
}

// allowNull returns a schema that also accepts null. It never modifies s.
func allowNull(s *jsonschema.Schema) *jsonschema.Schema {
	switch {
	case s == nil || s == jsonschema.TrueSchema || s == jsonschema.FalseSchema:
		return s
	case s.Type == "null":
		return s
	case s.Type != "" && s.Extras["type"] == nil:
		cp := *s
		cp.Extras = make(map[string]any, len(s.Extras)+1)
		for k, v := range s.Extras {
			cp.Extras[k] = v
		}
		cp.Type = ""
		cp.Extras["type"] = []string{s.Type, "null"}
		return &cp
	case s.Ref != "" || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || len(s.AllOf) > 0:
		if slices.ContainsFunc(s.AnyOf, isNullSchema) || slices.ContainsFunc(s.OneOf, isNullSchema) {
			return s
		}
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{s, {Type: "null"}}}
	}
	return s // no type constraint: null is already accepted
}

func isNullSchema(s *jsonschema.Schema) bool { return s != nil && s.Type == "null" }
