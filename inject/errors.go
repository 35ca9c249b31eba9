package inject

import (
	"errors"
	"strconv"
	"strings"
)

// ErrValidation is matched (with errors.Is) by every [*ValidationError].
var ErrValidation = errors.New("hatchetflow: invalid input")

// ErrInvalidSchema is wrapped by errors about JSON Schema documents that
// cannot be compiled, and by errors from a nil or zero [Schema].
var ErrInvalidSchema = errors.New("hatchetflow: invalid JSON schema")

// ErrNotJSON is wrapped by [UnwrapOutput] errors when a task output is not JSON.
var ErrNotJSON = errors.New("hatchetflow: task output is not JSON")

// ErrDecode is matched (with errors.Is) by every [*DecodeError].
var ErrDecode = errors.New("hatchetflow: cannot decode message")

// ErrUnsupportedType is wrapped by [SchemaOf] errors for Go types that have
// no JSON Schema (channels, functions, complex numbers).
var ErrUnsupportedType = errors.New("hatchetflow: unsupported type")

// DecodeError reports a message that does not fit the target Go type.
type DecodeError struct {
	// Task is the task whose input it is, when known.
	Task string
	// Field is the path of the offending value, such as "items[2].qty";
	// "" means the message itself.
	Field string
	// Expected is the Go type the value had to fit, such as "int".
	Expected string
	// Got is the JSON kind of the value: "string", "number", "object",
	// "array", "boolean" or "null" (or a description when the message
	// could not be encoded at all).
	Got string
	// Err is the underlying encoding/json error.
	Err error
}

// Error names the field, the expected type and what was found.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("hatchetflow: cannot decode message")
	if e.Task != "" {
		b.WriteString(" for task ")
		b.WriteString(strconv.Quote(e.Task))
	}
	if e.Field != "" {
		b.WriteString(": field ")
		b.WriteString(e.Field)
	}
	if e.Expected != "" || e.Got != "" {
		b.WriteString(": got ")
		b.WriteString(orUnknown(e.Got))
		b.WriteString(", want ")
		b.WriteString(orUnknown(e.Expected))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying encoding/json error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrDecode].
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// FieldError is one failing field of a [ValidationError].
type FieldError struct {
	// Path locates the field as JSON-pointer tokens joined by "/" without
	// a leading slash, such as "priority" or "items/2/qty"; "" is the
	// message itself. "~" and "/" inside keys are escaped as "~0" and "~1".
	Path string
	// Message says what is wrong, such as "got number, want string".
	Message string
}

// String returns "path: message", or the message alone for the root.
func (f FieldError) String() string {
	if f.Path == "" {
		return f.Message
	}
	return f.Path + ": " + f.Message
}

// ValidationError lists every field of a message that failed validation.
type ValidationError struct {
	// Task is the name of the task whose input was checked; callers fill
	// it in, and it may be empty.
	Task string
	// Fields holds every failure, sorted by path.
	Fields []FieldError
}

// Error lists the task and every failing field, for example
// `hatchetflow: invalid input for task "process-order": priority: got number, want string; qty: missing required field`.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("hatchetflow: invalid input")
	if e.Task != "" {
		b.WriteString(" for task ")
		b.WriteString(strconv.Quote(e.Task))
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// Is reports whether target is [ErrValidation].
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }
