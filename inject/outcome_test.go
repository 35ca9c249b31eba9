package inject_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

type (
	outcomeByType struct {
		Order   string         `json:"order"`
		Outcome inject.Outcome `json:"result_of_it"`
	}
	outcomeByPointer struct {
		O *inject.Outcome `json:"o,omitempty"`
	}
	outcomeByTag struct {
		Status map[string]any `json:"st" hatchetflow:"outcome"`
	}
	outcomeBesideOthers struct {
		R inject.ReturnValue[int] `json:"r"`
		E *inject.TaskError       `json:"e"`
		O inject.Outcome          `json:"o"`
	}
)

func TestFieldsOfFindsTheOutcomeField(t *testing.T) {
	for _, c := range []struct {
		t    reflect.Type
		want inject.Fields
	}{
		{reflect.TypeFor[outcomeByType](), inject.Fields{Return: inject.DefaultReturnField, Outcome: "result_of_it"}},
		{reflect.TypeFor[outcomeByPointer](), inject.Fields{Return: inject.DefaultReturnField, Outcome: "o"}},
		{reflect.TypeFor[outcomeByTag](), inject.Fields{Return: inject.DefaultReturnField, Outcome: "st"}},
		{reflect.TypeFor[outcomeBesideOthers](), inject.Fields{Return: "r", Error: "e", Outcome: "o"}},
		{reflect.TypeFor[noMarker](), inject.Fields{Return: inject.DefaultReturnField}},
		{reflect.TypeFor[map[string]any](), inject.Fields{Return: inject.DefaultReturnField}},
	} {
		if got := inject.FieldsOf(c.t); got != c.want {
			t.Errorf("FieldsOf(%v) = %+v, want %+v", c.t, got, c.want)
		}
	}
}

func TestFinallyInput(t *testing.T) {
	original := map[string]any{"order": "o-1", "nested": map[string]any{"a": 1}}
	failed := &inject.Outcome{Status: inject.OutcomeFailed, Error: &inject.TaskError{Task: "t", Message: "boom", Cancelled: true}}
	got := inject.FinallyInput(original, inject.Fields{}, failed)
	got["nested"].(map[string]any)["a"] = 2
	if original["nested"].(map[string]any)["a"] != 1 || len(original) != 2 {
		t.Fatalf("FinallyInput changed the original: %v", original)
	}
	o, ok := got[inject.DefaultOutcomeField].(map[string]any)
	if !ok || o["status"] != "failed" || o["error"].(map[string]any)["message"] != "boom" || o["result"] != nil {
		t.Fatalf("outcome in the default field: %v", got)
	}
	// A marked field gets it; the result travels as the raw JSON it was.
	done := &inject.Outcome{Status: inject.OutcomeDone, Result: json.RawMessage(`{"total":12.50}`)}
	got = inject.FinallyInput(original, inject.FieldsOf(reflect.TypeFor[outcomeByType]()), done)
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var msg outcomeByType
	if err := json.Unmarshal(b, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Order != "o-1" || !msg.Outcome.Succeeded() || string(msg.Outcome.Result) != `{"total":12.50}` || msg.Outcome.Error != nil {
		t.Fatalf("decoded %s into %+v", b, msg)
	}
	if got := inject.FinallyInput(nil, inject.Fields{}, nil); len(got) != 0 || got == nil {
		t.Fatalf("FinallyInput(nil, nil) = %#v, want an empty map", got)
	}
}

// An Outcome field's schema accepts what FinallyInput sends, and not a number.
func TestOutcomeSchemaFits(t *testing.T) {
	schema, err := inject.SchemaOf(reflect.TypeFor[outcomeByType]())
	if err != nil {
		t.Fatal(err)
	}
	props, _, _ := inject.Properties(schema)
	if _, ok := inject.Fits(inject.OutcomeSchema(), props["result_of_it"]); !ok {
		t.Fatalf("the outcome schema does not fit an Outcome field: %s", inject.OutcomeSchema())
	}
	if _, ok := inject.Fits(inject.OutcomeSchema(), json.RawMessage(`{"type":"integer"}`)); ok {
		t.Fatal("the outcome schema fits an integer")
	}
}
