package faultsuite_test

import (
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// c. The follow-up step fails after dispatching: every callback trigger is sent but
// its first two are reported as failed (a lost acknowledgement), and the worker does
// not retry inside a step (-step-retry 0). The main step's fast path fails, the
// follow-up step's first attempt dispatches again and fails, the engine retries it,
// and its second attempt dispatches a third time and succeeds. Each success callback
// was triggered three times; its user code ran once.
func TestFollowUpFailsAfterDispatch(t *testing.T) {
	s := newSuite(t, "c. follow-up step fails after dispatching (engine retries it)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	s.startWorker("w1", fs.ModeLoseAck, "-fail-times", "2", "-step-retry", "0s")
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
			t.Errorf("callback %s triggered %d times, want 3 (fast path, failed follow-up, its retry)", cb.ID, n)
		}
	}
	s.checkTTLs(ctx)
	s.row.Note = "each callback triggered 3 times, user code once"
}

// c'. The on-failure step fails after dispatching: the error callbacks' first two
// triggers are sent but reported as failed. Hatchet gives the on-failure step no
// retries, so the step retries within its attempt (WithStepRetryTime); each error
// callback is triggered three times and its user code runs once.
func TestOnFailureFailsAfterDispatch(t *testing.T) {
	s := newSuite(t, "c'. on-failure step fails after dispatching (retried in-step)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	s.startWorker("w1", fs.ModeLoseAck, "-fail-times", "2", "-step-retry", "20s")
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
}
