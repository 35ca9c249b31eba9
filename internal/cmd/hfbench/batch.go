//lint:file-ignore SA1019 the v0 admin client is the only way the SDK (v0.104.7) offers to BulkTriggerWorkflow; used for a reference measurement only, never by hatchetflow itself.

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	v0 "github.com/hatchet-dev/hatchet/pkg/client"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// The batch reference (-batch, or -explain): what batching dispatch saves, on the
// engine alone. hatchetflow triggers the callbacks of one outcome in one
// BulkTriggerWorkflow call per 500 (the fan-out curve counts its calls); the SDK's
// Client.RunMany makes one RunNoWait per input outside a durable task (v0.104.7
// client.go), and exposes the bulk call only on its v0 client
// (pkg/client Admin().BulkRunWorkflow). This phase triggers N runs of a workflow
// with the fair shape (one task plus an on-failure step) both ways, from this process,
// and measures trigger start → last run's user function start.
const batchChildWf = "bench-batch-child"

// maxBulk is the most runs put in one BulkTriggerWorkflow call.
const maxBulk = 1000

type batchPoint struct {
	size                   int
	perRun, bulk           time.Duration // trigger start → last child fn start
	perRunCalls, bulkCalls int
}

func (b *bench) addBatchFlows() {
	b.batchRuns = newTracker()
	wf := b.hc.NewWorkflow(batchChildWf)
	wf.NewTask("main", func(_ hatchet.Context, in LinkIn) (map[string]any, error) {
		b.batchRuns.start(in.TaskResult.Value.Seq, 1, time.Now())
		return map[string]any{}, nil
	})
	wf.OnFailure(func(hatchet.Context, map[string]any) (map[string]any, error) { return map[string]any{}, nil })
	b.workflows = append(b.workflows, wf)
}

func (b *bench) batchPhase(ctx context.Context, cfg config) ([]batchPoint, error) {
	admin, err := v0.New()
	if err != nil {
		return nil, fmt.Errorf("v0 client: %w", err)
	}
	measure := func(n int, bulk bool) (time.Duration, int, error) {
		seq := b.seq.Add(1)
		r := b.batchRuns.expect(seq, n)
		defer b.batchRuns.forget(seq)
		input := map[string]any{"task_result": LinkOut{Seq: seq}}
		begin := time.Now()
		calls := 0
		if bulk {
			for done := 0; done < n; done += maxBulk {
				var runs []*v0.WorkflowRun
				for i := done; i < min(n, done+maxBulk); i++ {
					runs = append(runs, &v0.WorkflowRun{Name: batchChildWf, Input: input})
				}
				calls++
				if _, err := admin.Admin().BulkRunWorkflow(runs); err != nil {
					return 0, calls, fmt.Errorf("bulk trigger: %w", err)
				}
			}
		} else {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				calls++
				go func() {
					defer wg.Done()
					if _, err := b.hc.RunNoWait(context.WithoutCancel(ctx), batchChildWf, input); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				return 0, calls, fmt.Errorf("trigger: %w", err)
			}
		}
		timeout := cfg.runTimeout + time.Duration(n)*200*time.Millisecond
		select {
		case <-r.done:
		case <-time.After(timeout):
			return 0, calls, fmt.Errorf("batch %d: not all runs started within %v", n, timeout)
		case <-ctx.Done():
			return 0, calls, ctx.Err()
		}
		st, _ := b.batchRuns.snapshot(r)
		var last time.Time
		for _, t := range st[1] {
			if t.After(last) {
				last = t
			}
		}
		return last.Sub(begin), calls, nil
	}
	var out []batchPoint
	for i, n := range fanoutSizes {
		p := batchPoint{size: n}
		// The order of the two ways alternates from size to size.
		for _, bulk := range []bool{i%2 == 1, i%2 == 0} {
			d, calls, err := measure(n, bulk)
			if err != nil {
				return nil, err
			}
			if bulk {
				p.bulk, p.bulkCalls = d, calls
			} else {
				p.perRun, p.perRunCalls = d, calls
			}
		}
		progress("batch %d: %d RunNoWait calls %v, %d BulkTriggerWorkflow calls %v", n, p.perRunCalls,
			p.perRun.Round(time.Millisecond), p.bulkCalls, p.bulk.Round(time.Millisecond))
		out = append(out, p)
	}
	return out, nil
}
