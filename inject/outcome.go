package inject

import (
	"encoding/json"
	"reflect"
	"sync"
)

// DefaultOutcomeField is the input field that receives a finally callback's
// [Outcome] when the callback's input type marks none.
const DefaultOutcomeField = "hatchetflow_outcome"

// Statuses of an [Outcome]: how the signature, chain or swarm ended.
const (
	// OutcomeDone: it succeeded; Result holds its return value.
	OutcomeDone = "done"
	// OutcomeFailed: it failed for good; Error describes the failure.
	OutcomeFailed = "failed"
	// OutcomeCancelled: it was cancelled; Error describes the cancel (its
	// Cancelled is true and its Message the reason).
	OutcomeCancelled = "cancelled"
)

// Outcome is what a finally callback receives about the end of the
// signature, chain or swarm it is the finally callback of, whatever that end
// was. Give the callback's input type a field of this type (or *Outcome), or
// tag any field `hatchetflow:"outcome"`; without one the outcome goes to
// [DefaultOutcomeField] ("hatchetflow_outcome"). The rest of the finally
// callback's message is the one an error callback gets: the original message
// (the input with the bound kwargs merged over it), then the callback's own
// bound kwargs over that.
type Outcome struct {
	// Status is [OutcomeDone], [OutcomeFailed] or [OutcomeCancelled].
	Status string `json:"status"`
	// Result is the return value as JSON when Status is done (a swarm's: the
	// list of its items' results), nil otherwise.
	Result json.RawMessage `json:"result,omitempty"`
	// Error describes the failure or the cancel when Status is failed or
	// cancelled, nil when done. For a chain's finally callback it names the
	// step that failed and the chain (ChainID).
	Error *TaskError `json:"error,omitempty"`
}

// Succeeded reports whether the outcome is done.
func (o Outcome) Succeeded() bool { return o.Status == OutcomeDone }

// toMap encodes o as a JSON object with the json names of its fields.
func (o *Outcome) toMap() map[string]any {
	m := map[string]any{"status": o.Status}
	if len(o.Result) > 0 {
		m["result"] = json.RawMessage(append([]byte(nil), o.Result...))
	}
	if o.Error != nil {
		m["error"] = o.Error.toMap()
	}
	return m
}

// FinallyInput returns the injected part of a finally callback's input: a
// deep copy of original (the message of what ended: its input with its bound
// kwargs; nil gives an empty map), plus {field: o}, where field is f.Outcome
// or, when that is "", [DefaultOutcomeField]. original is not modified. Bound
// kwargs are merged over the result with [Merge].
func FinallyInput(original map[string]any, f Fields, o *Outcome) map[string]any {
	out := copyObject(original)
	name := f.Outcome
	if name == "" {
		name = DefaultOutcomeField
	}
	if o != nil {
		out[name] = o.toMap()
	}
	return out
}

var outcomeType = reflect.TypeFor[Outcome]()

// OutcomeSchema returns the JSON Schema of an [Outcome] field, as [SchemaOf]
// generates it for a struct field of that type: what a finally callback's
// outcome field is checked against at Save.
func OutcomeSchema() json.RawMessage { return outcomeSchema() }

var outcomeSchema = sync.OnceValue(func() json.RawMessage {
	type holder struct {
		O Outcome `json:"o"`
	}
	s, err := SchemaOf(reflect.TypeFor[holder]())
	if err != nil {
		return nil // not reached: Outcome's fields are plain JSON
	}
	props, _, _ := Properties(s)
	return props["o"]
})

func isOutcomeField(f jsonField) bool {
	if hasTag(f.sf, tagOutcome) {
		return true
	}
	t := f.sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == outcomeType
}
