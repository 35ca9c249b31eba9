// Package await bounds calls that ignore their context (several Hatchet SDK calls do:
// triggers, Result, NewWorker) by a context.
package await

import (
	"context"
	"fmt"
)

// Do runs fn in a goroutine and returns its result, or an error wrapping ctx's cause
// once ctx ends first. fn then keeps running in the background; its result is dropped.
func Do[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("gave up waiting: %w", context.Cause(ctx))
	}
}
