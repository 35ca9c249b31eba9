package devstack

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFromEnvDefaults(t *testing.T) {
	env := map[string]string{"HOME": "/home/u", "PATH": "/bin"}
	c, err := FromEnv("/repo", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/repo/.state" || c.BinCache != "/home/u/.cache/hatchetflow/bin" || c.PGDB != "hatchet" ||
		c.PGProbePort != 5432 || c.RedisProbePort != 6379 || c.PGPort != 15432 || c.RedisPort != 16379 ||
		c.GRPCPort != 7077 || c.HTTPPort != 8733 || c.DBMaxConns != 30 || c.MQ != "postgres" ||
		c.StopTimeout != 60*time.Second || c.StartTimeout != 60*time.Second || c.CI || c.PGReset || c.RedisOptional ||
		c.RabbitMQPort != 5672 || c.Path != "/bin" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestFromEnvKnobs(t *testing.T) {
	env := map[string]string{
		"HATCHETFLOW_STATE_DIR":        "/s",
		"XDG_CACHE_HOME":               "/xdg",
		"HATCHETFLOW_PG_DB":            "db",
		"HATCHETFLOW_PG_PORT_PROBE":    "off",
		"HATCHETFLOW_REDIS_PORT_PROBE": "6380",
		"HATCHETFLOW_GRPC_PORT":        "7000",
		"HATCHETFLOW_HTTP_PORT":        "8000",
		"HATCHETFLOW_PG_PORT":          "15000",
		"HATCHETFLOW_REDIS_PORT":       "16000",
		"HATCHETFLOW_DB_MAX_CONNS":     "5",
		"HATCHETFLOW_STOP_TIMEOUT":     "2.5",
		"HATCHETFLOW_START_TIMEOUT":    "9",
		"HATCHETFLOW_MQ":               "rabbitmq",
		"HATCHETFLOW_RABBITMQ_URL":     "amqp://x",
		"HATCHETFLOW_PG_RESET":         "1",
		"HATCHETFLOW_REDIS_OPTIONAL":   "1",
		"HATCHETFLOW_PG_BIN":           "/pg/bin",
		"HATCHETFLOW_REDIS_SERVER":     "/r/redis-server",
		"DATABASE_URL":                 "postgresql://d",
		"REDIS_URL":                    "redis://r",
		"CI":                           "true",
	}
	c, err := FromEnv("/repo", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.StateDir != "/s" || c.BinCache != filepath.Join("/xdg", "hatchetflow", "bin") || c.PGDB != "db" ||
		c.PGProbePort != 0 || c.RedisProbePort != 6380 || c.GRPCPort != 7000 || c.HTTPPort != 8000 ||
		c.PGPort != 15000 || c.RedisPort != 16000 || c.DBMaxConns != 5 || c.StopTimeout != 2500*time.Millisecond ||
		c.StartTimeout != 9*time.Second || c.MQ != "rabbitmq" || c.RabbitMQURL != "amqp://x" || !c.PGReset ||
		!c.RedisOptional || c.PGBin != "/pg/bin" || c.RedisServer != "/r/redis-server" ||
		c.DatabaseURL != "postgresql://d" || c.RedisURL != "redis://r" || !c.CI {
		t.Errorf("knobs: %+v", c)
	}
	env["HATCHETFLOW_BIN_CACHE"] = "off"
	if c, _ := FromEnv("/repo", func(k string) string { return env[k] }); c.BinCache != "off" {
		t.Errorf("BinCache = %q, want off", c.BinCache)
	}
}

func TestFromEnvRejectsMalformed(t *testing.T) {
	for name, v := range map[string]string{
		"HATCHETFLOW_GRPC_PORT":     "off", // only the probes take off
		"HATCHETFLOW_PG_PORT_PROBE": "x",
		"HATCHETFLOW_STOP_TIMEOUT":  "soon",
		"HATCHETFLOW_DB_MAX_CONNS":  "0",
	} {
		_, err := FromEnv("/repo", func(k string) string {
			if k == name {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v", name, v, err)
		}
	}
}
