package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

// plainEngine is an engine whose every task is a plain one: runs complete with an
// output, and no hatchetflow step ever runs for them.
type plainEngine struct{}

func (plainEngine) Dispatch(context.Context, string, map[string]any, map[string]string) (string, error) {
	return "run-plain", nil
}

func (plainEngine) Wait(context.Context, string, string) (json.RawMessage, error) {
	return json.RawMessage(`{"ok":true}`), nil
}

// A signed task that no hatchetflow step serves (a plain Hatchet task, another
// language's) completes on the engine, but its signature stays pending: waiting says
// so with a typed error, for a signature and for a chain (which used to wait forever
// for a next step that never comes).
func TestWaitSaysWhenNoStepSettledTheRun(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	c, err := hatchetflow.New(nil, rdb, hatchetflow.WithDispatcher(plainEngine{}), hatchetflow.WithReconcileInterval(100*time.Millisecond))
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := dsl.Sign("plain").Validate(Order{}).OnSuccess(dsl.Sign("plain-cb").Validate(Order{})).
		Run(ctx, c, Order{OrderID: "p"})
	must(t, err)
	_, err = h.Wait(ctx)
	var ue *hatchetflow.UnsettledError
	if !errors.Is(err, hatchetflow.ErrUnsettled) || !errors.As(err, &ue) || ue.ID != h.SignatureID() || ue.Task != "plain" {
		t.Fatalf("Wait on a plain task's signature = %v, want an UnsettledError", err)
	}
	ch, err := dsl.Chain(dsl.Sign("plain").Validate(Order{}), dsl.Sign("plain").Validate(Order{})).
		Run(ctx, c, Order{OrderID: "p"})
	must(t, err)
	if _, err := ch.Wait(ctx); !errors.Is(err, hatchetflow.ErrUnsettled) {
		t.Fatalf("Wait on a chain of plain tasks = %v, want ErrUnsettled (not a wait until the deadline)", err)
	}
}
