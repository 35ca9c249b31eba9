package faultsuite_test

import (
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// c. The main step's dispatch fails after dispatching: every callback trigger is sent
// but its first two are reported as failed (a lost acknowledgement). With one engine
// call per trigger (the worker runs with -batch=false), the main step retries its
// finish within the attempt (WithStepRetryTime), so each success callback is triggered
// three times, its user code runs once, and the run completes. (A lost batch is c”.)
func TestMainDispatchFailsAfterDispatch(t *testing.T) {
	s := newSuite(t, "c. main step's dispatch fails after dispatching (retried in-step)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	s.startWorker("w1", fs.ModeLoseAck, "-fail-times", "2", "-step-retry", "20s", "-batch=false")
	h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "c1"})
	if st := s.finish(ctx, h); st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want COMPLETED", st)
	}
	s.expect(ctx, successOnly("c1"))
	s.expectMain(ctx, fs.TaskMain, "c1", 1)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	for _, cb := range rec.OnSuccess {
		if n := s.counts(ctx, fs.Dispatches)[cb.ID]; n != 3 {
			t.Errorf("callback %s triggered %d times, want 3 (two lost acknowledgements, then one that lands)", cb.ID, n)
		}
	}
	s.checkTTLs(ctx)
	s.row.Note = "each callback triggered 3 times, user code once"
}

// c'. The failure path fails after dispatching: the error callbacks' first two
// triggers are sent but reported as failed (one engine call per trigger, as in c). The step that runs it (the last attempt in
// the lean shape, the on-failure step with one; Hatchet retries neither) retries
// within its attempt (WithStepRetryTime); each error callback is triggered three times
// and its user code runs once.
func TestOnFailureFailsAfterDispatch(t *testing.T) {
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			s := newSuite(t, "c'. failure path fails after dispatching (retried in-step)"+sh.suffix, suiteOpt{})
			s.row.Runs = 1
			ctx := enginetest.Context(t, 2*time.Minute)
			s.startWorker("w1", fs.ModeLoseAck, append([]string{"-fail-times", "2", "-step-retry", "20s", "-batch=false"}, sh.flags...)...)
			h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "c2", Fail: true})
			if st := s.finish(ctx, h); st != rest.V1TaskStatusFAILED {
				t.Errorf("engine run %s, want FAILED", st)
			}
			s.expect(ctx, errorOnly("c2"))
			s.expectMain(ctx, fs.TaskMain, "c2", 1)
			rec, err := s.c.Signature(ctx, h.SignatureID())
			must(t, err)
			for _, cb := range rec.OnError {
				if n := s.counts(ctx, fs.Dispatches)[cb.ID]; n != 3 {
					t.Errorf("error callback %s triggered %d times, want 3", cb.ID, n)
				}
			}
			s.checkTTLs(ctx)
			s.row.Note = "each error callback triggered 3 times, user code once"
		})
	}
}

// c”. A batch of callback triggers is sent but reported lost (its outcome unknown to
// the worker, as after a timeout). Before it triggers anything again, the main step
// asks the engine's run list which runs of the batch exist: both are there, so each
// success callback is triggered once and its user code runs once.
func TestBatchAckLost(t *testing.T) {
	s := newSuite(t, "c''. a batch of triggers sent but reported lost (batched dispatch)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	s.startWorker("w1", fs.ModeLoseAck, "-fail-times", "1", "-step-retry", "20s")
	h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "c3"})
	if st := s.finish(ctx, h); st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want COMPLETED", st)
	}
	s.expect(ctx, successOnly("c3"))
	s.expectMain(ctx, fs.TaskMain, "c3", 1)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	for _, cb := range rec.OnSuccess {
		if n := s.counts(ctx, fs.Dispatches)[cb.ID]; n != 1 {
			t.Errorf("callback %s triggered %d times, want once (the run list showed the lost batch's runs)", cb.ID, n)
		}
	}
	s.checkTTLs(ctx)
	s.row.Note = "one batch for both callbacks, reported lost; the run list showed its runs; each triggered once"
}
