package dsl_test

import (
	"errors"
	"testing"

	"github.com/hatchetflow/go/dsl"
)

func TestSwarmBuilderIsImmutable(t *testing.T) {
	base := dsl.Swarm(dsl.Sign("a")).With(dsl.KW{"k": 1})
	more := base.With(dsl.KW{"k": 2, "j": 3}).MaxConcurrency(4).StopAfter(2).MaxItems(9).Open().
		OnSuccess(dsl.Sign("ok")).OnError(dsl.Sign("bad"))
	if base.Kwargs()["k"] != 1 || len(base.Kwargs()) != 1 || base.Concurrency() != dsl.DefaultMaxConcurrency ||
		base.StopAfterFailures() != 0 || base.ItemLimit() != 0 || base.IsOpen() ||
		len(base.SuccessCallbacks()) != 0 || len(base.ErrorCallbacks()) != 0 {
		t.Fatalf("base changed: %+v", base)
	}
	if more.Kwargs()["k"] != 2 || more.Concurrency() != 4 || more.StopAfterFailures() != 2 || more.ItemLimit() != 9 ||
		!more.IsOpen() || len(more.SuccessCallbacks()) != 1 || len(more.ErrorCallbacks()) != 1 {
		t.Fatalf("more: %+v", more)
	}
	items := more.Items()
	items[0] = nil
	if more.Items()[0] == nil {
		t.Fatalf("Items returned the builder's own slice")
	}
}

func TestSwarmBuilderErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		s    dsl.SwarmBuilder
		want error
	}{
		"zero concurrency":   {dsl.Swarm().MaxConcurrency(0), dsl.ErrSwarmOption},
		"negative stop":      {dsl.Swarm().StopAfter(-1), dsl.ErrSwarmOption},
		"negative max items": {dsl.Swarm().MaxItems(-2), dsl.ErrSwarmOption},
		"over max items":     {dsl.Swarm(dsl.Sign("a"), dsl.Sign("b")).MaxItems(1), dsl.ErrSwarmOption},
		"nil item":           {dsl.Swarm(nil), dsl.ErrNilCallback},
		"bad nested item":    {dsl.Swarm(dsl.Swarm(dsl.Sign(""))), dsl.ErrInvalidTarget},
		"bad callback":       {dsl.Swarm().OnSuccess(dsl.Ref("")), dsl.ErrNilCallback},
	} {
		if err := tc.s.Err(); !errors.Is(err, tc.want) {
			t.Errorf("%s: Err() = %v, want %v", name, err, tc.want)
		}
	}
	if err := dsl.Swarm().Err(); err != nil {
		t.Errorf("an empty swarm is valid (it succeeds with []): %v", err)
	}
	var oe *dsl.SwarmOptionError
	if err := dsl.Swarm().MaxConcurrency(-3).Err(); !errors.As(err, &oe) || oe.Option != "MaxConcurrency" || oe.Value != -3 {
		t.Errorf("SwarmOptionError = %+v", oe)
	}
}
