package inject_test

import (
	"encoding/json"
	"testing"

	"github.com/hatchetflow/go/inject"
)

// The messages of a typical callback hop: the parent's input (3 fields, one nested),
// 3 bound kwargs, a parent return value of a few fields, and the callback's input type.
type (
	benchOrder struct {
		OrderID  string         `json:"order_id"`
		Priority string         `json:"priority"`
		Region   string         `json:"region"`
		Address  map[string]any `json:"address"`
		Items    []benchItem    `json:"items"`
	}
	benchItem struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	benchReceipt struct {
		OrderID string  `json:"order_id"`
		Total   float64 `json:"total"`
		Lines   int     `json:"lines"`
	}
	benchEmail struct {
		TaskResult inject.ReturnValue[benchReceipt] `json:"task_result"`
		Template   string                           `json:"template"`
		Locale     string                           `json:"locale"`
	}
	benchErrorMsg struct {
		benchOrder
		Err *inject.TaskError `json:"error"`
	}
)

func benchInput() map[string]any {
	return map[string]any{
		"order_id": "ord-1",
		"address":  map[string]any{"city": "Berlin", "zip": "10115"},
		"items":    []any{map[string]any{"sku": "a", "qty": 2.0}, map[string]any{"sku": "b", "qty": 1.0}},
	}
}

func benchKwargs() map[string]any {
	return map[string]any{"priority": "high", "region": "eu-west-1", "address": map[string]any{"country": "DE"}}
}

var (
	benchMap map[string]any
	benchRet benchEmail
	benchErr benchErrorMsg
)

// BenchmarkMerge merges 3 bound kwargs (one nested object) over a 3-field input, as
// the main step does before calling the user function.
func BenchmarkMerge(b *testing.B) {
	in, kw := benchInput(), benchKwargs()
	b.ReportAllocs()
	for b.Loop() {
		benchMap = inject.Merge(in, kw)
	}
}

// BenchmarkSuccessInput builds a success callback's input from the parent's result
// as the fast path has it (raw JSON), then merges the callback's kwargs over it.
func BenchmarkSuccessInput(b *testing.B) {
	raw, _ := json.Marshal(benchReceipt{OrderID: "ord-1", Total: 42.5, Lines: 2})
	result := json.RawMessage(raw)
	kw := map[string]any{"template": "welcome", "locale": "de"}
	f := inject.Fields{Return: "task_result"}
	b.ReportAllocs()
	for b.Loop() {
		benchMap = inject.Merge(inject.SuccessInput(f, result), kw)
	}
}

// BenchmarkErrorInput builds an error callback's input: the failed task's message
// (input with kwargs merged) plus the error details.
func BenchmarkErrorInput(b *testing.B) {
	original := inject.Merge(benchInput(), benchKwargs())
	te := &inject.TaskError{Task: "process-order", SignatureID: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		RunID: "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", Attempt: 3, Message: "payment declined"}
	f := inject.Fields{Return: inject.DefaultReturnField, Error: "error"}
	b.ReportAllocs()
	for b.Loop() {
		benchMap = inject.ErrorInput(original, f, te)
	}
}

// BenchmarkDecodeCallbackInput decodes a success callback's message (as it arrives
// from the engine: JSON-shaped maps) into its typed input with a ReturnValue field.
func BenchmarkDecodeCallbackInput(b *testing.B) {
	msg := map[string]any{
		"task_result": map[string]any{"order_id": "ord-1", "total": 42.5, "lines": 2.0},
		"template":    "welcome", "locale": "de",
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := inject.Decode[benchEmail](msg)
		if err != nil {
			b.Fatal(err)
		}
		benchRet = v
	}
}

// BenchmarkDecodeErrorInput decodes an error callback's message (the original
// message plus TaskError) into a type embedding the original message type.
func BenchmarkDecodeErrorInput(b *testing.B) {
	original := inject.Merge(benchInput(), benchKwargs())
	te := &inject.TaskError{Task: "process-order", SignatureID: "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		RunID: "5f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f", Attempt: 3, Message: "payment declined"}
	msg := inject.ErrorInput(original, inject.Fields{Error: "error"}, te)
	b.ReportAllocs()
	for b.Loop() {
		v, err := inject.Decode[benchErrorMsg](msg)
		if err != nil {
			b.Fatal(err)
		}
		benchErr = v
	}
}
