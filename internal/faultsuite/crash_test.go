package faultsuite_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// a. A worker SIGKILLed in the middle of a task with a 3 s execution timeout and no
// retries: nothing runs while no worker exists; once a new worker starts, whichever the
// engine does first ends the signature: it fails the run at its timeout and the
// reconciler that worker hosts fails the signature (with WithOnFailureStep, the
// on-failure step does), or it reassigns the dead worker's attempt, which finds the
// task's one attempt spent and ends the signature without calling user code (seen on
// the RabbitMQ queue). Either way the error callbacks run exactly once, the success
// callbacks never, and the engine's run fails.
func TestWorkerKilledMidTask(t *testing.T) {
	s := newSuite(t, "a. worker SIGKILLed mid-task (timeout 3 s, retries 0)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeNormal)
	h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "a1", Block: true})
	s.waitCount(ctx, fs.TaskMain, 1)
	w1.kill(t)
	killed := time.Now()

	// Past the execution timeout, with no worker: the failure is pending on the engine.
	time.Sleep(fs.MainTimeout + 1500*time.Millisecond)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if rec.Status != flowtype.StatusActive || sum(s.counts(ctx, fs.TaskOnError)) != 0 {
		t.Fatalf("without a worker: signature %s, error callbacks ran %d times", rec.Status, sum(s.counts(ctx, fs.TaskOnError)))
	}

	w2 := s.startWorker("w2", fs.ModeNormal)
	st := s.finish(ctx, h)
	t.Logf("kill → error callbacks settled: %v (new worker up → settled: %v)",
		time.Since(killed).Round(time.Millisecond), time.Since(w2.started).Round(time.Millisecond))
	s.expect(ctx, errorOnly("a1"))
	s.expectMain(ctx, fs.TaskMain, "a1", 1)
	if who := s.crdb.HGet(ctx, fs.WhoKey(s.prefix, fs.TaskOnError), "a1/e1").Val(); who != "w2" {
		t.Errorf("error callback ran on %q, want the new worker w2", who)
	}
	rec, err = s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if rec.Status != flowtype.StatusFailed ||
		!(strings.Contains(rec.Error, "timeout") || strings.Contains(rec.Error, "the engine started attempt 2")) {
		t.Errorf("signature %s, error %q; want failed by the timeout or by the reassigned attempt", rec.Status, rec.Error)
	}
	if st != rest.V1TaskStatusFAILED {
		t.Errorf("engine run %s, want FAILED", st)
	}
	s.checkTTLs(ctx)
	s.row.Note = "no callback while no worker; error callbacks on the new worker"
}

// a'. The same kill with one retry: the retry runs the task again on the new worker
// (the task itself is at-least-once) and the success callbacks run exactly once.
func TestWorkerKilledMidTaskRetried(t *testing.T) {
	s := newSuite(t, "a'. worker SIGKILLed mid-task (timeout 3 s, retries 1)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeNormal)
	h := s.run(ctx, sig(fs.TaskMainRetry), fs.MainIn{ID: "a2", Block: true})
	s.waitCount(ctx, fs.TaskMainRetry, 1)
	w1.kill(t)
	s.startWorker("w2", fs.ModeNormal)
	st := s.finish(ctx, h)
	s.expect(ctx, successOnly("a2"))
	s.expectMain(ctx, fs.TaskMainRetry, "a2", 2)
	if st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want COMPLETED", st)
	}
	s.checkTTLs(ctx)
	s.row.Note = "main ran twice (killed attempt + retry), callbacks once"
}

