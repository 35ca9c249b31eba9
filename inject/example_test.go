package inject_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/hatchetflow/go/inject"
)

// A success callback marks the field that receives its parent's return value
// with ReturnValue. The callback's bound kwargs are merged over the injected
// value and win on conflicts.
func ExampleReturnValue() {
	type Total struct {
		Amount   int    `json:"amount"`
		Currency string `json:"currency"`
	}
	type SuccessMessage struct {
		TaskResult inject.ReturnValue[Total] `json:"task_result"`
		FieldInt   int                       `json:"field_int"`
	}

	f := inject.FieldsOf(reflect.TypeFor[SuccessMessage]())
	fmt.Println("return field:", f.Return)

	// The parent returned {"amount": 3, "currency": "EUR"}.
	injected := inject.SuccessInput(f, map[string]any{"amount": 3, "currency": "EUR"})
	// The callback was signed with field_int=7 and task_result={"currency": "USD"}.
	bound := map[string]any{"field_int": 7, "task_result": map[string]any{"currency": "USD"}}
	msg := inject.Merge(injected, bound)

	data, _ := json.Marshal(msg)
	fmt.Println("message:", string(data))

	in, err := inject.Decode[SuccessMessage](msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("decoded: %+v, field_int=%d\n", in.TaskResult.Value, in.FieldInt)
	// Output:
	// return field: task_result
	// message: {"field_int":7,"task_result":{"amount":3,"currency":"USD"}}
	// decoded: {Amount:3 Currency:USD}, field_int=7
}

// An error callback receives the message that was sent to the failed task.
// Its input type can extend the original message with fields bound at
// signing time, and may opt in to the error detail with a TaskError field.
func ExampleErrorInput() {
	type OriginalMessage struct {
		OrderID string `json:"order_id"`
		Amount  int    `json:"amount"`
	}
	type ErrorMessage struct {
		OriginalMessage
		AdditionalField1 int               `json:"additional_field1"`
		AdditionalField2 string            `json:"additional_field2"`
		Failure          *inject.TaskError `json:"failure"`
	}

	f := inject.FieldsOf(reflect.TypeFor[ErrorMessage]())
	fmt.Println("error field:", f.Error)

	original := map[string]any{"order_id": "o-17", "amount": 250}
	te := &inject.TaskError{Task: "charge-card", SignatureID: "sig-1", RunID: "run-9", Attempt: 4, Message: "card declined"}
	bound := map[string]any{"additional_field1": 12345, "additional_field2": "test"}
	msg := inject.Merge(inject.ErrorInput(original, f, te), bound)

	in, err := inject.Decode[ErrorMessage](msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("order %s amount %d, extras %d %q\n", in.OrderID, in.Amount, in.AdditionalField1, in.AdditionalField2)
	fmt.Printf("failed: %s attempt %d: %s\n", in.Failure.Task, in.Failure.Attempt, in.Failure.Message)
	// Output:
	// error field: failure
	// order o-17 amount 250, extras 12345 "test"
	// failed: charge-card attempt 4: card declined
}

// Validation reports every failing field at once.
func ExampleSchema_Validate() {
	type OrderInput struct {
		OrderID  string `json:"order_id" jsonschema:"required"`
		Priority string `json:"priority"`
		Qty      int    `json:"qty"`
	}
	raw, err := inject.SchemaOf(reflect.TypeFor[OrderInput]())
	if err != nil {
		fmt.Println(err)
		return
	}
	schema, err := inject.CompileSchema(raw)
	if err != nil {
		fmt.Println(err)
		return
	}

	err = schema.Validate(map[string]any{"order_id": "o-1", "priority": 1, "qty": "two"})
	var ve *inject.ValidationError
	if errors.As(err, &ve) {
		ve.Task = "process-order"
		fmt.Println(ve)
		for _, f := range ve.Fields {
			fmt.Printf("  %s: %s\n", f.Path, f.Message)
		}
	}

	// Bound kwargs are partial: missing required fields are fine there.
	fmt.Println("partial:", schema.ValidatePartial(map[string]any{"qty": 3}))
	// Output:
	// hatchetflow: invalid input for task "process-order": priority: got number, want string; qty: got string, want integer
	//   priority: got number, want string
	//   qty: got string, want integer
	// partial: <nil>
}

// Decode errors name the path of the value that does not fit.
func ExampleDecode() {
	type Line struct {
		Qty int `json:"qty"`
	}
	type Order struct {
		Items []Line `json:"items"`
	}
	_, err := inject.Decode[Order](map[string]any{
		"items": []any{map[string]any{"qty": 1}, map[string]any{"qty": 2}, map[string]any{"qty": "3"}},
	})
	var de *inject.DecodeError
	if errors.As(err, &de) {
		fmt.Printf("field %s: got %s, want %s\n", de.Field, de.Got, de.Expected)
	}
	// Output: field items[2].qty: got string, want int
}

// Objects travel as they are; other values are wrapped, because the engine
// cannot finish a run whose task returned a non-object.
func ExampleWrapOutput() {
	for _, v := range []string{`{"order_id":"o-1"}`, `[1,2]`} {
		out := inject.WrapOutput(json.RawMessage(v))
		back, err := inject.UnwrapOutput(out)
		fmt.Println(string(out), string(back), err)
	}
	// Output:
	// {"order_id":"o-1"} {"order_id":"o-1"} <nil>
	// {"hatchetflow_value":[1,2]} [1,2] <nil>
}
