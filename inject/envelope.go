package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ValueKey is the one key of the object that carries a task's return value when that
// value is not itself a JSON object or null; see [WrapOutput].
const ValueKey = "hatchetflow_value"

// WrapOutput returns what the main step of a task whose workflow has an on-failure
// step hands the engine for the encoded return value raw: raw itself when it is a
// JSON object or null, which is nearly every task (structs and maps), so that the
// Hatchet dashboard, plain Hatchet callers and other languages read exactly what the
// function returned; otherwise (numbers, strings, lists, booleans) the object
// {"hatchetflow_value": raw}. Hatchet cannot complete a run of a workflow with an
// on-failure step whose task output is not an object: the run stays stuck forever
// (measured on v0.104.7), so such values must travel wrapped. A one-task workflow
// (hatchetflow's default shape) takes any JSON value, so its step hands raw over
// unwrapped. [UnwrapOutput] reverses it and leaves unwrapped values as they are.
func WrapOutput(raw json.RawMessage) json.RawMessage {
	raw = rawOrNull(bytes.TrimSpace(raw))
	if raw[0] == '{' || bytes.Equal(raw, []byte("null")) {
		return raw
	}
	out := make([]byte, 0, len(ValueKey)+len(raw)+5)
	out = append(out, `{"`+ValueKey+`":`...)
	out = append(out, raw...)
	return append(out, '}')
}

// UnwrapOutput returns the return value a main step's output carries: the value under
// [ValueKey] when out is an object with that one key, else out itself. An empty out
// is null. It returns an error wrapping [ErrNotJSON] when out is not valid JSON.
func UnwrapOutput(out json.RawMessage) (json.RawMessage, error) {
	out = rawOrNull(bytes.TrimSpace(out))
	if !json.Valid(out) {
		return nil, fmt.Errorf("%w: %.64q", ErrNotJSON, out)
	}
	if out[0] != '{' {
		return out, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(out, &obj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	if v, ok := obj[ValueKey]; ok && len(obj) == 1 {
		return rawOrNull(v), nil
	}
	return out, nil
}

// rawOrNull maps an empty raw message to JSON null.
func rawOrNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}