// b. A worker killed after the main task succeeded (signature done) but before any
// callback was dispatched: the engine times the attempt out and retries it on a new
// worker; the retry sees the signature done by its own run, dispatches the success
// callbacks (which run exactly once) and returns the stored result without calling
// user code.
func TestWorkerKilledBeforeDispatch(t *testing.T) {
	s := newSuite(t, "b. worker SIGKILLed after success, before dispatch (retries 1)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeCrashBefore)
	h := s.run(ctx, sig(fs.TaskMainRetry), fs.MainIn{ID: "b1"})
	w1.waitExit(t, 30*time.Second)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if rec.Status != flowtype.StatusDone || sum(s.counts(ctx, fs.Dispatches)) != 0 {
		t.Fatalf("after the crash: signature %s, %d dispatches; want done, 0", rec.Status, sum(s.counts(ctx, fs.Dispatches)))
	}
	s.startWorker("w2", fs.ModeNormal)
	st := s.finish(ctx, h)
	s.expect(ctx, successOnly("b1"))
	s.expectMain(ctx, fs.TaskMainRetry, "b1", 1)
	if st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want COMPLETED", st)
	}
	out, err := h.Wait(ctx)
	must(t, err)
	if string(out) != `{"id":"b1","value":2}` {
		t.Errorf("run result %s", out)
	}
	s.checkTTLs(ctx)
	s.row.Note = "retry returned the stored result; user code not re-run"
}

// b'. As b, but the worker dies right after the callback triggers were sent (one batch)
// and before hatchetflow recorded them: the main step's retry on the new worker comes
// seconds after the signature ended, so before it triggers anything it asks the
// engine's run list, finds the killed attempt's runs and records them: each callback is
// triggered once. (Had the list missed one, the callback's own signature would let only
// one run call user code.)
func TestWorkerKilledAfterFirstTrigger(t *testing.T) {
	s := newSuite(t, "b'. worker SIGKILLed between trigger and marker (retries 1)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeCrashAfter)
	h := s.run(ctx, sig(fs.TaskMainRetry), fs.MainIn{ID: "b2"})
	w1.waitExit(t, 30*time.Second)
	s.startWorker("w2", fs.ModeNormal)
	if st := s.finish(ctx, h); st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want COMPLETED", st)
	}
	s.expect(ctx, successOnly("b2"))
	s.expectMain(ctx, fs.TaskMainRetry, "b2", 1)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if n := sum(s.counts(ctx, fs.Dispatches)); n != len(rec.OnSuccess) {
		t.Errorf("%d callback triggers for %d callbacks; want one each (the retry finds the killed attempt's runs in the engine's run list)", n, len(rec.OnSuccess))
	}
	s.checkTTLs(ctx)
	s.row.Note = "the retry found the killed attempt's triggers in the engine's run list; each callback triggered once"
}

// b”. As b, with no retries: whichever the engine does first completes the success path.
// It fails the main step at the timeout, and the reconciler (with WithOnFailureStep, the
// on-failure step) must see that the failed run finished the signature and dispatch the
// success callbacks (not drop them, not run error callbacks); or it reassigns the dead
// worker's attempt, which finds the signature done by its own run, dispatches and
// returns the stored result, so the run completes (seen on the RabbitMQ queue).
func TestWorkerKilledBeforeDispatchNoRetry(t *testing.T) {
	s := newSuite(t, "b''. worker SIGKILLed after success, before dispatch (retries 0)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeCrashBefore)
	h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "b3"})
	w1.waitExit(t, 30*time.Second)
	s.startWorker("w2", fs.ModeNormal)
	if st := s.finish(ctx, h); st != rest.V1TaskStatusFAILED && st != rest.V1TaskStatusCOMPLETED {
		t.Errorf("engine run %s, want FAILED (the engine saw a timeout) or COMPLETED (it reassigned the attempt)", st)
	}
	s.expect(ctx, successOnly("b3"))
	s.expectMain(ctx, fs.TaskMain, "b3", 1)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if rec.Status != flowtype.StatusDone {
		t.Errorf("signature %s, want done", rec.Status)
	}
	s.checkTTLs(ctx)
	s.row.Note = "the timeout's verdict, or the reassigned attempt, finished the success path"
}

