package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return lines(string(b))
}

func TestUpThenDownWithFakes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	record := filepath.Join(t.TempDir(), "started")
	if err := f.stack().Up(ctx, record); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	// --record lists what this call started: redis and the engine (DATABASE_URL was given).
	if got := readLines(t, record); strings.Join(got, ",") != "redis,engine" {
		t.Errorf("--record file = %q, want redis, engine", got)
	}
	run := filepath.Join(f.state, "run")
	grpc, _ := strconv.Atoi(readTrim(filepath.Join(run, "engine.port")))
	http, _ := strconv.Atoi(readTrim(filepath.Join(run, "engine.http")))
	redisPort, _ := strconv.Atoi(readTrim(filepath.Join(run, "redis.port")))
	if grpc != f.cfg.GRPCPort || http != f.cfg.HTTPPort || redisPort != f.cfg.RedisPort {
		t.Errorf("ports gRPC %d REST %d redis %d, want the free preferred ones %d %d %d",
			grpc, http, redisPort, f.cfg.GRPCPort, f.cfg.HTTPPort, f.cfg.RedisPort)
	}
	if !PortOpen(ctx, grpc) || !PortOpen(ctx, http) || !RedisPing(ctx, redisPort) {
		t.Fatal("engine ports or redis not answering after up")
	}
	if got := readTrim(filepath.Join(run, "engine.db")); got != f.cfg.DatabaseURL {
		t.Errorf("run/engine.db = %q", got)
	}
	if got := readTrim(filepath.Join(run, "engine.mq")); got != "postgres" {
		t.Errorf("run/engine.mq = %q", got)
	}

	// .state/env: the SDK's lines, the same as scripts/stack wrote.
	env := readLines(t, filepath.Join(f.state, "env"))
	want := []string{
		"export HATCHET_CLIENT_TOKEN='fake.jwt.token'",
		"export HATCHET_CLIENT_TLS_STRATEGY=none",
		fmt.Sprintf("export HATCHET_CLIENT_HOST_PORT=127.0.0.1:%d", grpc),
		fmt.Sprintf("export HATCHET_CLIENT_SERVER_URL=http://127.0.0.1:%d", http),
		"export HATCHET_CLIENT_LOG_LEVEL=warn",
		"export HATCHETFLOW_ENGINE_MQ=postgres",
		fmt.Sprintf("export REDIS_URL='redis://127.0.0.1:%d'", redisPort),
	}
	if len(env) != len(want)+1 || !strings.HasPrefix(env[0], "# written by scripts/stack up at ") ||
		!strings.Contains(env[0], "postgres: DATABASE_URL from the environment; redis: own redis-server on") {
		t.Fatalf(".state/env =\n%s", strings.Join(env, "\n"))
	}
	for i, w := range want {
		if env[i+1] != w {
			t.Errorf(".state/env line %d = %q, want %q", i+2, env[i+1], w)
		}
	}
	sources := readLines(t, filepath.Join(run, "sources"))
	if len(sources) != 2 || sources[0] != "postgres=DATABASE_URL from the environment" || !strings.HasPrefix(sources[1], "redis=own redis-server on 127.0.0.1:") {
		t.Errorf("run/sources = %q", sources)
	}

	// The engine ran with exactly engine_env's lines (plus the caller's environment).
	served := readLines(t, filepath.Join(f.state, "fake-serve-env"))
	have := map[string]bool{}
	for _, l := range served {
		have[l] = true
	}
	for _, l := range EngineEnv(f.cfg.DatabaseURL, 30, "postgres", "", grpc, http) {
		if !have[l] {
			t.Errorf("engine environment lacks %q", l)
		}
	}
	for _, l := range served {
		if strings.HasPrefix(l, "SERVER_MSGQUEUE_RABBITMQ_URL=") {
			t.Errorf("postgres queue but %s", l)
		}
	}
	// One process: prepare ran once, serve with --state; the build went to .state/bin.
	if got := readLines(t, filepath.Join(f.state, "fake-prepare.calls")); len(got) != 1 ||
		got[0] != fmt.Sprintf("%s http://127.0.0.1:%d", f.cfg.DatabaseURL, http) {
		t.Errorf("prepare calls = %q", got)
	}
	enginePID := ReadPIDFile(filepath.Join(run, "engine.pid"))
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", enginePID))
	if got := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"); len(got) != 4 ||
		got[0] != filepath.Join(f.state, "bin", "hfengine") || got[1] != "serve" || got[2] != "--state" || got[3] != f.state {
		t.Errorf("engine command line = %q", got)
	}
	redisPID := ReadPIDFile(filepath.Join(run, "redis.pid"))

	var status strings.Builder
	if err := f.stack().Status(ctx, &status); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		fmt.Sprintf("hfengine: running (pid %d), gRPC 127.0.0.1:%d, REST 127.0.0.1:%d, queue postgres", enginePID, grpc, http),
		fmt.Sprintf("own redis: running on 127.0.0.1:%d", redisPort),
		"own postgres: not running",
		"binary hfengine: ok (v0.105.0-go1.26.10-",
	} {
		if !strings.Contains(status.String(), w) {
			t.Errorf("status lacks %q:\n%s", w, status.String())
		}
	}

	// A second up reuses everything and records nothing; down --only of its (empty)
	// record stops nothing.
	record2 := filepath.Join(t.TempDir(), "started2")
	if err := f.stack().Up(ctx, record2); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if got := readLines(t, record2); len(got) != 0 {
		t.Errorf("second up recorded %q, want nothing", got)
	}
	if !strings.Contains(f.out.String(), "hfengine already running") {
		t.Errorf("second up did not say it reused the engine:\n%s", f.out)
	}
	if got := readLines(t, filepath.Join(f.state, "fake-prepare.calls")); len(got) != 1 {
		t.Errorf("second up ran prepare again: %q", got)
	}
	if err := f.stack().Down(ctx, record2); err != nil {
		t.Fatal(err)
	}
	if !PIDMatches(enginePID, "hfengine") || !PIDMatches(redisPID, "redis-server") {
		t.Fatal("down --only with an empty list stopped something")
	}

	// down --only with the first record stops both, gracefully.
	if err := f.stack().Down(ctx, record); err != nil {
		t.Fatalf("down: %v\n%s", err, f.out)
	}
	waitGone(t, enginePID)
	waitGone(t, redisPID)
	for _, name := range []string{"engine.pid", "redis.pid", "redis.port"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			t.Errorf("run/%s left after down", name)
		}
	}
	if log := readTrim(filepath.Join(f.state, "logs", "engine.log")); !strings.Contains(log, "fake engine: SIGTERM, stopping") ||
		!strings.Contains(log, "start (postgres queue)") {
		t.Errorf("engine log:\n%s", log)
	}
}

