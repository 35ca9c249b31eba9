// Package enginetest holds small helpers for integration tests that run against the real Hatchet
// engine started by `scripts/stack up` (`make test` does that, sources .state/env and sets
// HATCHETFLOW_INTEGRATION=1).
//
// Typical use:
//
//	func TestSomething(t *testing.T) {
//		c := enginetest.Client(t) // skips unless HATCHETFLOW_INTEGRATION=1
//		task := c.NewStandaloneTask("my-task", fn)
//		enginetest.StartWorker(t, c, "my-worker", task)
//		ctx := enginetest.Context(t, time.Minute)
//		ref, err := enginetest.Wait(ctx, func() (*hatchet.WorkflowRunRef, error) { return task.RunNoWait(ctx, in) })
//		res, err := enginetest.Result(ctx, ref)
//	}
//
// Client gives every test its own HATCHET_CLIENT_NAMESPACE, so tests sharing one engine (and
// workflow names) do not see each other's runs. Because it uses t.Setenv, it cannot be used in
// tests that call t.Parallel.
package enginetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/internal/await"
	"github.com/rs/zerolog"
)

// EnvIntegration is the variable that enables integration tests ("1").
const EnvIntegration = "HATCHETFLOW_INTEGRATION"

// Enabled reports whether integration tests are enabled (HATCHETFLOW_INTEGRATION=1).
func Enabled() bool { return os.Getenv(EnvIntegration) == "1" }

// Skip skips t unless integration tests are enabled.
func Skip(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skipf("integration test: set %s=1 and the stack env (or run `make test`)", EnvIntegration)
	}
}

// Client skips t unless HATCHETFLOW_INTEGRATION=1, sets a fresh HATCHET_CLIENT_NAMESPACE for this
// test (see Namespace) and returns a client for the engine described by the HATCHET_CLIENT_*
// variables (.state/env). It fails the test, rather than letting the SDK panic, if no token is set.
func Client(t testing.TB) *hatchet.Client {
	t.Helper()
	Skip(t)
	if os.Getenv("HATCHET_CLIENT_TOKEN") == "" {
		t.Fatalf("%s=1 but HATCHET_CLIENT_TOKEN is empty: run `scripts/stack up` and `set -a; . .state/env`", EnvIntegration)
	}
	if os.Getenv("HATCHET_CLIENT_TLS_STRATEGY") == "" {
		t.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none") // the local engine is plaintext; TLS would hang
	}
	if os.Getenv("HATCHET_CLIENT_LOG_LEVEL") == "" {
		t.Setenv("HATCHET_CLIENT_LOG_LEVEL", "warn")
	}
	t.Setenv("HATCHET_CLIENT_NAMESPACE", newNamespace(t.Name()))
	c, err := hatchet.NewClient()
	if err != nil {
		t.Fatalf("hatchet.NewClient: %v", err)
	}
	return c
}

// Namespace returns the namespace Client set for the current test ("" before Client is called).
// The SDK prefixes workflow names with "<namespace>_" on registration and on triggers by name.
func Namespace() string { return os.Getenv("HATCHET_CLIENT_NAMESPACE") }

// newNamespace makes a short, lower-case, unique namespace from a test name, e.g. "hf-smoke-3fa9c1".
func newNamespace(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
	}
	slug := strings.Trim(b.String(), "-")
	slug = strings.TrimPrefix(slug, "test-")
	if len(slug) > 24 {
		slug = strings.Trim(slug[:24], "-")
	}
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("hf-%s-%s", slug, hex.EncodeToString(rnd[:]))
}

// StartWorker registers workflows (all at once, as the SDK requires) on a new worker named name,
// starts it, and stops it in t.Cleanup. See StartWorkerWith for other worker options.
func StartWorker(t testing.TB, c *hatchet.Client, name string, workflows ...hatchet.WorkflowBase) *hatchet.Worker {
	t.Helper()
	return StartWorkerWith(t, c, name, hatchet.WithWorkflows(workflows...))
}

// StartWorkerWith is StartWorker with raw worker options (hatchet.WithWorkflows must be among
// them, once). Registration is bounded by a 60 s deadline: the SDK would otherwise retry for a long
// time when the engine is unreachable. The worker logs to stderr at HATCHET_CLIENT_LOG_LEVEL
// (default warn) unless opts set hatchet.WithLogger.
func StartWorkerWith(t testing.TB, c *hatchet.Client, name string, opts ...hatchet.WorkerOption) *hatchet.Worker {
	t.Helper()
	opts = append([]hatchet.WorkerOption{hatchet.WithLogger(workerLogger())}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := Wait(ctx, func() (*hatchet.Worker, error) { return c.NewWorker(name, opts...) })
	if err != nil {
		t.Fatalf("register worker %q: %v", name, err)
	}
	stop, err := Wait(ctx, w.Start)
	if err != nil {
		t.Fatalf("start worker %q: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := Wait(ctx, func() (struct{}, error) { return struct{}{}, stop() }); err != nil {
			t.Logf("stop worker %q: %v", name, err)
		}
	})
	return w
}

// workerLogger: the SDK's worker logs at debug level regardless of HATCHET_CLIENT_LOG_LEVEL.
func workerLogger() *zerolog.Logger {
	lvl, err := zerolog.ParseLevel(os.Getenv("HATCHET_CLIENT_LOG_LEVEL"))
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.WarnLevel
	}
	l := zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Str("service", "worker").Logger()
	return &l
}

// Context returns a context that ends after d, or shortly before the test binary's own deadline
// (go test -timeout), whichever is first. It is cancelled when the test ends.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(d)
	if td, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := td.Deadline(); ok && dl.Add(-5*time.Second).Before(deadline) {
			deadline = dl.Add(-5 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// Wait runs fn in a goroutine and returns its result, or ctx.Err() if ctx ends first. Use it around
// SDK calls that ignore their context: WorkflowRunRef.Result, Run, RunNoWait, NewWorker.
// On timeout fn keeps running in the background; its result is dropped.
func Wait[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	v, err := await.Do(ctx, fn)
	if err != nil && ctx.Err() != nil {
		return v, fmt.Errorf("enginetest: %w", err)
	}
	return v, err
}

// Result waits for a run's result with ctx's deadline (WorkflowRunRef.Result has none).
func Result(ctx context.Context, ref *hatchet.WorkflowRunRef) (*hatchet.WorkflowResult, error) {
	return Wait(ctx, ref.Result)
}

// Redis returns a client for the REDIS_URL Redis (`make test` sets it; the test fails
// without it) that is closed, and every key under prefix deleted, when t ends.
func Redis(t testing.TB, prefix string) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("integration tests need REDIS_URL (make test sets it)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	t.Cleanup(func() { // runs before Close: cleanups run last first
		bg := context.Background()
		iter := rdb.Scan(bg, 0, prefix+":*", 1000).Iterator()
		for iter.Next(bg) {
			rdb.Del(bg, iter.Val())
		}
	})
	return rdb
}
