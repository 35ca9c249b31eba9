package inject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a compiled JSON Schema that validates callback inputs. It is
// safe for concurrent use. Create it with [CompileSchema].
type Schema struct {
	raw  json.RawMessage
	doc  any // decoded document, for the partial variant
	full *sjs.Schema

	partialOnce sync.Once
	partial     *sjs.Schema
	partialErr  error
}

// schemaLocation is the in-memory URL under which documents are compiled.
const schemaLocation = "mem:///hatchetflow/input.schema.json"

// printer renders validation messages in English.
var printer = message.NewPrinter(language.English)

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless its
// "$schema" says otherwise). References outside the document are not
// loaded (this package does no I/O). A document that is not JSON or not a
// valid schema gives an error wrapping [ErrInvalidSchema].
func CompileSchema(doc json.RawMessage) (*Schema, error) {
	v, err := sjs.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	full, err := compileDoc(v)
	if err != nil {
		return nil, err
	}
	return &Schema{raw: bytes.Clone(doc), doc: v, full: full}, nil
}

func compileDoc(doc any) (*sjs.Schema, error) {
	c := sjs.NewCompiler()
	c.UseLoader(noLoader{})
	c.AssertFormat() // "format" is a check, not an annotation: time.Time fields need RFC 3339
	c.RegisterFormat(dateTimeFormat)

	if err := c.AddResource(schemaLocation, doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	s, err := c.Compile(schemaLocation)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	return s, nil
}

// dateTimeFormat is "date-time" as the decoder reads it: a string a time.Time takes
// (encoding/json's strict RFC 3339), so a message the schema accepts always decodes.
// The validator's own check is looser (it took "20:08:+0Z" for a time).
var dateTimeFormat = &sjs.Format{Name: "date-time", Validate: func(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	var t time.Time
	return t.UnmarshalText([]byte(s))
}}

// noLoader refuses to load external schema documents.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s: external schema references are not supported", url)
}

// Raw returns a copy of the schema document.
func (s *Schema) Raw() json.RawMessage {
	if s == nil {
		return nil
	}
	return bytes.Clone(s.raw)
}

// Validate checks a complete message against the schema. It returns nil or
// a [*ValidationError] listing every failing field (Task left empty for the
// caller to fill in). Missing required fields, wrong types and unknown
// fields are all reported. A nil msg counts as an empty object.
//
// msg may hold values as encoding/json decodes them (float64 or
// json.Number), Go integers, and typed Go values such as []string or
// structs: the latter are normalised with a JSON round trip first. A value
// JSON cannot encode (NaN, a channel) is reported as a failure of the
// message itself.
//
// A nil or zero Schema gives an error wrapping [ErrInvalidSchema].
func (s *Schema) Validate(msg map[string]any) error {
	if s == nil || s.full == nil {
		return fmt.Errorf("%w: nil or zero Schema", ErrInvalidSchema)
	}
	return validateWith(s.full, msg)
}

// ValidatePartial checks a partial message, such as a signature's bound
// kwargs: it behaves as [Schema.Validate] except that the "required" (and
// "dependentRequired") keywords are ignored everywhere, so missing fields
// are fine while wrong types and unknown fields are still errors.
func (s *Schema) ValidatePartial(msg map[string]any) error {
	if s == nil || s.full == nil {
		return fmt.Errorf("%w: nil or zero Schema", ErrInvalidSchema)
	}
	s.partialOnce.Do(func() {
		s.partial, s.partialErr = compileDoc(stripRequired(DeepCopy(s.doc)))
	})
	if s.partialErr != nil {
		return s.partialErr
	}
	return validateWith(s.partial, msg)
}

func validateWith(sch *sjs.Schema, msg map[string]any) error {
	v, err := normalise(msg)
	if err != nil {
		return &ValidationError{Fields: []FieldError{{Message: "message cannot be encoded as JSON: " + err.Error()}}}
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	var verr *sjs.ValidationError
	if !errors.As(err, &verr) {
		return &ValidationError{Fields: []FieldError{{Message: err.Error()}}}
	}
	var fields []FieldError
	flatten(verr, &fields)
	if len(fields) == 0 {
		fields = append(fields, FieldError{Message: verr.ErrorKind.LocalizedString(printer)})
	}
	slices.SortFunc(fields, func(a, b FieldError) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return &ValidationError{Fields: slices.Compact(fields)}
}

// normalise turns msg into the plain JSON values the validator understands,
// with a JSON round trip (keeping numbers exact) when it holds anything else.
func normalise(msg map[string]any) (any, error) {
	if msg == nil {
		return map[string]any{}, nil
	}
	if isPlainJSON(msg, 0) {
		return msg, nil
	}
	data, err := marshal(msg)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// isPlainJSON reports whether v holds only values the validator accepts as
// they are. Values nested deeper than maxMergeDepth (or cyclic) are not
// plain; the JSON round trip then reports them.
func isPlainJSON(v any, depth int) bool {
	if depth > maxMergeDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case json.Number:
		return x != "" && (x[0] == '-' || (x[0] >= '0' && x[0] <= '9')) && json.Valid([]byte(x))
	case map[string]any:
		for _, e := range x {
			if !isPlainJSON(e, depth+1) {
				return false
			}
		}
		return x != nil
	case []any:
		for _, e := range x {
			if !isPlainJSON(e, depth+1) {
				return false
			}
		}
		return x != nil
	}
	return false
}
