package dsl_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
)

func TestEventWaitValue(t *testing.T) {
	ev := dsl.Event("order-approved", "ord-1")
	longer := ev.Timeout(2 * time.Hour)
	if ev.TimeoutDuration() != dsl.DefaultEventTimeout || longer.TimeoutDuration() != 2*time.Hour {
		t.Fatalf("timeouts %v, %v: Timeout must return a copy", ev.TimeoutDuration(), longer.TimeoutDuration())
	}
	if ev.Name() != "order-approved" || ev.Key() != "ord-1" || ev.Err() != nil || longer.Err() != nil {
		t.Fatalf("event %q %q: %v", ev.Name(), ev.Key(), ev.Err())
	}
}

func TestEventWaitErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		ev    dsl.EventWait
		field string
	}{
		"empty name":        {dsl.Event("", "k"), "name"},
		"empty key":         {dsl.Event("e", ""), "key"},
		"zero value":        {dsl.EventWait{}, "name"},
		"long key":          {dsl.Event("e", strings.Repeat("k", 256)), "key"},
		"invalid UTF-8":     {dsl.Event("e\xff", "k"), "name"},
		"control character": {dsl.Event("e", "a\tb"), "key"},
		"zero timeout":      {dsl.Event("e", "k").Timeout(0), "timeout"},
		"negative timeout":  {dsl.Event("e", "k").Timeout(-time.Second), "timeout"},
	} {
		err := tc.ev.Err()
		var ee *dsl.EventError
		if !errors.Is(err, dsl.ErrInvalidEvent) || !errors.As(err, &ee) || ee.Field != tc.field {
			t.Errorf("%s: %v, want an EventError on %s", name, err, tc.field)
		}
	}
}

func TestAfterIsImmutableAndChecked(t *testing.T) {
	base := dsl.Sign("ship")
	waiting := base.After(dsl.Event("order-approved", "ord-1"))
	if _, ok := base.Wait(); ok {
		t.Fatalf("After changed the builder it was called on")
	}
	if ev, ok := waiting.Wait(); !ok || ev.Key() != "ord-1" {
		t.Fatalf("Wait() = %v, %v", ev, ok)
	}
	if ev, _ := waiting.After(dsl.Event("order-approved", "ord-2")).Wait(); ev.Key() != "ord-2" {
		t.Fatalf("a later After does not replace: %v", ev.Key())
	}
	if err := base.After(dsl.Event("order-approved", "")).Err(); !errors.Is(err, dsl.ErrInvalidEvent) {
		t.Fatalf("Err with a bad event: %v", err)
	}
	if err := base.OnSuccess(dsl.Sign("cb").After(dsl.Event("", "k"))).Err(); !errors.Is(err, dsl.ErrInvalidEvent) {
		t.Fatalf("Err with a callback's bad event: %v", err)
	}
	chain := dsl.Chain(dsl.Sign("a"), dsl.Sign("b"))
	if _, ok := chain.After(dsl.Event("go", "k")).Wait(); !ok {
		t.Fatalf("ChainBuilder.After lost")
	}
	if _, ok := chain.Wait(); ok {
		t.Fatalf("ChainBuilder.After changed the chain it was called on")
	}
	if err := chain.After(dsl.Event("go", "")).Err(); !errors.Is(err, dsl.ErrInvalidEvent) {
		t.Fatalf("chain Err with a bad event: %v", err)
	}
}
