package devstack

import (
	"strings"
	"testing"
	"time"
)

func TestEnvFile(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	got := EnvFile(now, "shared 127.0.0.1:5432", "shared 127.0.0.1:6379", "a.b.c", 7077, 8733, "rabbitmq", "redis://127.0.0.1:6379")
	want := `# written by scripts/stack up at 2026-12-01T10:00:00Z; postgres: shared 127.0.0.1:5432; redis: shared 127.0.0.1:6379
export HATCHET_CLIENT_TOKEN='a.b.c'
export HATCHET_CLIENT_TLS_STRATEGY=none
export HATCHET_CLIENT_HOST_PORT=127.0.0.1:7077
export HATCHET_CLIENT_SERVER_URL=http://127.0.0.1:8733
export HATCHET_CLIENT_LOG_LEVEL=warn
export HATCHETFLOW_ENGINE_MQ=rabbitmq
export REDIS_URL='redis://127.0.0.1:6379'
`
	if got != want {
		t.Errorf("EnvFile =\n%s\nwant\n%s", got, want)
	}
	noRedis := EnvFile(now, "p", "none", "a.b.c", 1, 2, "postgres", "")
	if strings.Contains(noRedis, "REDIS_URL") || !strings.HasSuffix(noRedis, "export HATCHETFLOW_ENGINE_MQ=postgres\n") {
		t.Errorf("without Redis:\n%s", noRedis)
	}
}

func TestEngineEnv(t *testing.T) {
	got := EngineEnv("postgresql://u@127.0.0.1:5432/h?sslmode=disable", 30, "postgres", "", 7077, 8733)
	want := []string{
		"DATABASE_URL=postgresql://u@127.0.0.1:5432/h?sslmode=disable",
		"DATABASE_MAX_CONNS=30",
		"SERVER_MSGQUEUE_KIND=postgres",
		"SERVER_PORT=8733",
		"SERVER_URL=http://127.0.0.1:8733",
		"SERVER_GRPC_PORT=7077",
		"SERVER_GRPC_BIND_ADDRESS=127.0.0.1",
		"SERVER_GRPC_BROADCAST_ADDRESS=127.0.0.1:7077",
		"SERVER_INTERNAL_CLIENT_INTERNAL_GRPC_BROADCAST_ADDRESS=127.0.0.1:7077",
		"SERVER_GRPC_INSECURE=t",
		"SERVER_AUTH_COOKIE_DOMAIN=localhost",
		"SERVER_AUTH_COOKIE_INSECURE=t",
		"SERVER_AUTH_SET_EMAIL_VERIFIED=t",
		"SERVER_SECURITY_CHECK_ENABLED=f",
		"SERVER_HEALTHCHECK=f",
		"SERVER_LOGGER_LEVEL=warn",
		"SERVER_OPTIMISTIC_SCHEDULING_ENABLED=f",
		"SERVER_GRPC_TRIGGER_WRITES_ENABLED=f",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("EngineEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rabbit := EngineEnv("d", 30, "rabbitmq", "amqp://guest:guest@127.0.0.1:5672/v", 1, 2)
	if last := rabbit[len(rabbit)-1]; last != "SERVER_MSGQUEUE_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/v" || len(rabbit) != len(want)+1 {
		t.Errorf("rabbitmq: last line %q", last)
	}
}
