package hatchetflow

import (
	"context"
	"fmt"
	"sync"
)

// running counts the steps of a client's tasks that run in this process, for Drain.
type running struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n is 0; replaced when a step starts
}

func (r *running) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 || r.idle == nil {
		r.idle = make(chan struct{})
	}
	r.n++
}

func (r *running) done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n--
	if r.n == 0 {
		close(r.idle)
	}
}

// wait returns a channel closed once no step runs, and how many run now.
func (r *running) wait() (<-chan struct{}, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		c := make(chan struct{})
		close(c)
		return c, 0
	}
	return r.idle, r.n
}

// Drain waits until no step of the tasks registered on c runs in this process (main,
// end, on-failure steps), or ctx ends. It is the graceful half of a worker's stop:
// the SDK's stop (the cleanup func that Worker.Start returns) only stops taking runs
// and returns at once, so a process that exits right after it abandons its running
// attempts, which the engine then reassigns once the worker misses its heartbeats
// (30 s), or fails when the task has no retry left. Call Drain between the two:
//
//	<-ctx.Done()            // SIGTERM
//	_ = cleanup()           // no new runs
//	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//	defer cancel()
//	err := flow.Drain(dctx) // running attempts finish and report
//
// Attempts that finish during the drain report to the engine as usual. A Drain whose
// ctx ends first returns an error naming how many steps still run.
func (c *Client) Drain(ctx context.Context) error {
	idle, n := c.running.wait()
	if n == 0 {
		return nil
	}
	c.log.Info("hatchetflow: draining running steps", "steps", n)
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		_, left := c.running.wait()
		return fmt.Errorf("hatchetflow: drain: %d steps still running: %w", left, ctx.Err())
	}
}
