// Package poll is the one pause between the polls of a wait loop: it starts short and
// doubles up to a ceiling, and ends early when the caller's context does.
package poll

import (
	"context"
	"time"
)

// Pause is the backoff of one wait loop. Make one per loop with [New]; it is not safe
// for concurrent use.
type Pause struct {
	delay, max time.Duration
}

// New returns a pause that first waits first, then doubles up to max.
func New(first, max time.Duration) *Pause { return &Pause{delay: first, max: max} }

// Delay is how long the next call of [Pause.Wait] sleeps.
func (p *Pause) Delay() time.Duration { return p.delay }

// Wait sleeps for the current delay, then doubles it (up to the ceiling). It returns
// ctx.Err() as soon as ctx ends.
func (p *Pause) Wait(ctx context.Context) error {
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	p.delay = min(2*p.delay, p.max)
	return nil
}
