package inject

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Decode converts a JSON-object message into a T with a JSON round trip,
// following encoding/json's rules: unknown keys are ignored, keys match
// field names case-insensitively, and fields typed any receive float64
// numbers. Integer fields keep their full precision (9007199254740993 fits
// an int64 field) as long as msg holds the number exactly, as a json.Number
// or a Go integer rather than a float64.
//
// A value that does not fit T gives a [*DecodeError] naming its path
// (such as "items[2].qty"), the expected Go type and the JSON kind found.
// Decode never panics, even if a custom UnmarshalJSON method does.
func Decode[T any](msg map[string]any) (out T, err error) {
	target := reflect.TypeFor[T]()
	defer func() {
		if r := recover(); r != nil {
			var zero T
			out = zero
			err = &DecodeError{Expected: typeString(target), Err: fmt.Errorf("panic during decoding: %v", r)}
		}
	}()
	data, err := marshal(msg)
	if err != nil {
		return out, &DecodeError{Expected: typeString(target), Got: "a value JSON cannot encode", Err: err}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		var zero T
		// -0 is a valid unsigned integer to a JSON Schema (it equals 0) but not to
		// encoding/json: decode it as 0.
		if fixed, ok := positiveZeros(msg).(map[string]any); ok && fixed != nil {
			if data2, merr := marshal(fixed); merr == nil && json.Unmarshal(data2, &out) == nil {
				return out, nil
			}
			out = zero
		}
		return zero, locateDecodeError(data, target, err)
	}
	return out, nil
}

// positiveZeros returns a copy of v with every negative zero (a float64 -0 or a
// json.Number such as "-0" or "-0.0") replaced by 0, or nil when v has none.
func positiveZeros(v any) any {
	switch x := v.(type) {
	case float64:
		if x == 0 && math.Signbit(x) {
			return float64(0)
		}
	case json.Number:
		if f, err := x.Float64(); err == nil && f == 0 && strings.HasPrefix(string(x), "-") {
			return json.Number("0")
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			if fixed := positiveZeros(e); fixed != nil {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = fixed
			}
		}
		if out != nil {
			return out
		}
	case []any:
		var out []any
		for i, e := range x {
			if fixed := positiveZeros(e); fixed != nil {
				if out == nil {
					out = slices.Clone(x)
				}
				out[i] = fixed
			}
		}
		if out != nil {
			return out
		}
	}
	return nil
}

// locateDecodeError turns an encoding/json error into a DecodeError that
// names the offending field, by decoding the message generically and
// retrying each part against its Go type until the smallest failing part is
// found.
func locateDecodeError(data []byte, target reflect.Type, cause error) error {
	de := &DecodeError{Expected: typeString(target), Err: cause}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var generic any
	if dec.Decode(&generic) != nil {
		return de
	}
	path, t, v := findMismatch("", target, generic)
	de.Field, de.Expected, de.Got = path, typeString(t), jsonKind(v)
	return de
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// findMismatch returns the path, Go type and value of the deepest part of v
// that does not decode into t. It assumes the whole v does not.
func findMismatch(path string, t reflect.Type, v any) (string, reflect.Type, any) {
	for t.Kind() == reflect.Pointer {
		if v == nil {
			return path, t, v
		}
		t = t.Elem()
	}
	if inner, ok := returnValueElem(t); ok {
		if !fits(inner, v) {
			return findMismatch(path, inner, v)
		}
		return path, t, v
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
		return path, t, v // custom decoding: cannot look inside
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			break
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			f, ok := lookupJSONField(fields, k)
			if !ok || fits(f.sf.Type, obj[k]) {
				continue
			}
			return findMismatch(joinField(path, k), f.sf.Type, obj[k])
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			break
		}
		for _, k := range sortedKeys(obj) {
			if !keyFits(t.Key(), k) {
				return joinField(path, k), t.Key(), k
			}
			if !fits(t.Elem(), obj[k]) {
				return findMismatch(joinField(path, k), t.Elem(), obj[k])
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			break
		}
		for i, e := range arr {
			if t.Kind() == reflect.Array && i >= t.Len() {
				break
			}
			if !fits(t.Elem(), e) {
				return findMismatch(path+"["+strconv.Itoa(i)+"]", t.Elem(), e)
			}
		}
	}
	return path, t, v
}

// fits reports whether the JSON value v decodes into a t without error.
func fits(t reflect.Type, v any) bool {
	data, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, reflect.New(t).Interface()) == nil
}

// keyFits reports whether the JSON object key k decodes into the map key
// type kt.
func keyFits(kt reflect.Type, k string) bool {
	data, err := json.Marshal(map[string]any{k: nil})
	if err != nil {
		return false
	}
	m := reflect.New(reflect.MapOf(kt, reflect.TypeFor[json.RawMessage]()))
	return json.Unmarshal(data, m.Interface()) == nil
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonKind names the JSON kind of a generically decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeString(t reflect.Type) string {
	if t == nil {
		return "any"
	}
	return t.String()
}
