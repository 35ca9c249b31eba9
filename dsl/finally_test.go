package dsl

import (
	"errors"
	"testing"
)

// Finally appends to a copy on every builder, and Err looks into finally callbacks.
func TestFinallyIsImmutableAndChecked(t *testing.T) {
	base := Sign("t").Finally(Sign("f1"))
	a, b := base.Finally(Sign("a")), base.Finally(Sign("b"))
	if len(base.FinallyCallbacks()) != 1 || a.FinallyCallbacks()[1].(Builder).Task() != "a" || b.FinallyCallbacks()[1].(Builder).Task() != "b" {
		t.Fatalf("builders share finally callbacks: %v %v %v", base.FinallyCallbacks(), a.FinallyCallbacks(), b.FinallyCallbacks())
	}
	got := base.FinallyCallbacks()
	got[0] = Ref("changed")
	if base.FinallyCallbacks()[0].(Builder).Task() != "f1" {
		t.Fatal("FinallyCallbacks returned shared state")
	}
	ch := Chain(Sign("a"), Sign("b"))
	if c1, c2 := ch.Finally(Sign("x")), ch.Finally(Sign("y"), Ref("id")); len(ch.FinallyCallbacks()) != 0 ||
		len(c1.FinallyCallbacks()) != 1 || len(c2.FinallyCallbacks()) != 2 {
		t.Fatal("chain builders share finally callbacks")
	}
	sw := Swarm(Sign("a"))
	if s1 := sw.Finally(Sign("x")); len(sw.FinallyCallbacks()) != 0 || len(s1.FinallyCallbacks()) != 1 {
		t.Fatal("swarm builders share finally callbacks")
	}
	for name, err := range map[string]error{
		"builder": Sign("t").Finally(nil).Err(),
		"nested":  Sign("t").OnSuccess(Sign("s").Finally(Sign(""))).Err(),
		"chain":   ch.Finally(Ref("")).Err(),
		"swarm":   sw.Finally(Sign(42)).Err(),
	} {
		if !errors.Is(err, ErrNilCallback) && !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("%s: Err() = %v, want the bad finally callback reported", name, err)
		}
	}
}
