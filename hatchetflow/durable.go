package hatchetflow

import (
	"fmt"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/redisstore"
)

// ErrNotDurable is returned by a durable task's user function when the engine (or a
// harness) ran it without a durable context: the task was registered with
// [NewDurableTask] but served by something that is not Hatchet's durable runtime.
var ErrNotDurable = fmt.Errorf("hatchetflow: a durable task ran without a durable context")

// NewDurableTask registers fn as a durable task named name on c: a Hatchet durable task
// whose function gets a hatchet.DurableContext, so it can sleep (SleepFor) and wait
// for events (WaitForEvent) durably, holding no worker slot while it waits. It is
// signed, run and called back exactly like a task made with [NewTask], with the same
// options, and the same rules for I and O.
//
// Durable execution replays: when the engine evicts a waiting durable task and later
// restores it, the function runs again from its start, and the engine answers the
// waits it already passed at once. hatchetflow admits such a replay as the same
// attempt (it is not a retry, and does not count against WithRetries). Make what the
// function does before a wait safe to repeat; signatures it saves or runs through
// [Client.InTask] are (the same ids on a replay, child runs triggered once).
func NewDurableTask[I, O any](c *Client, name string, fn func(ctx hatchet.DurableContext, in I) (O, error), opts ...TaskOption) (*Task[I, O], error) {
	if fn == nil {
		return nil, fmt.Errorf("hatchetflow: NewDurableTask %q: nil function", name)
	}
	return register[I, O](c, name, redisstore.KindDurable, opts, func(hctx hatchet.Context, in I) (any, error) {
		dctx, ok := hctx.(hatchet.DurableContext)
		if !ok {
			var zero O
			return zero, fmt.Errorf("%w: task %q", ErrNotDurable, name)
		}
		return fn(dctx, in)
	})
}
