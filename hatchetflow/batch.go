package hatchetflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hatchetflow/go/internal/engine"
)

// Batched dispatch: the runs of one dispatchEach (the callbacks of one outcome, a
// swarm fill, the items AddItems starts) go to the engine in one call per maxBatch
// runs, with the run ids back in order, so a fan-out of 1,000 callbacks costs 2 engine
// calls instead of 1,000.
//
// When a batch call fails, no run may be lost or doubled:
//   - the engine refused it (engine.ErrBatchRefused: it answered with an error, or the
//     call was never sent): none was created, and each run is triggered on its own;
//   - its outcome is unknown (a timeout, a lost connection): the engine is asked which
//     runs of the batch's parent exist (engine.RunFinder; its list can lag its
//     triggers, so it is asked up to batchFindTries times over about 2 s, stopping
//     when all are found); those found count as dispatched, and only the rest are
//     triggered on their own. A run the list had not shown yet may then exist twice:
//     the second is refused when it starts, before user code, by its signature's
//     start CAS, so user code and callbacks still run once.

// maxBatch is the most runs one engine call triggers.
const maxBatch = 500

// batchFindPause is the pause before each ask of the engine which runs of a batch with
// an unknown outcome exist; batchFindTries how many asks there are.
const (
	batchFindPause = 500 * time.Millisecond
	batchFindTries = 4
)

// dispatchBatches triggers jobs in batches of at most maxBatch through bd, setting
// each job's run id, and returns the jobs that must still be triggered on their own.
func (c *Client) dispatchBatches(ctx context.Context, bd engine.BatchDispatcher, parent string, jobs []*dispatchJob) (alone []*dispatchJob) {
	for start := 0; start < len(jobs); start += maxBatch {
		alone = append(alone, c.dispatchBatch(ctx, bd, parent, jobs[start:min(len(jobs), start+maxBatch)])...)
	}
	return alone
}

// dispatchBatch triggers jobs in one engine call (see above).
func (c *Client) dispatchBatch(ctx context.Context, bd engine.BatchDispatcher, parent string, jobs []*dispatchJob) (alone []*dispatchJob) {
	runs := make([]engine.Run, len(jobs))
	for i, j := range jobs {
		runs[i] = j.run
	}
	since := time.Now().Add(-time.Minute) // the engine's clock may differ a little
	ids, err := bd.DispatchBatch(ctx, runs)
	if err == nil && len(ids) != len(jobs) {
		err = fmt.Errorf("hatchetflow: the engine returned %d run ids for a batch of %d runs", len(ids), len(jobs))
	}
	if err == nil {
		for i, j := range jobs {
			j.runID = ids[i]
		}
		return nil
	}
	if errors.Is(err, engine.ErrBatchRefused) {
		c.log.Warn("hatchetflow: batch refused; dispatching its runs one by one",
			"parent", parent, "runs", len(jobs), "error", err)
		return jobs
	}
	found := c.findBatchRuns(ctx, parent, since, jobs)
	for _, j := range jobs {
		if run, ok := found[j.ref.ID]; ok {
			j.runID = run
			continue
		}
		alone = append(alone, j)
	}
	c.log.Warn("hatchetflow: batch outcome unknown; dispatching the runs the engine does not show one by one",
		"parent", parent, "runs", len(jobs), "found", len(jobs)-len(alone), "error", err)
	return alone
}

// findBatchRuns asks the engine which of jobs' signatures have a run of parent created
// since since, up to batchFindTries times until all are found. It returns what it
// found (nothing when the engine cannot be asked).
func (c *Client) findBatchRuns(ctx context.Context, parent string, since time.Time, jobs []*dispatchJob) map[string]string {
	rf, ok := c.dispatcher.(engine.RunFinder)
	if !ok {
		return nil
	}
	found := map[string]string{}
	for try := 0; try < batchFindTries; try++ {
		select {
		case <-ctx.Done():
			return found
		case <-time.After(batchFindPause):
		}
		runs, err := rf.RunsOf(ctx, since, parent)
		if err != nil {
			c.log.Warn("hatchetflow: cannot list a batch's runs", "parent", parent, "error", err)
			continue
		}
		missing := 0
		for _, j := range jobs {
			if run, ok := runs[j.ref.ID]; ok {
				found[j.ref.ID] = run
			} else {
				missing++
			}
		}
		if missing == 0 {
			break
		}
	}
	return found
}
