package inject

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Fields describes where injected values go in a callback's input type, by
// JSON name.
type Fields struct {
	// Return is the JSON name of the field that receives a parent's return
	// value; DefaultReturnField when the type marks none.
	Return string
	// Error is the JSON name of the TaskError field; "" when the type asks
	// for none.
	Error string
	// Outcome is the JSON name of the field that receives a finally
	// callback's [Outcome]; "" when the type marks none (the outcome then goes
	// to [DefaultOutcomeField]).
	Outcome string
	// Signal is the JSON name of the field that receives a signal's payload (a
	// [Signal] or a field tagged `hatchetflow:"signal"`); "" when the type marks
	// none, and the payload goes to [DefaultSignalField].
	Signal string
}

// Struct tag values understood under the `hatchetflow` key.
const (
	tagKey         = "hatchetflow"
	tagReturnValue = "return_value"
	tagTaskError   = "task_error"
	tagOutcome     = "outcome"
	tagSignal      = "signal"
)

var (
	fieldsCache   sync.Map // reflect.Type -> Fields
	taskErrorType = reflect.TypeFor[TaskError]()
)

// FieldsOf reports where injected values go in the input type t. Pointer
// types are dereferenced. The answer is computed once per type and cached.
//
// The return field is the first field, in declaration order and descending
// into embedded structs as encoding/json promotes them, whose type is a
// [ReturnValue] (or a pointer to one) or that is tagged
// `hatchetflow:"return_value"`. The error field is found the same way, for
// the type [TaskError] (or *TaskError) or the tag `hatchetflow:"task_error"`,
// the outcome field for the type [Outcome] (or *Outcome) or the tag
// `hatchetflow:"outcome"`, and the signal field for the type [Signal] (or a pointer
// to one) or the tag `hatchetflow:"signal"`.
// Names follow encoding/json: the json tag's name, else the Go field name.
// Fields hidden by encoding/json's embedding rules are not considered.
// Non-struct types (maps, nil, ...) get the defaults: Return is
// [DefaultReturnField], and Error, Outcome and Signal are "".
func FieldsOf(t reflect.Type) Fields {
	if t == nil {
		return Fields{Return: DefaultReturnField}
	}
	if f, ok := fieldsCache.Load(t); ok {
		return f.(Fields)
	}
	f, _ := fieldsCache.LoadOrStore(t, computeFields(t))
	return f.(Fields)
}

func computeFields(t reflect.Type) Fields {
	out := Fields{Return: DefaultReturnField}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return out
	}
	foundReturn := false
	for _, f := range jsonFields(t) {
		if !foundReturn && isReturnField(f) {
			out.Return, foundReturn = f.name, true
		}
		if out.Error == "" && isErrorField(f) {
			out.Error = f.name
		}
		if out.Outcome == "" && isOutcomeField(f) {
			out.Outcome = f.name
		}
		if out.Signal == "" && isSignalField(f) {
			out.Signal = f.name
		}
	}
	return out
}

func isReturnField(f jsonField) bool {
	if hasTag(f.sf, tagReturnValue) {
		return true
	}
	_, ok := returnValueElem(f.sf.Type)
	return ok
}

func isSignalField(f jsonField) bool {
	if hasTag(f.sf, tagSignal) {
		return true
	}
	_, ok := signalElem(f.sf.Type)
	return ok
}

func isErrorField(f jsonField) bool {
	if hasTag(f.sf, tagTaskError) {
		return true
	}
	t := f.sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == taskErrorType
}

// hasTag reports whether sf's `hatchetflow` tag lists opt.
func hasTag(sf reflect.StructField, opt string) bool {
	for v := range strings.SplitSeq(sf.Tag.Get(tagKey), ",") {
		if strings.TrimSpace(v) == opt {
			return true
		}
	}
	return false
}

// jsonField is one field of a struct as encoding/json sees it.
type jsonField struct {
	name   string              // JSON name
	tagged bool                // name came from a json tag
	index  []int               // index sequence from the outer struct
	sf     reflect.StructField // the Go field itself
}

// jsonFieldsCache caches jsonFields per struct type.
var jsonFieldsCache sync.Map // reflect.Type -> []jsonField

// jsonFields returns the fields encoding/json encodes and decodes for the
// struct type t, in index order, applying its embedding and dominance rules.
// It is a port of encoding/json's typeFields.
func jsonFields(t reflect.Type) []jsonField {
	if f, ok := jsonFieldsCache.Load(t); ok {
		return f.([]jsonField)
	}
	f, _ := jsonFieldsCache.LoadOrStore(t, typeFields(t))
	return f.([]jsonField)
}

func typeFields(t reflect.Type) []jsonField {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var current []queued
	next := []queued{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []jsonField

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := range q.typ.NumField() {
				sf := q.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				index := append(slices.Clone(q.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := jsonField{name: name, tagged: name != "", index: index, sf: sf}
					if f.name == "" {
						f.name = sf.Name
					}
					fields = append(fields, f)
					if count[q.typ] > 1 {
						// Duplicate so that the dominance pass annihilates it.
						fields = append(fields, f)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, queued{typ: ft, index: index})
				}
			}
		}
	}

	slices.SortFunc(fields, func(a, b jsonField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		fi := fields[i]
		for advance = 1; i+advance < len(fields); advance++ {
			if fields[i+advance].name != fi.name {
				break
			}
		}
		if advance == 1 {
			out = append(out, fi)
			continue
		}
		group := fields[i : i+advance]
		if len(group[0].index) == len(group[1].index) && group[0].tagged == group[1].tagged {
			continue // ambiguous: encoding/json drops every field of this name
		}
		out = append(out, group[0])
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out
}

// lookupJSONField finds the field a JSON object key decodes into, as
// encoding/json does: an exact name match first, then a case-insensitive one.
func lookupJSONField(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

// isValidTag mirrors encoding/json's check of json tag names.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