// a”. A worker killed inside the failure path, before it dispatched the error
// callbacks. With an on-failure step, Hatchet gives that step no retries and a 60 s
// timeout, but it reassigns a dead worker's tasks once its heartbeat is 30 s old, so
// the step runs again on a new worker, about 30 s late. In the lean shape (no
// on-failure step) the last attempt ran the failure path itself; the engine fails the
// run at its 3 s timeout, and the new worker's reconciler finds the signature failed
// by that run and completes the path (about 6 s after the kill). Either way the error
// callbacks run exactly once.
func TestWorkerKilledInOnFailure(t *testing.T) {
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			s := newSuite(t, "a''. worker SIGKILLed inside the failure path"+sh.suffix, suiteOpt{})
			s.row.Runs = 1
			ctx := enginetest.Context(t, 2*time.Minute)
			w1 := s.startWorker("w1", fs.ModeCrashBefore, sh.flags...)
			h := s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: "a3", Fail: true})
			w1.waitExit(t, 30*time.Second)
			killed := time.Now()
			rec, err := s.c.Signature(ctx, h.SignatureID())
			must(t, err)
			if rec.Status != flowtype.StatusFailed || sum(s.counts(ctx, fs.Dispatches)) != 0 {
				t.Fatalf("after the crash: signature %s, %d dispatches; want failed, 0", rec.Status, sum(s.counts(ctx, fs.Dispatches)))
			}
			s.startWorker("w2", fs.ModeNormal, sh.flags...)
			if st := s.finish(ctx, h); st != rest.V1TaskStatusFAILED {
				t.Errorf("engine run %s, want FAILED", st)
			}
			t.Logf("kill → error callbacks settled: %v", time.Since(killed).Round(time.Millisecond))
			s.expect(ctx, errorOnly("a3"))
			s.expectMain(ctx, fs.TaskMain, "a3", 1)
			s.checkTTLs(ctx)
			s.row.Note = fmt.Sprintf("reassigned after the heartbeat rule; settled %.0f s after the kill", time.Since(killed).Seconds())
		})
	}
}

// shapes are the two engine shapes a task can have: lean (no on-failure step, the
// default) and with Hatchet's on-failure step (hatchetflow.WithOnFailureStep).
var shapes = []struct {
	name, suffix string
	flags        []string
}{
	{"lean", " (lean)", nil},
	{"on-failure step", " (on-failure step)", []string{"-on-failure-step"}},
}

// chainUnderTest is a three-step chain whose second step blocks on its first attempt:
// TaskMain (id), then step (id+"-2", blocking), then step (id+"-3"); its success
// callback counts <last id>/s, its error callback <id>/e (the chain's input).
func chainUnderTest(id, step string) dsl.ChainBuilder {
	return dsl.Chain(
		dsl.Sign(fs.TaskMain),
		dsl.Sign(step).With(dsl.KW{"id": id + "-2", "block": true}),
		dsl.Sign(step).With(dsl.KW{"id": id + "-3"}),
	).OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s"})).
		OnError(dsl.Sign(fs.TaskOnError).With(dsl.KW{"tag": "e"}))
}

