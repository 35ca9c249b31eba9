// Package devstacktest holds fake binaries for the tests of package devstack and of
// command hfstack: the test executable itself, linked under a fake's name (hfengine,
// go, redis-server, initdb, pg_ctl, postgres, psql, pg_isready, rabbitmqctl) and
// dispatched on that name by [Main] in the test's TestMain. The fakes keep their state
// in files beside their link, so a test can read what they were asked to do.
//
// A fake hfengine behaves as the file fake-engine-mode in its --state folder says:
// empty or "ok" serves both ports until SIGTERM; "crash" exits at start with a message;
// "ignore-term" serves and ignores SIGTERM; "prepare-fail" fails `prepare`. Every
// long-lived fake exits by itself after two minutes, so a failed test leaves nothing.
//
// A fake writes to its standard output what the real program prints there (psql's
// answer, hfengine's version, a server's start line), since the launcher reads it.
package devstacktest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lifetime bounds every long-lived fake.
const lifetime = 2 * time.Minute

// Main runs the fake named by the executable's base name and exits; for any other name
// (the test binary's own) it returns. Call it first in TestMain.
func Main() {
	name := filepath.Base(os.Args[0])
	fakes := map[string]func(args []string) int{
		"hfengine":     engine,
		"go":           goCmd,
		"redis-server": redisServer,
		"initdb":       initdb,
		"pg_ctl":       pgCtl,
		"postgres":     postgres,
		"psql":         psql,
		"pg_isready":   pgIsready,
		"rabbitmqctl":  rabbitmqctl,
	}
	if f, ok := fakes[name]; ok {
		os.Exit(f(os.Args[1:]))
	}
}

