package devstack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// command is exec.CommandContext with name looked up on the configured PATH, the
// process's environment plus env, and SIGTERM (not SIGKILL) when ctx ends.
func (s *Stack) command(ctx context.Context, name string, env []string, args ...string) (*exec.Cmd, error) {
	bin, err := lookPath(name, s.cfg.Path)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// output runs name and returns its stdout with surrounding white space trimmed; on
// failure the error carries its stderr.
func (s *Stack) output(ctx context.Context, name string, env []string, args ...string) (string, error) {
	cmd, err := s.command(ctx, name, env, args...)
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// runLogged runs cmd with stdout and stderr written to logs/NAME.log; on failure it
// returns an error with the log's last 40 lines.
func (s *Stack) runLogged(cmd *exec.Cmd, name string) error {
	path := s.cfg.logFile(name)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed (log: %s): %w\n%s", name, path, err, tail(path, 40))
	}
	return nil
}

// pgOwnerCommand runs a PostgreSQL server command as the cluster's owner: the postgres
// user when we are root (initdb and postgres refuse root), else ourselves.
func (s *Stack) pgOwnerCommand(ctx context.Context, bin string, args ...string) (*exec.Cmd, error) {
	if s.cfg.AsRoot {
		return s.command(ctx, "runuser", nil, append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return s.command(ctx, bin, nil, args...)
}

// ensureAptPackage installs a Debian package (CI as root only), with a temporary
// policy-rc.d so its maintainer scripts start no system-wide service on the default port.
func (s *Stack) ensureAptPackage(ctx context.Context, pkg string) error {
	if !s.cfg.AsRoot {
		return fmt.Errorf("need %q but not root; install it (apt-get install %s)", pkg, pkg)
	}
	s.log.Printf("installing Debian package %s", pkg)
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); os.IsNotExist(err) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err == nil {
			defer os.Remove(policy)
		}
	}
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", pkg}} {
		cmd, err := s.command(ctx, "apt-get", []string{"DEBIAN_FRONTEND=noninteractive"}, args...)
		if err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}
