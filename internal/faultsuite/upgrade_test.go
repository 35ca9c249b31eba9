package faultsuite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// upgradeFrom is the commit whose code plays the previous release in the upgrade
// scenario: the last one before this session's layout additions (finally callbacks'
// fields and markers, retry fields, requeued swarm items). HATCHETFLOW_UPGRADE_FROM
// names another.
const upgradeFrom = "65f428a"

// oldWorkerBinary builds the fault worker of commit rev in a temporary worktree of
// this repository (its module cache is shared) and returns the binary's path.
func oldWorkerBinary(t *testing.T, rev string) string {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout (%v): the upgrade scenario builds an earlier commit", err)
	}
	root := strings.TrimSpace(string(top))
	dir := t.TempDir()
	wt := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "-C", root, "worktree", "add", "--detach", wt, rev).CombinedOutput(); err != nil {
		t.Fatalf("git worktree add %s: %v\n%s", rev, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("git", "-C", root, "worktree", "remove", "--force", wt).Run() })
	bin := filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", bin, "./internal/cmd/faultworker")
	build.Dir = wt
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the worker of %s: %v\n%s", rev, err, out)
	}
	return bin
}

// u. A rolling upgrade from the previous release's code. Its worker (built from an
// earlier commit) runs flows saved by this release's producer on its own; then this
// release's worker joins while chains run, so old and new code take turns on the same
// chains (what the old code wrote, started and finished records, dispatch markers, a
// chain's next step dispatched, the new code reads and goes on from); the old worker
// is stopped once idle. Then, on the new release alone, a worker is stopped with
// SIGTERM in the middle of chain steps: it drains (Client.Drain), so the running
// steps finish and report instead of being abandoned, and a second new worker takes
// the rest. Every user function and callback runs once; nothing is left running.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	rev := upgradeFrom
	if r := os.Getenv("HATCHETFLOW_UPGRADE_FROM"); r != "" {
		rev = r
	}
	s := newSuite(t, "u. rolling upgrade from "+rev+", then a graceful stop", suiteOpt{})
	ctx := enginetest.Context(t, 4*time.Minute)
	old := oldWorkerBinary(t, rev)
	const flows, chains = 6, 4
	s.row.Runs = flows + 2*chains
	want := map[string]map[string]int{fs.TaskOnSuccess: {}}
	chain := func(id string, sleepMS int) string {
		ch := dsl.Chain(dsl.Sign(fs.TaskMain), dsl.Sign(fs.TaskStep).With(dsl.KW{"id": id + "-2"}), dsl.Sign(fs.TaskStep).With(dsl.KW{"id": id + "-3"})).
			OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s"})).OnError(dsl.Sign(fs.TaskOnError).With(dsl.KW{"tag": "e"}))
		h, err := ch.Run(ctx, s.c, fs.MainIn{ID: id, SleepMS: sleepMS})
		must(t, err)
		want[fs.TaskOnSuccess][id+"-3/s"] = 1
		return h.SignatureID()
	}

	// The previous release alone.
	wOld := s.startWorkerBinary(old, "w-old", fs.ModeNormal)
	var ids []string
	for i := range flows {
		id := fmt.Sprintf("u%d", i)
		ids = append(ids, s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: id}).SignatureID())
		want[fs.TaskOnSuccess][id+"/s1"], want[fs.TaskOnSuccess][id+"/s2"] = 1, 1
	}
	s.settle(ctx, ids...)
	// Both releases, on the same chains.
	var mixed []string
	for i := range chains {
		mixed = append(mixed, chain(fmt.Sprintf("uc%d", i), 300))
	}
	s.waitCount(ctx, fs.TaskMain, flows+1)
	s.startWorker("w-new", fs.ModeNormal)
	for _, id := range mixed {
		if st := s.settleChain(ctx, id); st.Status != hatchetflow.StatusDone {
			t.Errorf("mixed chain %s: %s at step %d, want done", id, st.Status, st.Current)
		}
	}
	wOld.stop()
	// The new release: a worker stopped (SIGTERM) while its steps run drains them.
	var drained []string
	for i := range chains {
		drained = append(drained, chain(fmt.Sprintf("ud%d", i), 2000))
	}
	s.waitCount(ctx, fs.TaskMain, flows+2*chains) // every first step runs, on w-new
	w2 := s.startWorker("w-new2", fs.ModeNormal)
	stopped := time.Now()
	s.workers[1].stop() // w-new
	t.Logf("w-new stopped (drained) in %v", time.Since(stopped).Round(time.Millisecond))
	for _, id := range drained {
		if st := s.settleChain(ctx, id); st.Status != hatchetflow.StatusDone {
			t.Errorf("drained chain %s: %s at step %d, want done", id, st.Status, st.Current)
		}
	}
	t.Logf("SIGTERM → every drained chain done: %v (w-new2 up %v before)", time.Since(stopped).Round(time.Millisecond),
		stopped.Sub(w2.started).Round(time.Millisecond))
	s.expect(ctx, want)
	for i := range flows {
		s.expectMain(ctx, fs.TaskMain, fmt.Sprintf("u%d", i), 1)
	}
	for _, p := range []string{"uc", "ud"} {
		for i := range chains {
			id := fmt.Sprintf("%s%d", p, i)
			s.expectMain(ctx, fs.TaskMain, id, 1)
			s.expectMain(ctx, fs.TaskStep, id+"-2", 1)
			s.expectMain(ctx, fs.TaskStep, id+"-3", 1)
		}
	}
	s.checkTTLs(ctx)
	s.row.Note = "flows of the previous release finished by the new one; SIGTERM drains running steps"
}