// f. A worker SIGKILLed during a chain's second step (no retries): once a new worker
// exists, the engine fails the step at its timeout and the reconciler fires the
// chain's error callback exactly once; the third step never starts.
func TestWorkerKilledDuringChainStep(t *testing.T) {
	s := newSuite(t, "f. worker SIGKILLed during chain step 2 (retries 0)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeNormal)
	h, err := chainUnderTest("f1", fs.TaskStep).Run(ctx, s.c, fs.MainIn{ID: "f1"})
	must(t, err)
	s.waitCount(ctx, fs.TaskStep, 1)
	w1.kill(t)
	s.startWorker("w2", fs.ModeNormal)
	st := s.settleChain(ctx, h.SignatureID())
	if st.Status != hatchetflow.StatusFailed || st.Current != 1 {
		t.Errorf("chain %s at step %d, want failed at step 1", st.Status, st.Current)
	}
	s.expect(ctx, map[string]map[string]int{fs.TaskOnError: {"f1/e": 1}})
	s.expectMain(ctx, fs.TaskStep, "f1-2", 1)
	s.expectMain(ctx, fs.TaskStep, "f1-3", 0)
	s.checkTTLs(ctx)
	s.row.Note = "chain error callback once; later step never started"
}

// f'. The same kill with one retry: the step runs again on the new worker, the chain
// goes on, and its success callback runs exactly once.
func TestWorkerKilledDuringChainStepRetried(t *testing.T) {
	s := newSuite(t, "f'. worker SIGKILLed during chain step 2 (retries 1)", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 2*time.Minute)
	w1 := s.startWorker("w1", fs.ModeNormal)
	h, err := chainUnderTest("f2", fs.TaskStepRetry).Run(ctx, s.c, fs.MainIn{ID: "f2"})
	must(t, err)
	s.waitCount(ctx, fs.TaskStepRetry, 1)
	w1.kill(t)
	s.startWorker("w2", fs.ModeNormal)
	st := s.settleChain(ctx, h.SignatureID())
	if st.Status != hatchetflow.StatusDone {
		t.Errorf("chain %s, want done", st.Status)
	}
	s.expect(ctx, map[string]map[string]int{fs.TaskOnSuccess: {"f2-3/s": 1}})
	s.expectMain(ctx, fs.TaskStepRetry, "f2-2", 2)
	s.expectMain(ctx, fs.TaskStepRetry, "f2-3", 1)
	s.checkTTLs(ctx)
	s.row.Note = "step retried on the new worker; chain success callback once"
}

// a-dag. A workflow of two tasks signed through RegisterWorkflow, run by a worker
// that SIGKILLs itself in hatchetflow's end task (the task the engine runs after the
// workflow's final tasks), before the success callback is triggered: the worker that
// ran the last task is gone. The engine retries the end task on a new worker, so the
// success callback runs exactly once with the last task's output, and each task of the
// workflow ran once. An in-process success hook (MageFlow's, the TypeScript SDK's
// on-success task aside) dies with the worker.
func TestWorkerDiesAfterDAGsLastTask(t *testing.T) {
	s := newSuite(t, "a-dag. worker SIGKILLed after a DAG's last task", suiteOpt{})
	s.row.Runs = 1
	ctx := enginetest.Context(t, 3*time.Minute)
	w1 := s.startWorker("w1", fs.ModeCrashBefore)
	h := s.run(ctx, dsl.Sign(fs.TaskDAG).OnSuccess(dsl.Sign(fs.TaskDAGDone).With(dsl.KW{"tag": "s1"})), fs.MainIn{ID: "d1"})
	s.waitCount(ctx, fs.TaskDAGLast, 1)
	w1.waitExit(t, 30*time.Second)
	exited := time.Now()
	w2 := s.startWorker("w2", fs.ModeNormal)
	if st := s.finish(ctx, h); st != rest.V1TaskStatusCOMPLETED {
		t.Fatalf("engine run %s, want COMPLETED", st)
	}
	s.waitCount(ctx, fs.TaskDAGDone, 1)
	t.Logf("last task's worker killed → success callback: %v (new worker up → callback: %v)",
		time.Since(exited).Round(time.Millisecond), time.Since(w2.started).Round(time.Millisecond))
	if who := s.crdb.HGetAll(ctx, fs.WhoKey(s.prefix, fs.Dispatches)).Val(); len(who) != 1 || slices.Collect(maps.Values(who))[0] != "w2" {
		t.Errorf("callback triggers by worker: %v, want one, by w2", who)
	}
	time.Sleep(2 * time.Second) // a duplicate would have run by now
	s.expect(ctx, map[string]map[string]int{fs.TaskDAGDone: {"d1:2/s1": 1}, fs.TaskOnError: {}})
	s.expectMain(ctx, fs.TaskDAGFirst, "d1", 1)
	s.expectMain(ctx, fs.TaskDAGLast, "d1", 1)
	rec, err := s.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if rec.Status != flowtype.StatusDone {
		t.Errorf("signature %s, want done", rec.Status)
	}
}
