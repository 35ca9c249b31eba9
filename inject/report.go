package inject

import (
	"slices"
	"strings"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// flatten collects one FieldError per failing field of e.
func flatten(e *sjs.ValidationError, out *[]FieldError) {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range e.Causes {
			flatten(c, out)
		}
		if len(e.Causes) == 0 {
			*out = append(*out, FieldError{Path: pointer(loc), Message: k.LocalizedString(printer)})
		}
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, FieldError{Path: pointer(append(slices.Clip(loc), m)), Message: "missing required field"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Path: pointer(append(slices.Clip(loc), p)), Message: "unknown field"})
		}
	case *kind.Type:
		*out = append(*out, FieldError{Path: pointer(loc), Message: typeMessage(k.Got, k.Want)})
	case *kind.AnyOf:
		flattenAlternatives(e, out)
	case *kind.OneOf:
		if len(k.Subschemas) == 0 {
			flattenAlternatives(e, out)
			return
		}
		*out = append(*out, FieldError{Path: pointer(loc), Message: k.LocalizedString(printer)})
	default:
		*out = append(*out, FieldError{Path: pointer(loc), Message: k.LocalizedString(printer)})
	}
}

// flattenAlternatives reports a failed anyOf/oneOf. Alternatives that only
// allow null (added for nil Go values) are left out of the report; if one
// alternative remains its own failures are reported, otherwise one message
// for the field.
func flattenAlternatives(e *sjs.ValidationError, out *[]FieldError) {
	var rest []*sjs.ValidationError
	for _, c := range e.Causes {
		if t, ok := c.ErrorKind.(*kind.Type); ok && len(t.Want) == 1 && t.Want[0] == "null" {
			continue
		}
		rest = append(rest, c)
	}
	if len(rest) == 1 {
		flatten(rest[0], out)
		return
	}
	msg := e.ErrorKind.LocalizedString(printer)
	var got string
	var want []string
	for _, c := range rest {
		t, ok := c.ErrorKind.(*kind.Type)
		if !ok || (got != "" && t.Got != got) {
			want = nil
			break
		}
		got, want = t.Got, append(want, t.Want...)
	}
	if len(want) > 0 {
		msg = typeMessage(got, want)
	}
	*out = append(*out, FieldError{Path: pointer(e.InstanceLocation), Message: msg})
}

// typeMessage says "got X, want A or B", listing null last.
func typeMessage(got string, want []string) string {
	want = slices.Clone(want)
	if i := slices.Index(want, "null"); i >= 0 && len(want) > 1 {
		want = append(slices.Delete(want, i, i+1), "null")
	}
	return (&kind.Type{Got: got, Want: want}).LocalizedString(printer)
}

// pointer joins instance location tokens as a JSON pointer without the
// leading slash.
func pointer(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}
