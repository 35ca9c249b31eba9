package devstack

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestMain(m *testing.M) {
	devstacktest.Main()
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the logger and a test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a fake repository, state dir, cache and fake tools.
type fixture struct {
	root, state, cache, fakes string
	cfg                       Config
	out                       *syncBuffer
}

// newFixture makes a repository with tools/hatchet (go.mod requiring Hatchet v0.105.0,
// go.sum, cmd/hfengine/main.go), links every fake, and a Config that touches no real
// service: probes off, DATABASE_URL set, fake redis-server, free preferred ports.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{root: t.TempDir(), cache: t.TempDir(), fakes: t.TempDir(), out: &syncBuffer{}}
	f.state = filepath.Join(f.root, ".state")
	tools := filepath.Join(f.root, "tools", "hatchet")
	writeTestFile(t, filepath.Join(tools, "go.mod"), "module x/tools/hatchet\n\ngo 1.26\n\nrequire (\n\tgithub.com/hatchet-dev/hatchet v0.105.0 // indirect\n)\n")
	writeTestFile(t, filepath.Join(tools, "go.sum"), "github.com/hatchet-dev/hatchet v0.105.0 h1:abc=\n")
	writeTestFile(t, filepath.Join(tools, "cmd", "hfengine", "main.go"), "package main\n\nfunc main() {}\n")
	devstacktest.LinkAll(t, f.fakes)
	f.cfg = Config{
		Root:         f.root,
		StateDir:     f.state,
		BinCache:     f.cache,
		PGDB:         "hatchet",
		PGPort:       freePort(t),
		PGBin:        f.fakes,
		DatabaseURL:  "postgresql://fake@127.0.0.1:1/hatchet?sslmode=disable",
		RedisPort:    freePort(t),
		RedisServer:  filepath.Join(f.fakes, "redis-server"),
		MQ:           "postgres",
		RabbitMQPort: 1,
		GRPCPort:     freePort(t),
		HTTPPort:     freePort(t),
		DBMaxConns:   30,
		StopTimeout:  10 * time.Second,
		StartTimeout: 20 * time.Second,
		LockWait:     time.Minute,
		Path:         f.fakes,
		GoCmd:        "go",
	}
	t.Cleanup(func() { f.killLeftovers(t) })
	return f
}

func (f *fixture) stack() *Stack {
	return New(f.cfg, NewLogger(f.out), f.out)
}

// engineMode sets the fake engine's behaviour (devstacktest).
func (f *fixture) engineMode(t *testing.T, mode string) {
	t.Helper()
	writeTestFile(t, filepath.Join(f.state, "fake-engine-mode"), mode+"\n")
}

// killLeftovers SIGKILLs the fakes a test left running (test clean-up only; the stack
// itself never sends SIGKILL).
func (f *fixture) killLeftovers(t *testing.T) {
	for _, p := range []struct{ file, word string }{
		{filepath.Join(f.state, "run", "engine.pid"), "hfengine"},
		{filepath.Join(f.state, "run", "redis.pid"), "redis-server"},
		{filepath.Join(f.state, "pg", "data", "postmaster.pid"), "postgres"},
	} {
		if pid := ReadPIDFile(p.file); PIDMatches(pid, p.word) {
			t.Logf("killing leftover %s (pid %d)", p.word, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort is a port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitGone waits up to 5 s for pid to exit.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 100 && PIDAlive(pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if PIDAlive(pid) {
		t.Fatalf("pid %d still alive", pid)
	}
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
