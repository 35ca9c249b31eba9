package inject

import (
	"encoding/json"
	"reflect"
	"strings"
)

// DefaultSignalField is the input field that receives the payload of the signal a
// waiting signature was released by (hatchetflow's dsl.Builder.After and
// Client.Signal) when the task's input type marks none.
const DefaultSignalField = "signal"

// Signal marks the field of a task's input type that receives the payload of the
// signal that released a waiting signature (dsl.Builder.After). It is
// JSON-transparent like [ReturnValue]: {"approval": {"by": "ann"}} decodes into
// Signal[Approval]{Value: Approval{By: "ann"}}, and its JSON Schema is T's. The tag
// `hatchetflow:"signal"` marks a field of any type the same way; with neither, the
// payload goes to the field [DefaultSignalField].
type Signal[T any] struct {
	// Value is the signal's payload.
	Value T
}

// signalMarker is implemented by every Signal[T] (and *Signal[T]).
type signalMarker interface {
	hatchetflowSignal() reflect.Type
}

var signalMarkerType = reflect.TypeFor[signalMarker]()

// hatchetflowSignal marks Signal for reflection and reports T.
func (Signal[T]) hatchetflowSignal() reflect.Type { return reflect.TypeFor[T]() }

// MarshalJSON encodes s exactly as s.Value.
func (s Signal[T]) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.Value)
}

// UnmarshalJSON decodes data into s.Value, as [ReturnValue.UnmarshalJSON] does.
func (s *Signal[T]) UnmarshalJSON(data []byte) error {
	return json.Unmarshal(data, &s.Value)
}

// JSONSchemaAlias tells github.com/invopop/jsonschema reflectors to describe s with
// T's schema.
func (Signal[T]) JSONSchemaAlias() any { return new(T) }

// signalElem reports whether t is a Signal type (or a pointer to one) and, if so,
// its T. Types that merely embed a Signal do not count.
func signalElem(t reflect.Type) (reflect.Type, bool) {
	if t == nil {
		return nil, false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != packagePath ||
		!strings.HasPrefix(t.Name(), "Signal[") || !t.Implements(signalMarkerType) {
		return nil, false
	}
	m, ok := reflect.Zero(t).Interface().(signalMarker)
	if !ok {
		return nil, false
	}
	return m.hatchetflowSignal(), true
}

// SignalInput returns the message a released signature's run is dispatched with: a
// copy of msg (the message it was run with) with payload in the field f.Signal
// ([DefaultSignalField] when f.Signal is ""). msg is not modified.
func SignalInput(msg map[string]any, f Fields, payload map[string]any) map[string]any {
	name := f.Signal
	if name == "" {
		name = DefaultSignalField
	}
	out := copyObject(msg)
	out[name] = DeepCopy(payload)
	return out
}
