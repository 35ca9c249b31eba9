package devstack

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// Logger prints the stack's progress lines, `[stack   1.2s] message`, the seconds counted
// from its start.
type Logger struct {
	mu sync.Mutex
	w  io.Writer
	t0 time.Time
}

// NewLogger returns a Logger writing to w (stderr in the command), counting from now.
func NewLogger(w io.Writer) *Logger {
	return &Logger{w: w, t0: time.Now()}
}

// Elapsed is the time since the Logger was made.
func (l *Logger) Elapsed() time.Duration { return time.Since(l.t0) }

// Printf prints one progress line.
func (l *Logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "[stack %6.1fs] %s\n", l.Elapsed().Seconds(), fmt.Sprintf(format, args...))
}

// Step prints `name ...`, runs fn, then `name done in Xs` or `name FAILED ...`, and
// returns fn's error.
func (l *Logger) Step(name string, fn func() error) error {
	t := time.Now()
	l.Printf("%s ...", name)
	err := fn()
	secs := time.Since(t).Seconds()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			l.Printf("%s FAILED (exit %d) after %.1fs", name, exit.ExitCode(), secs)
		} else {
			l.Printf("%s FAILED after %.1fs", name, secs)
		}
		return err
	}
	l.Printf("%s done in %.1fs", name, secs)
	return nil
}
