package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Stack runs the subcommands on one state directory.
type Stack struct {
	cfg    Config
	log    *Logger
	stderr io.Writer
	record string // --record FILE

	// What `up` found or started.
	databaseURL, pgSource string
	pgBin                 string
	pgPort                int
	redisURL, redisSource string
	rabbitURL             string
	grpcPort, httpPort    int
}

// New returns a Stack for cfg that logs progress to log and lets the commands it runs
// (go build, pg_ctl, apt-get) write their errors to stderr.
func New(cfg Config, log *Logger, stderr io.Writer) *Stack {
	return &Stack{cfg: cfg, log: log, stderr: stderr}
}

// recordStarted appends component to the --record file: this call started it.
func (s *Stack) recordStarted(component string) {
	if s.record == "" {
		return
	}
	if err := appendLine(s.record, component); err != nil {
		s.log.Printf("WARNING: --record: %v", err)
	}
}

// Up builds or fetches hfengine, checks the queue, picks or starts PostgreSQL and Redis,
// (re)starts the engine unless the running one fits, and writes .state/env, under the
// state dir's lock. With record != "", the name of each component this call started
// (pg, redis, engine) is appended to that file.
func (s *Stack) Up(ctx context.Context, record string) error {
	unlock, err := Lock(ctx, s.cfg.StateDir, s.cfg.LockWait, s.log)
	if err != nil {
		return err
	}
	defer unlock()
	for _, d := range []string{s.cfg.StateDir, s.cfg.runDir(), s.cfg.logsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("state dir: %w", err)
		}
	}
	s.record = record
	if record != "" {
		f, err := os.OpenFile(record, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		_ = f.Close()
	}
	if err := s.EnsureEngine(ctx); err != nil {
		return err
	}
	if err := s.ensureMQ(ctx); err != nil {
		return err
	}
	if err := s.ensurePostgres(ctx); err != nil {
		return err
	}
	s.log.Printf("postgres: %s", s.pgSource)
	if err := s.ensureRedis(ctx); err != nil {
		return err
	}
	s.log.Printf("redis: %s (%s)", s.redisSource, s.redisURL)
	if err := s.ensureEngine(ctx); err != nil {
		return err
	}
	if err := s.writeEnv(); err != nil {
		return err
	}
	s.log.Printf("up: ready in %.1fs; env in %s", s.log.Elapsed().Seconds(), s.cfg.envPath())
	return nil
}

// Build only builds hfengine (or copies it from the per-machine cache), under the lock.
func (s *Stack) Build(ctx context.Context) error {
	unlock, err := Lock(ctx, s.cfg.StateDir, s.cfg.LockWait, s.log)
	if err != nil {
		return err
	}
	defer unlock()
	return s.EnsureEngine(ctx)
}

// Down stops what `up` started: the engine (SIGTERM, graceful), our own redis-server
// and our own PostgreSQL cluster; with only != "", just the components that file lists.
// Shared services are never touched. A component still running after its stop timeout
// makes the result an error, the others are stopped all the same.
func (s *Stack) Down(ctx context.Context, only string) error {
	if _, err := os.Stat(s.cfg.runDir()); err != nil {
		s.log.Printf("down: nothing to stop")
		return nil
	}
	unlock, err := Lock(ctx, s.cfg.StateDir, s.cfg.LockWait, s.log)
	if err != nil {
		return err
	}
	defer unlock()
	want := map[string]bool{"engine": true, "redis": true, "pg": true}
	if only != "" {
		listed := map[string]bool{}
		if b, err := os.ReadFile(only); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				listed[line] = true
			}
		}
		want = listed
	}
	var errs []error
	if want["engine"] {
		errs = append(errs, s.stopEngine(ctx))
	}
	if want["redis"] {
		errs = append(errs, s.stopRedis(ctx))
	}
	if want["pg"] {
		errs = append(errs, s.stopPG(ctx))
	}
	s.log.Printf("down: done in %.1fs", s.log.Elapsed().Seconds())
	return errors.Join(errs...)
}
