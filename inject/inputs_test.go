package inject_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

func TestSuccessInput(t *testing.T) {
	rv := map[string]any{"total": 3.0, "items": []any{"a"}}
	got := inject.SuccessInput(inject.Fields{Return: "task_result"}, rv)
	want := map[string]any{"task_result": map[string]any{"total": 3.0, "items": []any{"a"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SuccessInput = %#v, want %#v", got, want)
	}
	got["task_result"].(map[string]any)["items"].([]any)[0] = "changed"
	if rv["items"].([]any)[0] != "a" {
		t.Fatal("SuccessInput shares the return value with its result")
	}

	for _, f := range []inject.Fields{{}, inject.FieldsOf(reflect.TypeFor[map[string]any]())} {
		got := inject.SuccessInput(f, 42)
		if !reflect.DeepEqual(got, map[string]any{inject.DefaultReturnField: 42}) {
			t.Fatalf("SuccessInput(%+v, 42) = %#v", f, got)
		}
	}
	if got := inject.SuccessInput(inject.Fields{Return: "r"}, nil); !reflect.DeepEqual(got, map[string]any{"r": nil}) {
		t.Fatalf("SuccessInput(nil) = %#v", got)
	}
}

func TestErrorInput(t *testing.T) {
	original := map[string]any{"order_id": "o-1", "lines": []any{map[string]any{"qty": 2.0}}}
	te := &inject.TaskError{Task: "process-order", SignatureID: "sig-1", RunID: "run-1", Attempt: 4, Message: "boom"}

	t.Run("without error field", func(t *testing.T) {
		got := inject.ErrorInput(original, inject.Fields{Return: inject.DefaultReturnField}, te)
		if !reflect.DeepEqual(got, original) {
			t.Fatalf("ErrorInput = %#v, want the original %#v", got, original)
		}
	})
	t.Run("with error field", func(t *testing.T) {
		got := inject.ErrorInput(original, inject.Fields{Error: "error"}, te)
		want := map[string]any{
			"order_id": "o-1",
			"lines":    []any{map[string]any{"qty": 2.0}},
			"error": map[string]any{
				"task": "process-order", "signature_id": "sig-1", "run_id": "run-1", "attempt": 4, "message": "boom",
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ErrorInput = %#v, want %#v", got, want)
		}
	})
	t.Run("nil task error", func(t *testing.T) {
		got := inject.ErrorInput(original, inject.Fields{Error: "error"}, nil)
		if _, ok := got["error"]; ok || len(got) != 2 {
			t.Fatalf("ErrorInput with nil TaskError = %#v", got)
		}
	})
	t.Run("original untouched", func(t *testing.T) {
		got := inject.ErrorInput(original, inject.Fields{Error: "error"}, te)
		got["order_id"] = "changed"
		got["lines"].([]any)[0].(map[string]any)["qty"] = 99.0
		if original["order_id"] != "o-1" || original["lines"].([]any)[0].(map[string]any)["qty"] != 2.0 {
			t.Fatalf("ErrorInput result aliases the original: %#v", original)
		}
		if _, ok := original["error"]; ok {
			t.Fatal("ErrorInput added the error field to the original")
		}
	})
	t.Run("nil original", func(t *testing.T) {
		got := inject.ErrorInput(nil, inject.Fields{}, nil)
		if got == nil || len(got) != 0 {
			t.Fatalf("ErrorInput(nil) = %#v, want an empty map", got)
		}
	})
}

func TestErrorInputDecodesIntoTaskError(t *testing.T) {
	type msg struct {
		OrderID string            `json:"order_id"`
		Err     *inject.TaskError `json:"error"`
	}
	f := inject.FieldsOf(reflect.TypeFor[msg]())
	te := &inject.TaskError{Task: "t", SignatureID: "s", RunID: "r", Attempt: 2, Message: "m"}
	got, err := inject.Decode[msg](inject.ErrorInput(map[string]any{"order_id": "o"}, f, te))
	if err != nil {
		t.Fatal(err)
	}
	if got.OrderID != "o" || got.Err == nil || *got.Err != *te {
		t.Fatalf("decoded %+v (error %+v)", got, got.Err)
	}
}

// Every TaskError field reaches an error callback: ErrorInput encodes each one with
// its json name, and Decode gives the same TaskError back.
func TestErrorInputCarriesEveryTaskErrorField(t *testing.T) {
	te := inject.TaskError{Task: "hatchetflow-swarm", SignatureID: "s", RunID: "r", Attempt: 1, Message: "m",
		ChainID: "c", Cancelled: true, Failures: 2, Step: "transform"}
	v := reflect.ValueOf(te)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("set TaskError.%s in this test, so it checks that field too", v.Type().Field(i).Name)
		}
	}
	got := inject.ErrorInput(nil, inject.Fields{Error: "error"}, &te)["error"].(map[string]any)
	want, err := json.Marshal(te)
	if err != nil {
		t.Fatal(err)
	}
	var wantMap map[string]any
	if err := json.Unmarshal(want, &wantMap); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(wantMap) {
		t.Fatalf("ErrorInput's TaskError = %v, want the fields %s", got, want)
	}
	for k := range wantMap {
		if _, ok := got[k]; !ok {
			t.Errorf("ErrorInput's TaskError has no %q: %v", k, got)
		}
	}
	type msg struct {
		Err *inject.TaskError `json:"error"`
	}
	dec, err := inject.Decode[msg](inject.ErrorInput(nil, inject.FieldsOf(reflect.TypeFor[msg]()), &te))
	if err != nil {
		t.Fatal(err)
	}
	if dec.Err == nil || *dec.Err != te {
		t.Fatalf("decoded %+v, want %+v", dec.Err, te)
	}
}
