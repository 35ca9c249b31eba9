package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ResultKey is the envelope key that holds a task's return value.
const ResultKey = "result"

// DispatchedKey is the envelope key that records whether the task's
// callbacks were dispatched.
const DispatchedKey = "dispatched"

// Envelope wraps a task's return value for Hatchet, whose payloads must be
// JSON objects: {"result": result, "dispatched": dispatched}. result may be
// any JSON value, including null, a number or a list.
func Envelope(result any, dispatched bool) map[string]any {
	return map[string]any{ResultKey: result, DispatchedKey: dispatched}
}

// Unenvelope extracts the result from a task output produced by
// [Envelope], given as a map[string]any, a map[string]json.RawMessage or
// raw JSON bytes ([]byte or json.RawMessage). A null result is returned as
// the JSON text null. Outputs that are not JSON objects or have no "result"
// key give an error wrapping [ErrNotEnvelope].
func Unenvelope(out any) (json.RawMessage, error) {
	switch o := out.(type) {
	case map[string]any:
		v, ok := o[ResultKey]
		if !ok {
			return nil, fmt.Errorf("%w: no %q key", ErrNotEnvelope, ResultKey)
		}
		if raw, ok := v.(json.RawMessage); ok {
			return rawOrNull(raw), nil
		}
		b, err := marshal(v)
		if err != nil {
			return nil, fmt.Errorf("hatchetflow: encode envelope result: %w", err)
		}
		return b, nil
	case map[string]json.RawMessage:
		raw, ok := o[ResultKey]
		if !ok {
			return nil, fmt.Errorf("%w: no %q key", ErrNotEnvelope, ResultKey)
		}
		return rawOrNull(bytes.Clone(raw)), nil
	case json.RawMessage:
		return unenvelopeBytes(o)
	case []byte:
		return unenvelopeBytes(o)
	case nil:
		return nil, fmt.Errorf("%w: output is nil", ErrNotEnvelope)
	default:
		return nil, fmt.Errorf("%w: unsupported output type %T", ErrNotEnvelope, out)
	}
}

func unenvelopeBytes(b []byte) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEnvelope, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: output is null", ErrNotEnvelope)
	}
	raw, ok := obj[ResultKey]
	if !ok {
		return nil, fmt.Errorf("%w: no %q key", ErrNotEnvelope, ResultKey)
	}
	return rawOrNull(raw), nil
}

// rawOrNull maps an empty (Go nil) raw message to JSON null.
func rawOrNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}
