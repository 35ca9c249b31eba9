package inject_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatchetflow/go/inject"
)

type validateMsg struct {
	OrderID  string                  `json:"order_id" jsonschema:"required"`
	Priority string                  `json:"priority" jsonschema:"required"`
	Items    []schemaLine            `json:"items"`
	Tags     []string                `json:"tags"`
	Big      int64                   `json:"big"`
	Ratio    float64                 `json:"ratio"`
	Result   inject.ReturnValue[int] `json:"task_result"`
	Nested   *schemaLine             `json:"nested"`
}

func compileFor[T any](t *testing.T) *inject.Schema {
	t.Helper()
	raw, err := inject.SchemaOf(reflect.TypeFor[T]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inject.CompileSchema(raw)
	if err != nil {
		t.Fatalf("CompileSchema(%s): %v", raw, err)
	}
	return s
}

func assertFields(t *testing.T, err error, want []inject.FieldError) {
	t.Helper()
	var ve *inject.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want *ValidationError", err, err)
	}
	if !errors.Is(err, inject.ErrValidation) {
		t.Fatalf("%v does not match ErrValidation", err)
	}
	if !reflect.DeepEqual(ve.Fields, want) {
		t.Fatalf("fields = %#v\nwant %#v", ve.Fields, want)
	}
}

