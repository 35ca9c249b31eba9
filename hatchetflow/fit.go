package hatchetflow

import (
	"encoding/json"
	"sort"

	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// shape is what Save knows of one signature to check it against its parent: its
// task's input and output schemas (nil when unknown) and its bound kwargs.
type shape struct {
	rec                *redisstore.Record
	input, output      json.RawMessage
	outType            string
	returnField, errCB string
	outcomeField       string // "" for inject.DefaultOutcomeField
	// items are a swarm's item entries: a value injected into the swarm reaches each.
	items []shape
}

func shapeOf(rec *redisstore.Record, def redisstore.TaskDef) shape {
	return shape{rec: rec, input: def.Schema, output: def.Output, outType: def.OutputType,
		returnField: rec.ReturnField, errCB: rec.ErrorField, outcomeField: rec.OutcomeField}
}

func (s shape) ref() redisstore.CallbackRef {
	return redisstore.CallbackRef{ID: s.rec.ID, Task: s.rec.Task, ReturnField: s.rec.ReturnField,
		ErrorField: s.rec.ErrorField, OutcomeField: s.rec.OutcomeField, Wait: s.rec.Wait != nil}
}

// checkFit refuses a callback that cannot fit what it will receive from parent:
//
//   - a success callback gets the parent's return value in its return field (unless
//     its bound kwargs set that field): the parent's output schema must fit the
//     field's schema;
//   - an error callback gets the parent's message (the parent's input, with the
//     parent's bound kwargs): a field both declare must fit, type for type;
//   - a finally callback gets the parent's message too, checked as an error
//     callback's, and the outcome (inject.Outcome) in its outcome field, whose type
//     must accept it (unless its bound kwargs set that field);
//   - every field the callback requires must be provided: by its bound kwargs, by the
//     injected return value, error details or outcome, or (error and finally
//     callbacks) by a property of the parent's input or the parent's bound kwargs.
//
// Objects on both sides compare property by property, recursively ([inject.Fits]):
// a property both declare must fit, and the sender must declare every property the
// receiving struct needs (tagged required, or neither omitempty/omitzero nor given a
// default); a refusal names the missing property's path, such as "video.watch_url".
// The callback's own top-level fields are a partial message: there only required
// fields count, as above.
//
// Where either side is unknown (a task checked only by a Validate type, an any-typed
// input or output, a map input) it accepts. fc memoizes the schema questions (nil: none).
func checkFit(fc *fitCache, parent, cb shape, outcome Outcome) error {
	if outcome == OutcomeSuccess {
		for _, it := range cb.items { // a swarm passes the value on to every item
			if err := checkFit(fc, parent, it, outcome); err != nil {
				return err
			}
		}
	}
	props, required, ok := fc.Properties(cb.input)
	if !ok {
		return nil
	}
	mismatch := func(field, want, got string) error {
		return &CallbackMismatchError{Parent: parent.rec.Task, Callback: cb.rec.Task, Outcome: string(outcome),
			Field: field, Want: want, Got: got}
	}
	bound := func(name string) bool { _, ok := cb.rec.Kwargs[name]; return ok }
	provided := map[string]bool{}
	injected := "" // the field an error or finally callback gets its details in
	switch outcome {
	case OutcomeError:
		injected = cb.errCB
	case OutcomeFinally:
		injected = cb.outcomeField
		if injected == "" {
			injected = inject.DefaultOutcomeField
		}
		if field, has := props[injected]; has && !bound(injected) {
			if m, fits := fc.Fits(inject.OutcomeSchema(), field); !fits {
				return mismatch(injected+m.Path, m.Want, m.Got+" (inject.Outcome)")
			}
		}
	}
	if injected != "" {
		provided[injected] = true
	}
	switch outcome {
	case OutcomeSuccess:
		rf := cb.returnField
		if rf == "" {
			rf = inject.DefaultReturnField
		}
		provided[rf] = true
		if field, has := props[rf]; has && !bound(rf) {
			if m, fits := fc.Fits(parent.output, field); !fits {
				got := m.Got
				if m.Path == "" && parent.outType != "" {
					got += " (" + parent.outType + ")"
				}
				return mismatch(rf+m.Path, m.Want, got)
			}
		}
	case OutcomeError, OutcomeFinally:
		pprops, _, known := fc.Properties(parent.input)
		if !known {
			return nil // the parent's message is unknown: anything may be in it
		}
		for k := range parent.rec.Kwargs {
			provided[k] = true
		}
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			pp, has := pprops[name]
			if !has {
				continue
			}
			provided[name] = true
			if bound(name) || name == injected {
				continue
			}
			if m, fits := fc.Fits(pp, props[name]); !fits {
				return mismatch(name+m.Path, m.Want, m.Got)
			}
		}
	}
	for _, r := range required {
		if !provided[r] && !bound(r) {
			return mismatch(r, fc.Kinds(props[r]), "")
		}
	}
	return nil
}
