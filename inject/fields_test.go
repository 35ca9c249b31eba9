package inject_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/hatchetflow/go/inject"
)

type (
	byMarker struct {
		FieldInt   int                     `json:"field_int"`
		TaskResult inject.ReturnValue[any] `json:"task_result"`
	}
	byTag struct {
		Data  string `json:"data" hatchetflow:"return_value"`
		Other int    `json:"other"`
	}
	firstWins struct {
		A int                     `json:"a"`
		B inject.ReturnValue[int] `json:"b"`
		C inject.ReturnValue[int] `json:"c"`
		D string                  `json:"d" hatchetflow:"return_value"`
	}
	tagBeforeMarker struct {
		D string                  `json:"d" hatchetflow:"return_value"`
		B inject.ReturnValue[int] `json:"b"`
	}
	goName struct {
		Result inject.ReturnValue[int]
	}
	optionsOnly struct {
		Result inject.ReturnValue[int] `json:",omitempty"`
	}
	skipped struct {
		Hidden inject.ReturnValue[int] `json:"-"`
		Shown  inject.ReturnValue[int] `json:"shown"`
	}
	pointerMarker struct {
		R *inject.ReturnValue[string] `json:"r"`
	}
	noMarker struct {
		MageflowResults string `json:"mageflow_results"`
		FieldInt        int    `json:"field_int"`
	}
	Inner struct {
		Out inject.ReturnValue[int] `json:"out"`
	}
	embedsInner struct {
		Before int `json:"before"`
		Inner
	}
	embedsInnerPtr struct {
		*Inner
		After inject.ReturnValue[int] `json:"after"`
	}
	embedsNamed struct {
		Inner `json:"inner"`
		Own   inject.ReturnValue[int] `json:"own"`
	}
	shadowed struct {
		Inner
		Out string `json:"out"`
	}
	embedsFirst struct {
		Inner
		Later inject.ReturnValue[int] `json:"later"`
	}
	withTaskError struct {
		Original string            `json:"original"`
		Err      *inject.TaskError `json:"error"`
	}
	withTaskErrorValue struct {
		TE inject.TaskError
	}
	withTaskErrorTag struct {
		Detail map[string]any `json:"detail" hatchetflow:"task_error"`
	}
	tagOptions struct {
		X any `json:"x" hatchetflow:"other, return_value"`
	}
	embedsReturnValue struct {
		inject.ReturnValue[int]
	}
)

func TestFieldsOf(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want inject.Fields
	}{
		{"marker type", reflect.TypeFor[byMarker](), inject.Fields{Return: "task_result"}},
		{"tag", reflect.TypeFor[byTag](), inject.Fields{Return: "data"}},
		{"first marker wins", reflect.TypeFor[firstWins](), inject.Fields{Return: "b"}},
		{"first tag wins", reflect.TypeFor[tagBeforeMarker](), inject.Fields{Return: "d"}},
		{"Go field name", reflect.TypeFor[goName](), inject.Fields{Return: "Result"}},
		{"json options without name", reflect.TypeFor[optionsOnly](), inject.Fields{Return: "Result"}},
		{"json dash skipped", reflect.TypeFor[skipped](), inject.Fields{Return: "shown"}},
		{"pointer to ReturnValue", reflect.TypeFor[pointerMarker](), inject.Fields{Return: "r"}},
		{"no marker", reflect.TypeFor[noMarker](), inject.Fields{Return: inject.DefaultReturnField}},
		{"embedded struct", reflect.TypeFor[embedsInner](), inject.Fields{Return: "out"}},
		{"embedded pointer struct", reflect.TypeFor[embedsInnerPtr](), inject.Fields{Return: "out"}},
		{"embedded with json name is not promoted", reflect.TypeFor[embedsNamed](), inject.Fields{Return: "own"}},
		{"shadowed embedded field is hidden", reflect.TypeFor[shadowed](), inject.Fields{Return: inject.DefaultReturnField}},
		{"embedded field first in declaration order", reflect.TypeFor[embedsFirst](), inject.Fields{Return: "out"}},
		{"pointer type", reflect.TypeFor[*byMarker](), inject.Fields{Return: "task_result"}},
		{"pointer to pointer type", reflect.TypeFor[**byTag](), inject.Fields{Return: "data"}},
		{"map type", reflect.TypeFor[map[string]any](), inject.Fields{Return: inject.DefaultReturnField}},
		{"int type", reflect.TypeFor[int](), inject.Fields{Return: inject.DefaultReturnField}},
		{"nil type", nil, inject.Fields{Return: inject.DefaultReturnField}},
		{"task error pointer", reflect.TypeFor[withTaskError](), inject.Fields{Return: inject.DefaultReturnField, Error: "error"}},
		{"task error value", reflect.TypeFor[withTaskErrorValue](), inject.Fields{Return: inject.DefaultReturnField, Error: "TE"}},
		{"task error tag", reflect.TypeFor[withTaskErrorTag](), inject.Fields{Return: inject.DefaultReturnField, Error: "detail"}},
		{"tag among options", reflect.TypeFor[tagOptions](), inject.Fields{Return: "x"}},
		{"type embedding ReturnValue is not a marker", reflect.TypeFor[embedsReturnValue](), inject.Fields{Return: inject.DefaultReturnField}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inject.FieldsOf(tt.typ); got != tt.want {
				t.Fatalf("FieldsOf(%v) = %+v, want %+v", tt.typ, got, tt.want)
			}
		})
	}
}

func TestFieldsOfCached(t *testing.T) {
	typ := reflect.TypeFor[firstWins]()
	first := inject.FieldsOf(typ)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := inject.FieldsOf(typ); got != first {
				t.Errorf("FieldsOf = %+v, want cached %+v", got, first)
			}
		})
	}
	wg.Wait()
}

func BenchmarkFieldsOfCached(b *testing.B) {
	typ := reflect.TypeFor[embedsInner]()
	inject.FieldsOf(typ)
	b.ReportAllocs()
	for b.Loop() {
		inject.FieldsOf(typ)
	}
}
