package dsl_test

import (
	"testing"

	"github.com/hatchetflow/go/dsl"
)

// benchSink keeps results alive so the compiler cannot drop the work.
var benchSink dsl.Builder

// BenchmarkSignTree builds the README's signature: a task with bound kwargs, two
// success callbacks (one with kwargs) and an error callback with kwargs.
func BenchmarkSignTree(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchSink = dsl.Sign("process-order").With(dsl.KW{"priority": "high"}).
			OnSuccess(dsl.Sign("send-success-email").With(dsl.KW{"template": "welcome"}), dsl.Sign("log-completion")).
			OnError(dsl.Sign("log-error").With(dsl.KW{"additional_field1": 12345}))
	}
}

// BenchmarkSignTree10 builds a task with 3 kwargs and 10 callbacks (5 success, 5
// error), each added with its own OnSuccess/OnError call (each returns a copy).
func BenchmarkSignTree10(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		t := dsl.Sign("process-order").With(dsl.KW{"priority": "high", "region": "eu-west-1", "max_attempts": 3})
		for i := 0; i < 5; i++ {
			t = t.OnSuccess(dsl.Sign("send-success-email").With(dsl.KW{"template": "welcome"}))
			t = t.OnError(dsl.Sign("log-error"))
		}
		benchSink = t
	}
}

// BenchmarkWithNestedKwargs measures With on kwargs holding nested objects and lists
// (deep-copied so the builder stays immutable).
func BenchmarkWithNestedKwargs(b *testing.B) {
	kw := dsl.KW{
		"priority": "high",
		"address":  map[string]any{"city": "Berlin", "zip": "10115", "lines": []any{"a", "b"}},
		"items":    []any{map[string]any{"sku": "a", "qty": 2}, map[string]any{"sku": "b", "qty": 1}},
	}
	base := dsl.Sign("process-order")
	b.ReportAllocs()
	for b.Loop() {
		benchSink = base.With(kw)
	}
}
