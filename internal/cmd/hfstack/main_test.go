package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hatchetflow/go/internal/devstack"
	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestMain(m *testing.M) {
	devstacktest.Main()
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeEnv is a fake repository (go.mod of hatchetflow, tools/hatchet with
// cmd/hfengine) and an environment that makes hfstack use only fakes: no probes, a
// DATABASE_URL, the fake redis-server, the fakes' folder as PATH (so the fake go).
func fakeEnv(t *testing.T) (map[string]string, string) {
	t.Helper()
	root, fakes := t.TempDir(), t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module github.com/hatchetflow/go\n\ngo 1.26.0\n")
	tools := filepath.Join(root, "tools", "hatchet")
	write(t, filepath.Join(tools, "go.mod"), "module x\n\nrequire github.com/hatchet-dev/hatchet v0.105.0\n")
	write(t, filepath.Join(tools, "go.sum"), "")
	write(t, filepath.Join(tools, "cmd", "hfengine", "main.go"), "package main\n")
	devstacktest.LinkAll(t, fakes)
	state := filepath.Join(root, ".state")
	env := map[string]string{
		"HATCHETFLOW_ROOT":             root,
		"HATCHETFLOW_BIN_CACHE":        filepath.Join(t.TempDir(), "cache"),
		"HATCHETFLOW_PG_PORT_PROBE":    "off",
		"HATCHETFLOW_REDIS_PORT_PROBE": "off",
		"HATCHETFLOW_REDIS_SERVER":     filepath.Join(fakes, "redis-server"),
		"HATCHETFLOW_GRPC_PORT":        freePort(t),
		"HATCHETFLOW_HTTP_PORT":        freePort(t),
		"HATCHETFLOW_REDIS_PORT":       freePort(t),
		"HATCHETFLOW_STOP_TIMEOUT":     "10",
		"DATABASE_URL":                 "postgresql://fake@127.0.0.1:1/hatchet?sslmode=disable",
		"PATH":                         fakes,
		"HOME":                         t.TempDir(),
	}
	t.Cleanup(func() {
		// Test clean-up of fakes a failed test left (the stack never sends SIGKILL).
		for _, p := range []struct{ file, word string }{
			{filepath.Join(state, "run", "engine.pid"), "hfengine"},
			{filepath.Join(state, "run", "redis.pid"), "redis-server"},
		} {
			if pid := devstack.ReadPIDFile(p.file); devstack.PIDMatches(pid, p.word) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return env, state
}

func runCmd(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestUsageAndExitStatus(t *testing.T) {
	env, _ := fakeEnv(t)
	for _, tc := range []struct {
		args       []string
		code       int
		stdout     string // substring
		stderrLike string // substring
	}{
		{[]string{"help"}, 0, "scripts/stack up [--record FILE]", ""},
		{[]string{"--help"}, 0, "scripts/stack down [--only FILE]", ""},
		{nil, 2, "", "scripts/stack up [--record FILE]"},
		{[]string{"restart"}, 2, "", "scripts/stack status"},
		{[]string{"up", "--only", "x"}, 1, "", "ERROR: up: unknown argument --only"},
		{[]string{"down", "--record", "x"}, 1, "", "ERROR: down: unknown argument --record"},
		{[]string{"down", "--only"}, 1, "", "ERROR: down: unknown argument --only"},
		{[]string{"env"}, 1, "", "run scripts/stack up first"},
		{[]string{"status", "extra"}, 0, "hfengine: not running", ""}, // ignored, as scripts/stack did
	} {
		code, stdout, stderr := runCmd(env, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderrLike) {
			t.Errorf("hfstack %q: exit %d, stdout %q, stderr %q; want exit %d", tc.args, code, stdout, stderr, tc.code)
		}
	}
	env["HATCHETFLOW_GRPC_PORT"] = "seventy"
	if code, _, stderr := runCmd(env, "status"); code != 1 || !strings.Contains(stderr, "HATCHETFLOW_GRPC_PORT") {
		t.Errorf("malformed knob: exit %d, %q", code, stderr)
	}
}

func TestUpEnvStatusDown(t *testing.T) {
	env, state := fakeEnv(t)
	record := filepath.Join(t.TempDir(), "started")
	code, _, stderr := runCmd(env, "up", "--record", record)
	if code != 0 {
		t.Fatalf("up: exit %d\n%s", code, stderr)
	}
	// Progress lines as the script printed them.
	for _, re := range []string{
		`(?m)^\[stack +\d+\.\ds\] go build hfengine .* \.\.\.$`,
		`(?m)^\[stack +\d+\.\ds\] go build hfengine .* done in \d+\.\ds$`,
		`(?m)^\[stack +\d+\.\ds\] postgres: DATABASE_URL from the environment$`,
		`(?m)^\[stack +\d+\.\ds\] wait for hfengine gRPC 127\.0\.0\.1:\d+ and REST 127\.0\.0\.1:\d+ done in \d+\.\ds$`,
		`(?m)^\[stack +\d+\.\ds\] up: ready in \d+\.\ds; env in ` + regexp.QuoteMeta(filepath.Join(state, "env")) + `$`,
	} {
		if !regexp.MustCompile(re).MatchString(stderr) {
			t.Errorf("progress lacks %s:\n%s", re, stderr)
		}
	}
	b, _ := os.ReadFile(record)
	if string(b) != "redis\nengine\n" {
		t.Errorf("--record file %q", b)
	}
	code, stdout, _ := runCmd(env, "env")
	want, _ := os.ReadFile(filepath.Join(state, "env"))
	if code != 0 || stdout != string(want) || !strings.Contains(stdout, "export HATCHET_CLIENT_HOST_PORT=127.0.0.1:"+env["HATCHETFLOW_GRPC_PORT"]+"\n") {
		t.Errorf("env: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(env, "status")
	if code != 0 || !strings.Contains(stdout, "hfengine: running (pid ") || !strings.Contains(stdout, "own redis: running on 127.0.0.1:"+env["HATCHETFLOW_REDIS_PORT"]) {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	enginePID := devstack.ReadPIDFile(filepath.Join(state, "run", "engine.pid"))
	code, _, stderr = runCmd(env, "down", "--only", record)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("stop hfengine (pid %d, SIGTERM, graceful) done in", enginePID)) {
		t.Errorf("down: exit %d\n%s", code, stderr)
	}
	if devstack.PIDAlive(enginePID) {
		t.Error("engine alive after down")
	}
	code, stdout, _ = runCmd(env, "status")
	if code != 0 || !strings.Contains(stdout, "hfengine: not running") || !strings.Contains(stdout, "own redis: not running") {
		t.Errorf("status after down: exit %d\n%s", code, stdout)
	}
}

func TestBuildSubcommand(t *testing.T) {
	env, state := fakeEnv(t)
	for _, sub := range []string{"build", "engine"} { // `make engine` ran `scripts/stack build`; engine was an alias
		code, _, stderr := runCmd(env, sub)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", sub, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "bin", "hfengine")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "run")); err == nil {
		t.Error("build started something (run/ exists)")
	}
	if n := len(devstacktest.Calls(filepath.Dir(env["HATCHETFLOW_REDIS_SERVER"]), "go")); n != 1 {
		t.Errorf("go build ran %d times for build then engine, want 1", n)
	}
}

func TestDownWithoutUp(t *testing.T) {
	env, _ := fakeEnv(t)
	code, _, stderr := runCmd(env, "down")
	if code != 0 || !strings.Contains(stderr, "down: nothing to stop") {
		t.Errorf("down: exit %d\n%s", code, stderr)
	}
}

func TestFindRoot(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module github.com/hatchetflow/go\n")
	write(t, filepath.Join(root, "tools", "hatchet", "go.mod"), "module github.com/hatchetflow/go/tools/hatchet\n")
	t.Chdir(filepath.Join(root, "tools", "hatchet"))
	got, err := findRoot(func(string) string { return "" })
	if err != nil || got != root {
		t.Errorf("findRoot from tools/hatchet = %q, %v; want %q", got, err, root)
	}
	got, err = findRoot(func(k string) string { return map[string]string{"HATCHETFLOW_ROOT": "/x/y"}[k] })
	if err != nil || got != "/x/y" {
		t.Errorf("HATCHETFLOW_ROOT: %q %v", got, err)
	}
	t.Chdir(t.TempDir())
	if _, err := findRoot(func(string) string { return "" }); err == nil {
		t.Error("no root found but no error")
	}
}
