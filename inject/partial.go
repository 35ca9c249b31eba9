package inject

import "slices"

// Keywords whose values are subschemas, by shape.
var (
	schemaKeywords = []string{
		"additionalItems", "additionalProperties", "contains", "contentSchema", "else", "if",
		"items", "not", "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties",
	}
	schemaListKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems", "items"}
	schemaMapKeywords  = []string{"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"}
)

// stripRequired removes the "required" and "dependentRequired" keywords
// (and list-valued "dependencies") from every schema in doc, in place, and
// returns doc. Property names are never touched.
func stripRequired(doc any) any {
	s, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	delete(s, "required")
	delete(s, "dependentRequired")
	for _, k := range schemaKeywords {
		if _, isList := s[k].([]any); !isList {
			stripRequired(s[k])
		}
	}
	for _, k := range schemaListKeywords {
		if l, ok := s[k].([]any); ok {
			for _, e := range l {
				stripRequired(e)
			}
		}
	}
	for _, k := range schemaMapKeywords {
		if m, ok := s[k].(map[string]any); ok {
			for _, e := range m {
				stripRequired(e)
			}
		}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		// Alternatives that only differed in their required fields (invopop's
		// oneof_required) are now unconstrained: a partial message cannot be
		// checked against them.
		if l, ok := s[k].([]any); ok && slices.ContainsFunc(l, isTrivialSchema) {
			delete(s, k)
		}
	}
	if deps, ok := s["dependencies"].(map[string]any); ok {
		for name, d := range deps {
			if _, isList := d.([]any); isList {
				delete(deps, name)
			} else {
				stripRequired(d)
			}
		}
	}
	return doc
}

// isTrivialSchema reports whether the schema s accepts every value: true,
// or an object holding only annotations.
func isTrivialSchema(s any) bool {
	switch x := s.(type) {
	case bool:
		return x
	case map[string]any:
		for k := range x {
			switch k {
			case "title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly":
			default:
				return false
			}
		}
		return true
	}
	return false
}
