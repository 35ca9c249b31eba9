// Package inject builds, merges, decodes and validates the messages that
// hatchetflow task callbacks receive. It is the Go port of MageFlow's
// ReturnValue injection and deep-merge rules, and it performs no I/O.
//
// # Success callbacks
//
// When a task succeeds, each of its success callbacks receives the task's
// return value in one field of its input. The field is marked by giving it
// the type [ReturnValue] (or the struct tag `hatchetflow:"return_value"`);
// when no field is marked the value goes to [DefaultReturnField]
// ("mageflow_results"), as in MageFlow. [FieldsOf] finds the field once per
// type and [SuccessInput] builds the injected part of the message.
//
//	type SuccessMessage struct {
//		TaskResult inject.ReturnValue[int] `json:"task_result"`
//		FieldInt   int                     `json:"field_int"`
//	}
//
// [ReturnValue] is JSON-transparent: {"task_result": 42} decodes into
// ReturnValue[int]{Value: 42}.
//
// # Error callbacks
//
// When a task fails for good, each error callback receives the message that
// was sent to the failed task ([ErrorInput] deep-copies it). A callback may
// also opt in to a [TaskError] describing the failure, by declaring a field
// of that type or tagging a field `hatchetflow:"task_error"`; MageFlow
// itself never passes the error on.
//
// # Finally callbacks
//
// A finally callback runs once after the task ended, whatever the end. It
// receives the message an error callback gets plus an [Outcome] (status, the
// result when done, the [TaskError] when failed or cancelled) in the field
// typed Outcome or tagged `hatchetflow:"outcome"`, else in
// [DefaultOutcomeField] ("hatchetflow_outcome"); [FinallyInput] builds it.
//
// # Merging bound kwargs
//
// A callback's bound kwargs are deep-merged over the injected message with
// [Merge]: where both sides hold JSON objects they merge recursively,
// otherwise the bound kwarg wins. This is MageFlow's deep_merge rule.
//
// # Task outputs
//
// A task's main step hands the engine its return value as it is, so plain
// Hatchet callers read exactly what the function returned. Only a task whose
// workflow has an on-failure step (hatchetflow.WithOnFailureStep) wraps values
// that are not a JSON object or null (numbers, strings, lists) as
// {"hatchetflow_value": <value>}, because the engine leaves a run stuck when a
// task of such a workflow returns a non-object; see [WrapOutput] and
// [UnwrapOutput].
//
// # Decoding
//
// [Decode] turns a merged message into the callback's input type. A type
// mismatch is reported as a [*DecodeError] naming the field path, such as
// "items[2].qty".
//
// # Schemas and validation
//
// [SchemaOf] generates a self-contained JSON Schema (draft 2020-12) from a Go
// type: only fields tagged `jsonschema:"required"` are required, unknown
// fields are rejected, pointer, slice and map fields also accept null (as
// encoding/json produces for nil values), and a struct with no return-value
// field accepts the injected [DefaultReturnField]. [CompileSchema] compiles a
// document once; [Schema.Validate] checks a complete message and
// [Schema.ValidatePartial] checks bound kwargs, ignoring "required". Both
// report every failing field in one [*ValidationError].
//
// Messages may hold float64, json.Number or Go integer numbers and typed Go
// values such as []string or structs: they are normalised through a JSON
// round trip before validation.
package inject
