package inject

import (
	"encoding/json"
	"reflect"
	"strings"
)

// DefaultReturnField is the input field that receives a parent's return
// value when the callback's input type marks none.
const DefaultReturnField = "mageflow_results"

// ReturnValue marks the field of a success callback's input type that
// receives the parent's return value.
//
// It is JSON-transparent: it marshals and unmarshals exactly as its Value,
// so {"task_result": 42} decodes into ReturnValue[int]{Value: 42}, and its
// JSON Schema (see [SchemaOf]) is T's.
type ReturnValue[T any] struct {
	// Value is the parent's return value.
	Value T
}

// returnValueMarker is implemented by every ReturnValue[T] (and *ReturnValue[T]).
type returnValueMarker interface {
	hatchetflowReturnValue() reflect.Type
}

var returnValueMarkerType = reflect.TypeFor[returnValueMarker]()

// hatchetflowReturnValue marks ReturnValue for reflection and reports T.
func (ReturnValue[T]) hatchetflowReturnValue() reflect.Type { return reflect.TypeFor[T]() }

// MarshalJSON encodes r exactly as r.Value.
func (r ReturnValue[T]) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.Value)
}

// UnmarshalJSON decodes data into r.Value. JSON null leaves a non-pointer
// Value unchanged and sets a pointer, slice, map or interface Value to nil,
// as encoding/json does.
func (r *ReturnValue[T]) UnmarshalJSON(data []byte) error {
	return json.Unmarshal(data, &r.Value)
}

// JSONSchemaAlias tells github.com/invopop/jsonschema reflectors to describe
// r with T's schema.
func (ReturnValue[T]) JSONSchemaAlias() any { return new(T) }

// returnValueElem reports whether t is a ReturnValue type (or a pointer to
// one) and, if so, its T. Types that merely embed a ReturnValue do not count.
func returnValueElem(t reflect.Type) (reflect.Type, bool) {
	if t == nil {
		return nil, false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != packagePath ||
		!strings.HasPrefix(t.Name(), "ReturnValue[") || !t.Implements(returnValueMarkerType) {
		return nil, false
	}
	m, ok := reflect.Zero(t).Interface().(returnValueMarker)
	if !ok {
		return nil, false
	}
	return m.hatchetflowReturnValue(), true
}

// packagePath is this package's import path.
var packagePath = reflect.TypeFor[Fields]().PkgPath()