func TestDownOnlyStopsListedComponents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	run := filepath.Join(f.state, "run")
	enginePID, redisPID := ReadPIDFile(filepath.Join(run, "engine.pid")), ReadPIDFile(filepath.Join(run, "redis.pid"))
	only := filepath.Join(t.TempDir(), "only")
	writeTestFile(t, only, "redis\n")
	if err := f.stack().Down(ctx, only); err != nil {
		t.Fatal(err)
	}
	waitGone(t, redisPID)
	if !PIDMatches(enginePID, "hfengine") {
		t.Fatal("down --only (redis) stopped the engine")
	}
	// Plain down stops the rest.
	if err := f.stack().Down(ctx, ""); err != nil {
		t.Fatal(err)
	}
	waitGone(t, enginePID)
}

func TestUpFailsFastWhenEngineExits(t *testing.T) {
	f := newFixture(t)
	f.cfg.StartTimeout = 30 * time.Second
	f.engineMode(t, "crash")
	start := time.Now()
	err := f.stack().Up(context.Background(), "")
	if err == nil {
		t.Fatal("up succeeded with an engine that exits at start")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("up took %s to notice; it should fail fast, not wait for the 30 s timeout", d)
	}
	if !strings.Contains(err.Error(), "exited during start-up") || !strings.Contains(err.Error(), "cannot connect to the database") {
		t.Errorf("error lacks the reason and the log tail: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.state, "env")); err == nil {
		t.Error("up wrote .state/env although the engine did not start")
	}
}

func TestUpFailsWhenPrepareFails(t *testing.T) {
	f := newFixture(t)
	f.engineMode(t, "prepare-fail")
	err := f.stack().Up(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "migration 42 failed") {
		t.Fatalf("up error = %v, want the prepare log's tail", err)
	}
	if ReadPIDFile(filepath.Join(f.state, "run", "engine.pid")) != 0 {
		t.Error("engine started although prepare failed")
	}
}

func TestDownWarnsWhenEngineIgnoresSIGTERM(t *testing.T) {
	f := newFixture(t)
	f.engineMode(t, "ignore-term")
	ctx := context.Background()
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	pid := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid"))
	f.cfg.StopTimeout = 500 * time.Millisecond
	err := f.stack().Down(ctx, "")
	if err == nil {
		t.Fatal("down returned nil although the engine did not stop")
	}
	if !strings.Contains(f.out.String(), fmt.Sprintf("WARNING: hfengine (pid %d) still running", pid)) {
		t.Errorf("no warning:\n%s", f.out)
	}
	// The redis-server was still stopped, and the engine was left alone (never SIGKILL).
	if _, ok := f.cfg.ownRedisRunning(); ok {
		t.Error("redis-server not stopped after the engine's stop failed")
	}
	time.Sleep(300 * time.Millisecond)
	if !PIDMatches(pid, "hfengine") {
		t.Fatal("the engine was killed")
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // test clean-up
}

func TestPIDReuseGuardSparesForeignProcess(t *testing.T) {
	f := newFixture(t)
	// run/ names live processes that are not ours (reused pids): down must not signal them.
	p, _ := startFakeEngine(t, "ok") // a live process whose command line is not redis-server
	sleeper := mustStart(t, "sleep", "30")
	writeTestFile(t, filepath.Join(f.state, "run", "engine.pid"), strconv.Itoa(sleeper)+"\n")
	writeTestFile(t, filepath.Join(f.state, "run", "redis.pid"), strconv.Itoa(p.PID)+"\n")
	if err := f.stack().Down(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if !PIDAlive(sleeper) || p.Exited() {
		t.Fatal("down signalled a process its pid file named but which is not ours")
	}
	// And up does not take the foreign pid for a running engine.
	if err := f.stack().Up(context.Background(), ""); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	if pid := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid")); pid == sleeper || !PIDMatches(pid, "hfengine") {
		t.Errorf("engine.pid = %d after up, want a new hfengine", pid)
	}
	if !PIDAlive(sleeper) {
		t.Error("up signalled the foreign process")
	}
	if err := f.stack().Down(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}

func mustStart(t *testing.T, name string, args ...string) int {
	t.Helper()
	bin, err := lookPath(name, os.Getenv("PATH"))
	if err != nil {
		t.Skip(err)
	}
	p, err := StartDetached(context.Background(), bin, args, os.Environ(), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p.PID, syscall.SIGKILL) })
	return p.PID
}

func TestEngineRestartedOnOtherDatabase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	first := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid"))
	f.cfg.DatabaseURL = "postgresql://fake@127.0.0.1:1/other?sslmode=disable"
	record := filepath.Join(t.TempDir(), "rec")
	if err := f.stack().Up(ctx, record); err != nil {
		t.Fatalf("second up: %v\n%s", err, f.out)
	}
	waitGone(t, first)
	second := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid"))
	if second == first || !PIDMatches(second, "hfengine") {
		t.Fatalf("engine not restarted: pid %d then %d", first, second)
	}
	if got := readLines(t, record); strings.Join(got, ",") != "engine" {
		t.Errorf("record = %q, want engine", got)
	}
	if got := readTrim(filepath.Join(f.state, "run", "engine.db")); got != f.cfg.DatabaseURL {
		t.Errorf("engine.db = %q", got)
	}
	if err := f.stack().Down(ctx, ""); err != nil {
		t.Fatal(err)
	}
}