// Link makes dir/name a symbolic link to the running test executable, which runs as the
// fake of that name, and returns its path.
func Link(t testing.TB, dir, name string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.Symlink(exe, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// LinkAll links every fake into dir.
func LinkAll(t testing.TB, dir string) {
	t.Helper()
	for _, name := range []string{"go", "redis-server", "initdb", "pg_ctl", "postgres", "psql", "pg_isready", "rabbitmqctl"} {
		Link(t, dir, name)
	}
}

// Calls returns the lines the fake of that name logged in dir (one per call, its
// arguments or what it did).
func Calls(dir, name string) []string {
	b, err := os.ReadFile(filepath.Join(dir, name+".calls"))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// self is the folder of the fake's link.
func self() string { return filepath.Dir(os.Args[0]) }

func logCall(line string) {
	name := filepath.Base(os.Args[0])
	f, err := os.OpenFile(filepath.Join(self(), name+".calls"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// flag is the value after name in args ("" if absent).
func flag(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	return 1
}

// engine is the fake hfengine.
func engine(args []string) int {
	if len(args) == 0 {
		return fail("usage: hfengine prepare|serve|version")
	}
	state := flag(args, "--state")
	mode := ""
	if state != "" {
		b, _ := os.ReadFile(filepath.Join(state, "fake-engine-mode"))
		mode = strings.TrimSpace(string(b))
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(os.Stdout, "hfengine fake")
		return 0
	case "prepare":
		if state == "" {
			return fail("prepare: --state missing")
		}
		fmt.Fprintln(os.Stdout, "fake prepare: migrating", os.Getenv("DATABASE_URL"))
		if mode == "prepare-fail" {
			return fail("fake prepare: migration 42 failed")
		}
		f, err := os.OpenFile(filepath.Join(state, "fake-prepare.calls"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%s %s\n", os.Getenv("DATABASE_URL"), os.Getenv("SERVER_URL"))
			_ = f.Close()
		}
		if err := os.WriteFile(filepath.Join(state, "token"), []byte("fake.jwt.token\n"), 0o600); err != nil {
			return fail("prepare: %v", err)
		}
		return 0
	case "serve":
		if state == "" {
			return fail("serve: --state missing")
		}
		_ = os.WriteFile(filepath.Join(state, "fake-serve-env"), []byte(strings.Join(os.Environ(), "\n")+"\n"), 0o644)
		if mode == "crash" {
			return fail("fake engine: cannot connect to the database")
		}
		// Before the ports open: tests signal once they do.
		var term chan os.Signal
		if mode == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		} else {
			term = notifyTerm()
		}
		for _, env := range []string{"SERVER_GRPC_PORT", "SERVER_PORT"} {
			l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv(env))
			if err != nil {
				return fail("fake engine: %s: %v", env, err)
			}
			go accept(l, nil)
		}
		fmt.Fprintln(os.Stdout, "fake engine: serving")
		if mode == "ignore-term" {
			time.Sleep(lifetime)
			return 9
		}
		return waitTerm(term, "fake engine")
	}
	return fail("hfengine: unknown subcommand %s", args[0])
}

// notifyTerm starts catching SIGTERM, for waitTerm.
func notifyTerm() chan os.Signal {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	return term
}

// waitTerm waits for SIGTERM (exit 0) or the fake's lifetime (exit 9).
func waitTerm(term chan os.Signal, who string) int {
	select {
	case <-term:
		fmt.Fprintln(os.Stdout, who+": SIGTERM, stopping")
		return 0
	case <-time.After(lifetime):
		return 9
	}
}

// accept accepts connections on l; each is passed to serve, or closed.
func accept(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if serve == nil {
			_ = c.Close()
			continue
		}
		go serve(c)
	}
}

// goCmd is the fake go: `env GOVERSION` prints $FAKE_GOVERSION (default go1.26.10);
// `build ... -o OUT ./cmd/hfengine` copies the test executable to OUT, logging the call,
// or fails if the file go.fail is beside the link.
func goCmd(args []string) int {
	if len(args) == 2 && args[0] == "env" && args[1] == "GOVERSION" {
		v := os.Getenv("FAKE_GOVERSION")
		if v == "" {
			v = "go1.26.10"
		}
		fmt.Fprintln(os.Stdout, v)
		return 0
	}
	if len(args) > 0 && args[0] == "build" {
		wd, _ := os.Getwd()
		logCall(fmt.Sprintf("build in %s: %s", wd, strings.Join(args[1:], " ")))
		if _, err := os.Stat(filepath.Join(self(), "go.fail")); err == nil {
			return fail("fake go: build failed")
		}
		pkg := args[len(args)-1]
		if _, err := os.Stat(filepath.Join(wd, pkg)); err != nil {
			return fail("fake go: no package %s in %s", pkg, wd)
		}
		out := flag(args, "-o")
		if out == "" {
			return fail("fake go: -o missing")
		}
		exe, err := os.Executable()
		if err != nil {
			return fail("fake go: %v", err)
		}
		if err := copyFile(exe, out); err != nil {
			return fail("fake go: %v", err)
		}
		return 0
	}
	return fail("fake go: unsupported: %s", strings.Join(args, " "))
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// detach starts the fake again, in its own session, with args.
func detach(args []string) error {
	cmd := exec.Command(os.Args[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd.Start()
}

// redisServer is the fake redis-server: with --daemonize yes it starts itself again
// detached and returns; otherwise it writes --pidfile, answers PING with +PONG on
// --port and exits on SIGTERM, removing its pid file.
func redisServer(args []string) int {
	logCall(strings.Join(args, " "))
	if flag(args, "--daemonize") == "yes" {
		next := append([]string(nil), args...)
		for i := range next {
			if next[i] == "--daemonize" {
				next[i+1] = "no"
			}
		}
		if err := detach(next); err != nil {
			return fail("fake redis-server: %v", err)
		}
		return 0
	}
	term := notifyTerm()
	l, err := net.Listen("tcp", "127.0.0.1:"+flag(args, "--port"))
	if err != nil {
		return fail("fake redis-server: %v", err)
	}
	go accept(l, func(c net.Conn) {
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.EqualFold(strings.TrimSpace(line), "PING") {
				_, _ = c.Write([]byte("+PONG\r\n"))
			}
		}
	})
	pidfile := flag(args, "--pidfile")
	if pidfile != "" {
		if err := os.WriteFile(pidfile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			return fail("fake redis-server: %v", err)
		}
		defer os.Remove(pidfile)
	}
	return waitTerm(term, "fake redis-server")
}

// initdb is the fake initdb: -D DATA gets PG_VERSION and an empty postgresql.conf.
func initdb(args []string) int {
	logCall(strings.Join(args, " "))
	data := flag(args, "-D")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fail("fake initdb: %v", err)
	}
	if err := os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("16\n"), 0o600); err != nil {
		return fail("fake initdb: %v", err)
	}
	if err := os.WriteFile(filepath.Join(data, "postgresql.conf"), nil, 0o600); err != nil {
		return fail("fake initdb: %v", err)
	}
	return 0
}

// pgCtl is the fake pg_ctl: `start` runs the fake postgres (beside it) detached with
// -D DATA and the -o options and waits for its postmaster.pid; `stop` SIGTERMs the pid
// in postmaster.pid and waits for it to go.
func pgCtl(args []string) int {
	logCall(strings.Join(args, " "))
	data := flag(args, "-D")
	pidFile := filepath.Join(data, "postmaster.pid")
	switch args[len(args)-1] {
	case "start":
		opts := strings.Fields(flag(args, "-o"))
		cmd := exec.Command(filepath.Join(self(), "postgres"), append([]string{"-D", data}, opts...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return fail("fake pg_ctl: %v", err)
		}
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(pidFile); err == nil {
				return 0
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fail("fake pg_ctl: server did not start")
	case "stop":
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return fail("fake pg_ctl: no server running")
		}
		var pid int
		fmt.Sscan(string(b), &pid)
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fail("fake pg_ctl: %v", err)
		}
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(pidFile); err != nil {
				return 0
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fail("fake pg_ctl: server did not stop")
	}
	return fail("fake pg_ctl: unsupported: %s", strings.Join(args, " "))
}

// postgres is the fake postmaster: listens on -p, writes DATA/postmaster.pid (pid on
// line 1, port on line 4), removes it on SIGTERM.
func postgres(args []string) int {
	data, port := flag(args, "-D"), flag(args, "-p")
	term := notifyTerm()
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return fail("fake postgres: %v", err)
	}
	go accept(l, nil)
	pidFile := filepath.Join(data, "postmaster.pid")
	content := fmt.Sprintf("%d\n%s\n%d\n%s\n", os.Getpid(), data, time.Now().Unix(), port)
	if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
		return fail("fake postgres: %v", err)
	}
	defer os.Remove(pidFile)
	return waitTerm(term, "fake postgres")
}

// psql is the fake psql: it logs `-U USER -c SQL`; databases are files db-NAME beside
// it. A login as a user listed in the file psql.deny fails.
func psql(args []string) int {
	user, sql := flag(args, "-U"), flag(args, "-c")
	if sql == "" {
		sql = flag(args, "-XAtqc")
	}
	logCall(user + ": " + sql)
	if deny, err := os.ReadFile(filepath.Join(self(), "psql.deny")); err == nil {
		for _, u := range strings.Fields(string(deny)) {
			if u == user {
				return fail("psql: FATAL: role %q does not exist", user)
			}
		}
	}
	db := func(q, prefix string) string {
		return filepath.Join(self(), "db-"+strings.Trim(strings.TrimSpace(strings.TrimPrefix(q, prefix)), `"'`))
	}
	switch {
	case sql == "select 1":
		fmt.Fprintln(os.Stdout, "1")
	case strings.HasPrefix(sql, "select 1 from pg_database where datname = "):
		if _, err := os.Stat(db(sql, "select 1 from pg_database where datname = ")); err == nil {
			fmt.Fprintln(os.Stdout, "1")
		}
	case strings.HasPrefix(sql, "create database "):
		_ = os.WriteFile(db(sql, "create database "), nil, 0o644)
	case strings.HasPrefix(sql, "drop database if exists "):
		name, _, _ := strings.Cut(strings.TrimPrefix(sql, "drop database if exists "), " ")
		_ = os.Remove(db(name, ""))
	}
	return 0
}

// pgIsready is the fake pg_isready: ready (0) if the file pg_isready.ok is beside it,
// else no response (2).
func pgIsready(args []string) int {
	logCall(strings.Join(args, " "))
	if _, err := os.Stat(filepath.Join(self(), "pg_isready.ok")); err == nil {
		return 0
	}
	return 2
}

// rabbitmqctl is the fake rabbitmqctl: it logs its arguments and succeeds.
func rabbitmqctl(args []string) int {
	logCall(strings.Join(args, " "))
	return 0
}
