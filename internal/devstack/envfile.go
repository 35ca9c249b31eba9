package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// envPath is .state/env.
func (c *Config) envPath() string { return filepath.Join(c.StateDir, "env") }

// EnvFile is the content of .state/env: export lines for the SDK (token, addresses, TLS
// off, log level), the engine's queue and, when a Redis is used, REDIS_URL.
func EnvFile(now time.Time, pgSource, redisSource, token string, grpcPort, httpPort int, mq, redisURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by scripts/stack up at %s; postgres: %s; redis: %s\n", now.Format(time.RFC3339), pgSource, redisSource)
	fmt.Fprintf(&b, "export HATCHET_CLIENT_TOKEN='%s'\n", token)
	fmt.Fprintf(&b, "export HATCHET_CLIENT_TLS_STRATEGY=none\n")
	fmt.Fprintf(&b, "export HATCHET_CLIENT_HOST_PORT=127.0.0.1:%d\n", grpcPort)
	fmt.Fprintf(&b, "export HATCHET_CLIENT_SERVER_URL=http://127.0.0.1:%d\n", httpPort)
	fmt.Fprintf(&b, "export HATCHET_CLIENT_LOG_LEVEL=warn\n")
	fmt.Fprintf(&b, "export HATCHETFLOW_ENGINE_MQ=%s\n", mq)
	if redisURL != "" {
		fmt.Fprintf(&b, "export REDIS_URL='%s'\n", redisURL)
	}
	return b.String()
}

// writeEnv writes .state/env (through a rename) and run/sources.
func (s *Stack) writeEnv() error {
	token := readTrim(s.tokenPath())
	content := EnvFile(time.Now(), s.pgSource, s.redisSource, token, s.grpcPort, s.httpPort, s.cfg.MQ, s.redisURL)
	if err := writeFile(s.cfg.envPath(), content, 0o644); err != nil {
		return err
	}
	return os.WriteFile(s.cfg.run("sources"), []byte(fmt.Sprintf("postgres=%s\nredis=%s\n", s.pgSource, s.redisSource)), 0o644)
}

// Env copies .state/env to w (`scripts/stack env`).
func (s *Stack) Env(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := os.ReadFile(s.cfg.envPath())
	if err != nil {
		return fmt.Errorf("no %s; run scripts/stack up first: %w", s.cfg.envPath(), err)
	}
	_, err = w.Write(b)
	return err
}
