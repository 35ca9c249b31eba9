package faultsuite_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// redisServer is a redis-server of the test's own, with an append-only file fsynced on
// every write, so a stop and start loses nothing.
type redisServer struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
}

func startRedisServer(t *testing.T, bin string, port int, dir string) *redisServer {
	t.Helper()
	r := &redisServer{bin: bin, dir: dir, port: port}
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d", r.port) }

func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir, "--daemonize", "no")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	r.cmd.Stdout, r.cmd.Stderr = &out, &out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(r.cmd, r.exited)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		select {
		case <-r.exited:
			t.Fatalf("redis-server exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d not answering: %s", r.port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the server with SIGTERM (it syncs the append-only file and exits).
func (r *redisServer) stop(t *testing.T) {
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		t.Errorf("redis-server ignored SIGTERM")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// d. Redis is unreachable for about 5 s while callbacks are due: six tasks (four
// succeed, two fail) are running when the signatures' Redis is stopped; they end
// while it is down, so neither the fast path nor the on-failure step can record the
// outcome. The steps retry Redis errors (WithStepRetryTime, 45 s); once Redis is back,
// every callback runs exactly once.
func TestRedisOutage(t *testing.T) {
	enginetest.Skip(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	r := startRedisServer(t, bin, freePort(t), t.TempDir())
	s := newSuite(t, "d. Redis down ~5 s while callbacks are due", suiteOpt{redisURL: r.url()})
	ctx := enginetest.Context(t, 2*time.Minute)
	w := s.startWorker("w1", fs.ModeNormal)

	want := map[string]map[string]int{fs.TaskOnSuccess: {}, fs.TaskOnError: {}}
	var hs []dsl.Handle
	for i := range 6 {
		id := fmt.Sprintf("d%d", i)
		fail := i%3 == 2
		hs = append(hs, s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: id, SleepMS: 1000, Fail: fail}))
		for task, m := range map[bool]map[string]map[string]int{false: successOnly(id), true: errorOnly(id)}[fail] {
			for f, n := range m {
				want[task][f] = n
			}
		}
	}
	s.row.Runs = len(hs)
	s.waitCount(ctx, fs.TaskMain, len(hs)) // every task started: its signature is active
	r.stop(t)
	down := time.Now()
	time.Sleep(5 * time.Second)
	if n := sum(s.counts(ctx, fs.TaskOnSuccess)) + sum(s.counts(ctx, fs.TaskOnError)); n != 0 {
		t.Fatalf("%d callbacks ran while Redis was down", n)
	}
	r.start(t)
	t.Logf("Redis down for %v", time.Since(down).Round(time.Millisecond))
	for i, h := range hs {
		want := rest.V1TaskStatusCOMPLETED
		if i%3 == 2 {
			want = rest.V1TaskStatusFAILED
		}
		if st := s.finish(ctx, h); st != want {
			t.Errorf("run %d: engine status %s, want %s", i, st, want)
		}
	}
	t.Logf("Redis back → all callbacks settled: %v", time.Since(down.Add(5*time.Second)).Round(time.Millisecond))
	s.expect(ctx, want)
	for i := range hs {
		s.expectMain(ctx, fs.TaskMain, fmt.Sprintf("d%d", i), 1)
	}
	if log := w.stderr.String(); !strings.Contains(log, "hatchetflow: retrying") {
		t.Errorf("the worker never retried a Redis error: the outage missed the callbacks")
	}
	s.checkTTLs(ctx)
	s.row.Note = "4 success + 2 failure trees; steps retried through the outage"
}