func TestLockSerialisesUps(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	holder := &syncBuffer{}
	unlock, err := Lock(ctx, f.state, time.Minute, NewLogger(holder))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.stack().Up(ctx, "") }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.out.String(), "holds") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if !strings.Contains(f.out.String(), "another scripts/stack up/down holds "+filepath.Join(f.state, "stack.lock")+"; waiting") {
		t.Fatalf("up did not wait for the lock:\n%s", f.out)
	}
	select {
	case err := <-done:
		t.Fatalf("up finished (%v) while the lock was held", err)
	default:
	}
	if _, err := os.Stat(filepath.Join(f.state, "bin", "hfengine")); err == nil {
		t.Fatal("up built the engine while another holder had the lock")
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up after the lock was released: %v\n%s", err, f.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("up did not finish after the lock was released")
	}
	if err := f.stack().Down(ctx, ""); err != nil {
		t.Fatal(err)
	}
}

func TestLockTimesOut(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir, time.Second, NewLogger(&syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = Lock(context.Background(), dir, 300*time.Millisecond, NewLogger(&syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("second Lock = %v, want a time-out", err)
	}
}

func TestRedisOptionalWithoutRedisServer(t *testing.T) {
	f := newFixture(t)
	f.cfg.RedisServer = ""
	f.cfg.RedisOptional = true
	f.cfg.Path = t.TempDir() // no redis-server on it
	f.cfg.GoCmd = filepath.Join(f.fakes, "go")
	ctx := context.Background()
	record := filepath.Join(t.TempDir(), "rec")
	if err := f.stack().Up(ctx, record); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	env := readTrim(filepath.Join(f.state, "env"))
	if strings.Contains(env, "REDIS_URL") || !strings.Contains(env, "redis: none (HATCHETFLOW_REDIS_OPTIONAL=1") {
		t.Errorf(".state/env with optional, absent Redis:\n%s", env)
	}
	if got := readLines(t, record); strings.Join(got, ",") != "engine" {
		t.Errorf("record = %q", got)
	}
	_ = f.stack().Down(ctx, "")

	// Not optional: a missing redis-server is an error (outside CI).
	g := newFixture(t)
	g.cfg.RedisServer = ""
	g.cfg.Path = t.TempDir()
	g.cfg.GoCmd = filepath.Join(g.fakes, "go")
	if err := g.stack().Up(ctx, ""); err == nil || !strings.Contains(err.Error(), "no Redis found") {
		t.Fatalf("up without Redis = %v", err)
	}
}

func TestSharedRedisAndRedisURL(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A "shared" server: a fake redis-server that this test started, on the probe port.
	port := freePort(t)
	mustStartFake(t, filepath.Join(f.fakes, "redis-server"), "--port", strconv.Itoa(port))
	for i := 0; i < 100 && !RedisPing(ctx, port); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	f.cfg.RedisProbePort = port
	s := f.stack()
	if err := s.ensureRedis(ctx); err != nil {
		t.Fatal(err)
	}
	if s.redisURL != fmt.Sprintf("redis://127.0.0.1:%d", port) || s.redisSource != fmt.Sprintf("shared 127.0.0.1:%d", port) {
		t.Errorf("shared redis: %q %q", s.redisURL, s.redisSource)
	}
	if _, err := os.Stat(filepath.Join(f.state, "run", "redis.pid")); err == nil {
		t.Error("started an own redis-server although a shared one answers")
	}

	f.cfg.RedisURL = "redis://elsewhere:1"
	s = f.stack()
	if err := s.ensureRedis(ctx); err != nil || s.redisURL != "redis://elsewhere:1" {
		t.Errorf("REDIS_URL: %q, %v", s.redisURL, err)
	}
}

// mustStartFake starts a fake in the foreground (no daemonizing) and kills it at the end.
func mustStartFake(t *testing.T, bin string, args ...string) int {
	t.Helper()
	p, err := StartDetached(context.Background(), bin, args, os.Environ(), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(p.PID, syscall.SIGKILL) })
	return p.PID
}
