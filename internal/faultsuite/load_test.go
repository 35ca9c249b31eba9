package faultsuite_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// e. 1,000 signature runs with callbacks, triggered in parallel (every tenth task
// fails): every success and error callback runs exactly once, and afterwards no key
// under the test's prefix is left without a TTL, the task registry excepted.
func TestThousandRuns(t *testing.T) {
	const n, producers = 1000, 50
	s := newSuite(t, "e. 1,000 parallel runs (10% failing)", suiteOpt{})
	s.row.Runs = n
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal, "-slots", "200", "-log", "warn")

	want := map[string]map[string]int{fs.TaskOnSuccess: {}, fs.TaskOnError: {}}
	for i := range n {
		id := fmt.Sprintf("e%04d", i)
		if i%10 == 0 {
			want[fs.TaskOnError][id+"/e"] = 1
		} else {
			want[fs.TaskOnSuccess][id+"/s"] = 1
		}
	}
	b := dsl.Sign(fs.TaskMain).
		OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s"})).
		OnError(dsl.Sign(fs.TaskOnError).With(dsl.KW{"tag": "e"}))
	start := time.Now()
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += producers {
				h, err := b.Run(ctx, s.c, fs.MainIn{ID: fmt.Sprintf("e%04d", i), Fail: i%10 == 0})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = h.SignatureID()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("run: %v", err)
	}
	t.Logf("%d runs triggered in %v", n, time.Since(start).Round(time.Millisecond))
	s.waitCount(ctx, fs.TaskOnSuccess, len(want[fs.TaskOnSuccess]))
	s.waitCount(ctx, fs.TaskOnError, len(want[fs.TaskOnError]))
	s.settle(ctx, ids...)
	t.Logf("trigger → every tree settled: %v", time.Since(start).Round(time.Millisecond))
	s.expect(ctx, want)
	main := s.counts(ctx, fs.TaskMain)
	if len(main) != n || sum(main) != n {
		t.Errorf("main user code: %d ids, %d executions; want %d each", len(main), sum(main), n)
	}
	s.checkTTLs(ctx)
	s.row.Note = fmt.Sprintf("%d producers; %.0f s from first trigger to settled", producers, time.Since(start).Seconds())
}