func TestValidateValid(t *testing.T) {
	s := compileFor[validateMsg](t)
	for name, msg := range map[string]map[string]any{
		"JSON-decoded": {"order_id": "o", "priority": "high", "items": []any{map[string]any{"sku": "a", "qty": 2.0}}, "big": 3.0, "task_result": 4.0},
		"Go values": {
			"order_id": "o", "priority": "high", "items": []schemaLine{{SKU: "a", Qty: 2}},
			"tags": []string{"x"}, "big": int64(9007199254740993), "ratio": float32(0.5), "task_result": 4, "nested": &schemaLine{SKU: "n", Qty: 1},
		},
		"json.Number": {"order_id": "o", "priority": "p", "big": json.Number("9007199254740993"), "ratio": json.Number("1e3")},
		"nil values":  {"order_id": "o", "priority": "p", "tags": []string(nil), "items": nil, "nested": nil},
	} {
		if err := s.Validate(msg); err != nil {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

func TestValidateListsEveryField(t *testing.T) {
	s := compileFor[validateMsg](t)
	msg := map[string]any{
		"priority": 1.0,
		"items":    []any{map[string]any{"sku": "a", "qty": 1.0}, map[string]any{"sku": "b", "qty": "two"}, map[string]any{"qty": 0}},
		"tags":     []any{"ok", 3},
		"big":      1.5,
		"extra":    true,
		"nested":   "n",
	}
	err := s.Validate(msg)
	assertFields(t, err, []inject.FieldError{
		{Path: "big", Message: "got number, want integer"},
		{Path: "extra", Message: "unknown field"},
		{Path: "items/1/qty", Message: "got string, want integer"},
		{Path: "items/2/qty", Message: "minimum: got 0, want 1"},
		{Path: "items/2/sku", Message: "missing required field"},
		{Path: "nested", Message: "got string, want object or null"},
		{Path: "order_id", Message: "missing required field"},
		{Path: "priority", Message: "got number, want string"},
		{Path: "tags/1", Message: "got number, want string"},
	})
	ve := err.(*inject.ValidationError)
	ve.Task = "process-order"
	if got := ve.Error(); !strings.HasPrefix(got, `hatchetflow: invalid input for task "process-order": big: got number, want integer; extra: unknown field; `) {
		t.Fatalf("Error() = %q", got)
	}
}

func TestValidatePartial(t *testing.T) {
	s := compileFor[validateMsg](t)
	if err := s.ValidatePartial(map[string]any{"tags": []string{"x"}}); err != nil {
		t.Fatalf("ValidatePartial of valid bound kwargs = %v", err)
	}
	if err := s.ValidatePartial(map[string]any{"items": []any{map[string]any{"qty": 1.0}}}); err != nil {
		t.Fatalf("ValidatePartial required a nested field: %v", err)
	}
	if err := s.ValidatePartial(nil); err != nil {
		t.Fatalf("ValidatePartial(nil) = %v", err)
	}
	assertFields(t, s.ValidatePartial(map[string]any{"priority": 5, "unknown": "x", "items": []any{map[string]any{"qty": "1"}}}), []inject.FieldError{
		{Path: "items/0/qty", Message: "got string, want integer"},
		{Path: "priority", Message: "got number, want string"},
		{Path: "unknown", Message: "unknown field"},
	})
	// The full check still requires fields afterwards.
	assertFields(t, s.Validate(map[string]any{"order_id": "o"}), []inject.FieldError{
		{Path: "priority", Message: "missing required field"},
	})
}

func TestValidatePartialKeepsPropertyNamedRequired(t *testing.T) {
	type msg struct {
		Required bool `json:"required" jsonschema:"required"`
	}
	s := compileFor[msg](t)
	if err := s.ValidatePartial(map[string]any{}); err != nil {
		t.Fatal(err)
	}
	assertFields(t, s.ValidatePartial(map[string]any{"required": "yes"}), []inject.FieldError{
		{Path: "required", Message: "got string, want boolean"},
	})
}

func TestValidatePartialOneOfRequired(t *testing.T) {
	type msg struct {
		Email string `json:"email" jsonschema:"oneof_required=by_email"`
		Phone string `json:"phone" jsonschema:"oneof_required=by_phone"`
	}
	s := compileFor[msg](t)
	if err := s.Validate(map[string]any{"email": "e"}); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if err := s.Validate(map[string]any{}); err == nil {
		t.Fatal("Validate accepted a message matching no oneof_required group")
	}
	if err := s.ValidatePartial(map[string]any{}); err != nil {
		t.Fatalf("ValidatePartial = %v", err)
	}
}

func TestValidateUnencodable(t *testing.T) {
	s := compileFor[validateMsg](t)
	for _, msg := range []map[string]any{{"ratio": math.NaN()}, {"ratio": make(chan int)}, {"ratio": json.Number("x")}} {
		var ve *inject.ValidationError
		if err := s.Validate(msg); !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Path != "" {
			t.Errorf("Validate(%v) = %v, want one root failure", msg, err)
		}
	}
}

func TestValidateDoesNotModifyMessage(t *testing.T) {
	s := compileFor[validateMsg](t)
	msg := map[string]any{"order_id": "o", "priority": "p", "tags": []string{"a"}, "big": 1.0}
	before := snapshot(t, msg)
	_ = s.Validate(msg)
	_ = s.ValidatePartial(msg)
	if snapshot(t, msg) != before {
		t.Fatal("Validate modified the message")
	}
	if _, ok := msg["tags"].([]string); !ok {
		t.Fatal("Validate replaced a typed value in the message")
	}
}

func TestCompileSchemaInvalid(t *testing.T) {
	for _, doc := range []string{
		`not json`,
		`{"type": 5}`,
		`{"properties": {"a": {"minimum": "x"}}}`,
		`{"$ref": "https://example.com/schema.json"}`,
		`{"$ref": "file:///etc/passwd"}`,
		`{"pattern": "("}`,
		``,
	} {
		if _, err := inject.CompileSchema(json.RawMessage(doc)); !errors.Is(err, inject.ErrInvalidSchema) {
			t.Errorf("CompileSchema(%s) error = %v, want ErrInvalidSchema", doc, err)
		}
	}
}

func TestSchemaRawAndNil(t *testing.T) {
	doc := json.RawMessage(`{"type":"object"}`)
	s, err := inject.CompileSchema(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw := s.Raw()
	if string(raw) != string(doc) {
		t.Fatalf("Raw = %s", raw)
	}
	raw[0] = 'X'
	doc[1] = 'X'
	if string(s.Raw()) != `{"type":"object"}` {
		t.Fatal("Raw shares memory with the caller")
	}

	var nilSchema *inject.Schema
	if !errors.Is(nilSchema.Validate(nil), inject.ErrInvalidSchema) ||
		!errors.Is(nilSchema.ValidatePartial(nil), inject.ErrInvalidSchema) ||
		!errors.Is((&inject.Schema{}).Validate(nil), inject.ErrInvalidSchema) || nilSchema.Raw() != nil {
		t.Fatal("nil or zero Schema did not report ErrInvalidSchema")
	}
}

func TestValidateConcurrent(t *testing.T) {
	s := compileFor[validateMsg](t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			msg := map[string]any{"priority": i}
			if err := s.ValidatePartial(msg); err == nil {
				t.Error("ValidatePartial accepted a wrong type")
			}
			if err := s.Validate(msg); err == nil {
				t.Error("Validate accepted a wrong type")
			}
		})
	}
	wg.Wait()
}

func TestValidationErrorFormat(t *testing.T) {
	e := &inject.ValidationError{Fields: []inject.FieldError{{Path: "", Message: "bad"}, {Path: "a/b", Message: "worse"}}}
	if got := e.Error(); got != "hatchetflow: invalid input: bad; a/b: worse" {
		t.Fatalf("Error() = %q", got)
	}
}

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("boom") }

func TestUserPanicsAreErrors(t *testing.T) {
	s := compileFor[validateMsg](t)
	msg := map[string]any{"order_id": panicMarshaler{}}
	if err := s.Validate(msg); !errors.Is(err, inject.ErrValidation) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Validate = %v", err)
	}
	if _, err := inject.Decode[validateMsg](msg); !errors.Is(err, inject.ErrDecode) {
		t.Fatalf("Decode = %v", err)
	}
}

// A date-time the validator takes is one a time.Time decodes: "20:08:+0Z" passed the
// validator's own format check and failed at the worker (found by FuzzValidate).
func TestValidateDateTimeAsTheDecoderReadsIt(t *testing.T) {
	type Msg struct {
		When time.Time `json:"when"`
	}
	doc, err := inject.SchemaOf(reflect.TypeFor[Msg]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inject.CompileSchema(doc)
	if err != nil {
		t.Fatal(err)
	}
	for in, ok := range map[string]bool{"2024-02-07T20:08:00Z": true, "2024-02-07T20:08:00.5+02:00": true, "0024-02-07T20:08:+0Z": false, "2024-02-07": false} {
		err := s.Validate(map[string]any{"when": in})
		if (err == nil) != ok {
			t.Errorf("Validate(when=%q) = %v, want valid %v", in, err, ok)
		}
		if _, derr := inject.Decode[Msg](map[string]any{"when": in}); err == nil && derr != nil {
			t.Errorf("Validate accepts %q but Decode fails: %v", in, derr)
		}
	}
}
