package inject_test

import (
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

func BenchmarkValidate(b *testing.B) {
	raw, _ := inject.SchemaOf(reflect.TypeFor[validateMsg]())
	s, _ := inject.CompileSchema(raw)
	msg := map[string]any{"order_id": "o", "priority": "high", "items": []any{map[string]any{"sku": "a", "qty": 2.0}}, "big": 3.0, "task_result": 4.0}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateTyped(b *testing.B) {
	raw, _ := inject.SchemaOf(reflect.TypeFor[validateMsg]())
	s, _ := inject.CompileSchema(raw)
	msg := map[string]any{"order_id": "o", "priority": "high", "items": []schemaLine{{SKU: "a", Qty: 2}}, "tags": []string{"x"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateInvalid(b *testing.B) {
	raw, _ := inject.SchemaOf(reflect.TypeFor[validateMsg]())
	s, _ := inject.CompileSchema(raw)
	msg := map[string]any{"priority": 1.0, "items": []any{map[string]any{"qty": "x"}}, "extra": 1}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(msg); err == nil {
			b.Fatal("valid")
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	msg := map[string]any{"id": 12.0, "items": []any{map[string]any{"sku": "a", "qty": 1.0}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inject.Decode[order](msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileSchema(b *testing.B) {
	raw, _ := inject.SchemaOf(reflect.TypeFor[validateMsg]())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inject.CompileSchema(raw); err != nil {
			b.Fatal(err)
		}
	}
}
