package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	errExited  = errors.New("process exited")
	errTimeout = errors.New("timed out")
)

// Proc is a process started detached by [StartDetached].
type Proc struct {
	// PID is the process id.
	PID  int
	done chan struct{}
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return !PIDAlive(p.PID)
	}
}

// StartDetached starts bin with args and env in a session of its own (so a terminal's
// signals do not reach it), stdin from /dev/null, stdout and stderr appended to
// logPath. It outlives the caller and ctx (which is only checked before the start);
// while the caller runs, a goroutine reaps it when it exits.
func StartDetached(ctx context.Context, bin string, args, env []string, logPath string) (*Proc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf // *os.File: handed over as is, no copying goroutine
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &Proc{PID: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PIDAlive reports whether process pid exists and is not a zombie.
func PIDAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true // no /proc: trust kill -0
	}
	// pid (comm) STATE ...: comm may hold spaces and parentheses, STATE follows the last ')'.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// PIDMatches reports whether process pid is alive and its command line contains word:
// the guard against a pid file whose process is gone and whose pid was reused.
func PIDMatches(pid int, word string) bool {
	if !PIDAlive(pid) {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	return strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), word)
}

// ReadPIDFile is the pid in the first line of the file at path, 0 if none.
func ReadPIDFile(path string) int {
	first, _, _ := strings.Cut(readTrim(path), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// StopPID sends SIGTERM to pid and waits until it has exited, at most timeout. It
// never sends SIGKILL: a process still running after timeout is left alone, with a
// warning, and the result is an error.
func StopPID(ctx context.Context, pid int, name string, timeout time.Duration, log *Logger) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("SIGTERM %s (pid %d): %w", name, pid, err)
	}
	deadline := time.Now().Add(timeout)
	for PIDAlive(pid) {
		if time.Now().After(deadline) {
			log.Printf("WARNING: %s (pid %d) still running %s after SIGTERM; left alone (no kill -9)", name, pid, timeout)
			return fmt.Errorf("%s (pid %d) did not stop within %s", name, pid, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopping %s: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// lookPath finds an executable named name on path (a PATH value); a name with a slash
// is checked as it is.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: not an executable file", name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found on PATH", name)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
