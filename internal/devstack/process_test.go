package devstack

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestPIDMatchesGuardsAgainstReuse(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Start returns once exec has begun; the new command line shows up a moment later.
	for i := 0; i < 100 && !PIDMatches(pid, "sleep"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !PIDMatches(pid, "sleep") {
		t.Errorf("PIDMatches(%d, sleep) = false for a running sleep", pid)
	}
	// A pid file naming a live process that is not ours (a reused pid).
	if PIDMatches(pid, "hfengine") {
		t.Errorf("PIDMatches(%d, hfengine) = true for a sleep", pid)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if PIDAlive(pid) || PIDMatches(pid, "sleep") {
		t.Errorf("pid %d reported alive after it exited", pid)
	}
}

func TestPIDAliveIsFalseForZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck // reaped at the end only
	pid := cmd.Process.Pid
	// Not waited for: it stays a zombie, which kill -0 alone reports alive.
	deadline := time.Now().Add(5 * time.Second)
	for PIDAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if PIDAlive(pid) {
		t.Fatalf("an exited, unreaped process (pid %d) is reported alive", pid)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the zombie should still exist for this test to mean anything: %v", err)
	}
}

func TestReadPIDFile(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]int{"123\n": 123, " 7 \nx\n": 7, "": 0, "abc": 0, "-4": 0} {
		p := filepath.Join(dir, "pid")
		writeTestFile(t, p, content)
		if got := ReadPIDFile(p); got != want {
			t.Errorf("ReadPIDFile(%q) = %d, want %d", content, got, want)
		}
	}
	if got := ReadPIDFile(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("missing file: %d", got)
	}
}

// startFakeEngine starts the fake hfengine serving two free ports; mode as in devstacktest.
func startFakeEngine(t *testing.T, mode string) (*Proc, int) {
	t.Helper()
	state := t.TempDir()
	bin := devstacktest.Link(t, t.TempDir(), "hfengine")
	writeTestFile(t, filepath.Join(state, "fake-engine-mode"), mode)
	grpc, http := freePort(t), freePort(t)
	env := append(os.Environ(), "SERVER_GRPC_PORT="+strconv.Itoa(grpc), "SERVER_PORT="+strconv.Itoa(http))
	p, err := StartDetached(context.Background(), bin, []string{"serve", "--state", state}, env, filepath.Join(state, "engine.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !p.Exited() {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
	})
	if err := waitPorts(context.Background(), []int{grpc, http}, 10*time.Second, p.Exited); err != nil {
		t.Fatalf("fake engine did not open its ports: %v", err)
	}
	return p, grpc
}

func TestStartDetachedOwnSessionAndStopPID(t *testing.T) {
	p, _ := startFakeEngine(t, "ok")
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid pgrp session ...
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	sid, _ := strconv.Atoi(f[3])
	if sid != p.PID {
		t.Errorf("session id %d, want the process's own (%d)", sid, p.PID)
	}
	out := &syncBuffer{}
	if err := StopPID(context.Background(), p.PID, "hfengine", 10*time.Second, NewLogger(out)); err != nil {
		t.Fatalf("StopPID: %v", err)
	}
	if !p.Exited() {
		t.Error("process still running after StopPID returned nil")
	}
}

func TestStopPIDNeverKills(t *testing.T) {
	p, grpc := startFakeEngine(t, "ignore-term")
	out := &syncBuffer{}
	start := time.Now()
	err := StopPID(context.Background(), p.PID, "hfengine", 500*time.Millisecond, NewLogger(out))
	if err == nil {
		t.Fatal("StopPID returned nil for a process that ignores SIGTERM")
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 5*time.Second {
		t.Errorf("StopPID returned after %s, want about the 0.5 s timeout", d)
	}
	if !strings.Contains(out.String(), "still running") || !strings.Contains(out.String(), "no kill -9") {
		t.Errorf("no warning logged: %q", out.String())
	}
	time.Sleep(200 * time.Millisecond)
	if p.Exited() || !PortOpen(context.Background(), grpc) {
		t.Error("the process was killed or stopped serving; StopPID must leave it alone")
	}
}

func TestPickPortSkipsTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	got, err := PickPort(context.Background(), "", taken)
	if err != nil {
		t.Fatal(err)
	}
	if got <= taken {
		t.Fatalf("PickPort(%d) = %d while %d is taken; want a higher free port", taken, got, taken)
	}
	l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(got)))
	if err != nil {
		t.Fatalf("picked port %d is not free: %v", got, err)
	}
	_ = l2.Close()

	free := freePort(t)
	if got, err := PickPort(context.Background(), "", free); err != nil || got != free {
		t.Errorf("PickPort(free %d) = %d, %v; want the preferred port", free, got, err)
	}
}
