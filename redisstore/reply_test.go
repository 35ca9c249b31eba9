package redisstore

import (
	"maps"
	"testing"
)

func TestReplyAccessors(t *testing.T) {
	r := reply{"ok", int64(7), []any{"a", int64(1)}, nil, "x"}
	if got := r.code(); got != "ok" {
		t.Errorf("code() = %q, want ok", got)
	}
	if got := r.str(4); got != "x" {
		t.Errorf("str(4) = %q, want x", got)
	}
	if got := r.int(1); got != 7 {
		t.Errorf("int(1) = %d, want 7", got)
	}
	if l := r.list(2); len(l) != 2 || l.str(0) != "a" || l.int(1) != 1 {
		t.Errorf("list(2) = %v, want [a 1]", l)
	}
	if !r.has(0) || r.has(3) || r.has(5) || r.has(-1) {
		t.Errorf("has: want true for 0, false for a nil element, past the end and negative")
	}
}

// Out-of-range indexes and elements of another type give zero values, never a panic.
func TestReplyZeroValues(t *testing.T) {
	r := reply{int64(3), "s", nil}
	for _, i := range []int{-1, 3, 100} {
		if r.at(i) != nil || r.str(i) != "" || r.int(i) != 0 || r.list(i) != nil || len(r.fields(i)) != 0 {
			t.Errorf("index %d: want zero values", i)
		}
	}
	if got := r.code(); got != "" {
		t.Errorf("code() of a reply starting with a number = %q, want \"\"", got)
	}
	if got := r.str(0); got != "" {
		t.Errorf("str of a number = %q, want \"\"", got)
	}
	if got := r.int(1); got != 0 {
		t.Errorf("int of a string = %d, want 0", got)
	}
	if got := r.list(1); got != nil {
		t.Errorf("list of a string = %v, want nil", got)
	}
	if got := r.str(2); got != "" {
		t.Errorf("str of nil = %q, want \"\"", got)
	}
	var empty reply
	if empty.code() != "" || empty.has(0) || empty.list(0) != nil {
		t.Error("an empty reply: want zero values")
	}
	if m := empty.fields(0); m == nil || len(m) != 0 {
		t.Errorf("fields of an absent element = %#v, want an empty map", m)
	}
}

func TestReplyFields(t *testing.T) {
	r := reply{"ok", []any{"s", "done", "rid", "r1", "n", int64(2), "odd"}}
	got := r.fields(1)
	want := map[string]string{"s": "done", "rid": "r1", "n": ""}
	if !maps.Equal(got, want) {
		t.Errorf("fields(1) = %v, want %v (a non-string value reads as \"\", a trailing field is ignored)", got, want)
	}
	if m := r.fields(0); len(m) != 0 {
		t.Errorf("fields of a string = %v, want empty", m)
	}
	if m := (reply{[]any{}}).fields(0); len(m) != 0 {
		t.Errorf("fields of an empty list = %v, want empty", m)
	}
}
