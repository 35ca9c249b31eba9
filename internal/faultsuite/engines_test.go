package faultsuite_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// startSecondEngine starts a second engine process (`hfengine serve --no-api`) on the
// stack's database and message queue, as Hatchet scales past one machine, and returns
// its gRPC address. It gets a state directory of its own holding a copy of the stack's
// keys (config/server.yaml), and the running engine's environment with other ports.
// The stack's state directory is HATCHETFLOW_STATE_DIR, else the repository's .state.
func startSecondEngine(t *testing.T) string {
	t.Helper()
	state := os.Getenv("HATCHETFLOW_STATE_DIR")
	if state == "" {
		top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			t.Skipf("no stack state directory: %v", err)
		}
		state = filepath.Join(strings.TrimSpace(string(top)), ".state")
	}
	bin := filepath.Join(state, "bin", "hfengine")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no engine binary in %s: %v", state, err)
	}
	keys, err := os.ReadFile(filepath.Join(state, "config", "server.yaml"))
	if err != nil {
		t.Skipf("no engine keys in %s: %v", state, err)
	}
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "config"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "config", "server.yaml"), keys, 0o600))
	// The stack configures its engine through the environment: start the second one
	// with the first one's, other ports aside.
	pid, err := os.ReadFile(filepath.Join(state, "run", "engine.pid"))
	if err != nil {
		t.Skipf("no running engine in %s: %v", state, err)
	}
	environ, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pid)), "environ"))
	if err != nil {
		t.Skipf("cannot read the engine's environment: %v", err)
	}
	grpc := freePort(t)
	// SERVER_URL stays: the workers' token carries it, and each engine checks it. The
	// REST port is not served (--no-api) but moved anyway, off the first engine's.
	override := map[string]string{
		"SERVER_GRPC_PORT":                                       fmt.Sprint(grpc),
		"SERVER_GRPC_BROADCAST_ADDRESS":                          fmt.Sprintf("127.0.0.1:%d", grpc),
		"SERVER_INTERNAL_CLIENT_INTERNAL_GRPC_BROADCAST_ADDRESS": fmt.Sprintf("127.0.0.1:%d", grpc),
		"SERVER_PORT":                                            fmt.Sprint(freePort(t)),
	}
	var env []string
	for _, kv := range strings.Split(string(environ), "\x00") {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := override[k]; !ok && kv != "" {
			env = append(env, kv)
		}
	}
	for k, v := range override {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, "serve", "--state", dir, "--no-api")
	cmd.Env = env
	logf, err := os.Create(filepath.Join(dir, "engine.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "engine.log"))
			t.Logf("second engine log (tail):\n%s", tail(string(b), 30))
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", grpc)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "engine.log"))
			t.Fatalf("the second engine did not listen on %s\n%s", addr, tail(string(b), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// m. Three worker processes serve the same tasks through two engine processes that
// share PostgreSQL and the message queue: w1 on the first, w2 and w3 on the second. A
// chain whose middle step is a 200-item swarm runs while w3 is SIGKILLed and w2 is
// stopped gracefully (SIGTERM, drained) and restarted. The swarm and the chain
// complete, each done item's user function ran once, and the chain's last step once.
// Items running on (or just sent to) the killed worker (no retries: the engine fails
// them at their 3 s timeout) end failed, as null results, their function run once or,
// when the worker died before the attempt started, never; none is lost or run twice.
func TestThreeWorkersTwoEngines(t *testing.T) {
	s := newSuite(t, "m. three workers on two engines; one SIGKILLed, one SIGTERMed and restarted", suiteOpt{})
	ctx := enginetest.Context(t, 4*time.Minute)
	second := startSecondEngine(t)
	const items = 200
	s.row.Runs = items + 2
	s.startWorker("w1", fs.ModeNormal, "-slots", "10")
	s.workerEnv = []string{"HATCHET_CLIENT_HOST_PORT=" + second}
	w2 := s.startWorker("w2", fs.ModeNormal, "-slots", "10")
	w3 := s.startWorker("w3", fs.ModeNormal, "-slots", "10")
	specs := make([]dsl.Spec, items)
	for i := range specs {
		specs[i] = dsl.Sign(fs.TaskMain).With(dsl.KW{"id": fmt.Sprintf("m-%03d", i), "sleep_ms": 150})
	}
	ch := dsl.Chain(dsl.Sign(fs.TaskMain).With(dsl.KW{"id": "m-first"}),
		dsl.Swarm(specs...).MaxConcurrency(24),
		dsl.Sign(fs.TaskOnErrorAny).With(dsl.KW{"id": "m-last", "tag": "t"}))
	h, err := ch.Run(ctx, s.c, fs.MainIn{ID: "m-first"})
	must(t, err)
	s.waitCount(ctx, fs.TaskMain, 60)
	w3.kill(t)
	killed := time.Now()
	s.waitCount(ctx, fs.TaskMain, 120)
	stopped := time.Now()
	w2.stop() // SIGTERM: w2 drains its running items
	drained := time.Since(stopped)
	s.startWorker("w2b", fs.ModeNormal, "-slots", "10")
	st := s.settleChain(ctx, h.SignatureID())
	if st.Status != hatchetflow.StatusDone {
		t.Fatalf("chain %s at step %d, want done", st.Status, st.Current)
	}
	sw, err := s.c.Swarm(ctx, st.Steps[1].ID)
	must(t, err)
	t.Logf("SIGKILL of w3 → chain done %v; w2 drained in %v; swarm: %d done, %d failed",
		time.Since(killed).Round(time.Millisecond), drained.Round(time.Millisecond), sw.Done, sw.Failed)
	if sw.Done+sw.Failed != items || sw.Failed > 10 {
		t.Errorf("swarm: %d done, %d failed of %d; want all ended, at most w3's 10 slots failed", sw.Done, sw.Failed, items)
	}
	// A done item's function ran once. A failed one (on the killed worker) ran once, or
	// never when the worker died before its attempt started: never twice.
	counts := s.counts(ctx, fs.TaskMain)
	never := 0
	for _, it := range sw.Items {
		n := counts[fmt.Sprintf("m-%03d", it.Index)]
		switch {
		case it.State == "done" && n != 1, n > 1:
			t.Errorf("item m-%03d (%s): user code ran %d times", it.Index, it.State, n)
		case n == 0:
			never++
		}
	}
	s.expectMain(ctx, fs.TaskMain, "m-first", 1)
	s.expect(ctx, map[string]map[string]int{fs.TaskOnErrorAny: {"m-last/t": 1}})
	s.checkTTLs(ctx)
	s.row.Note = fmt.Sprintf("w2 drained in %v; %d items on the killed worker failed (null results; %d of them never started)",
		drained.Round(time.Millisecond), sw.Failed, never)
}
