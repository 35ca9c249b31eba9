package devstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Config is what the stack is told by its environment (the HATCHETFLOW_* knobs,
// DATABASE_URL, REDIS_URL, CI) plus the few paths and commands tests replace.
type Config struct {
	// Root is the repository root (go.mod of github.com/hatchetflow/go).
	Root string
	// StateDir holds bin/, run/, logs/, env, token and the lock (HATCHETFLOW_STATE_DIR,
	// default Root/.state).
	StateDir string
	// BinCache is the per-machine binary cache's base folder (HATCHETFLOW_BIN_CACHE,
	// default ${XDG_CACHE_HOME:-~/.cache}/hatchetflow/bin); "off" disables it.
	BinCache string

	// PGDB is the database name (HATCHETFLOW_PG_DB, default hatchet).
	PGDB string
	// PGProbePort is the port probed for a shared PostgreSQL server, 0 = off
	// (HATCHETFLOW_PG_PORT_PROBE, default 5432).
	PGProbePort int
	// PGPort is the preferred port of an own cluster (HATCHETFLOW_PG_PORT, 15432).
	PGPort int
	// PGBin is an explicit PostgreSQL bin folder (HATCHETFLOW_PG_BIN).
	PGBin string
	// PGReset drops the database on a shared server first (HATCHETFLOW_PG_RESET=1).
	PGReset bool
	// DatabaseURL, when set, is used as is and no PostgreSQL is looked for (DATABASE_URL).
	DatabaseURL string

	// RedisProbePort is the port probed for a shared Redis, 0 = off
	// (HATCHETFLOW_REDIS_PORT_PROBE, default 6379).
	RedisProbePort int
	// RedisPort is the preferred port of an own redis-server (HATCHETFLOW_REDIS_PORT, 16379).
	RedisPort int
	// RedisServer is an explicit redis-server path (HATCHETFLOW_REDIS_SERVER).
	RedisServer string
	// RedisOptional makes a missing Redis not an error (HATCHETFLOW_REDIS_OPTIONAL=1).
	RedisOptional bool
	// RedisURL, when set, is used as is (REDIS_URL).
	RedisURL string

	// MQ is the engine's message queue, postgres or rabbitmq (HATCHETFLOW_MQ).
	MQ string
	// RabbitMQURL is a RabbitMQ used as it is (HATCHETFLOW_RABBITMQ_URL); unset, the state
	// dir gets a vhost of its own on RabbitMQAddr.
	RabbitMQURL string
	// RabbitMQPort is the machine's RabbitMQ on 127.0.0.1 (5672).
	RabbitMQPort int

	// GRPCPort and HTTPPort are the engine's preferred ports (HATCHETFLOW_GRPC_PORT 7077,
	// HATCHETFLOW_HTTP_PORT 8733).
	GRPCPort, HTTPPort int
	// DBMaxConns is the engine's pool size (HATCHETFLOW_DB_MAX_CONNS, 30).
	DBMaxConns int
	// StopTimeout is how long `down` waits after SIGTERM (HATCHETFLOW_STOP_TIMEOUT, 60 s).
	StopTimeout time.Duration
	// StartTimeout is how long `up` waits for the engine's ports (HATCHETFLOW_START_TIMEOUT, 60 s).
	StartTimeout time.Duration
	// LockWait is how long up/down/build wait for another holder of the lock (20 min).
	LockWait time.Duration

	// CI allows apt-get installs of missing packages (CI=true).
	CI bool
	// AsRoot runs PostgreSQL's server commands as the postgres user (default: uid 0).
	AsRoot bool
	// Path is the PATH searched for psql, pg_isready, redis-server, rabbitmqctl, ss, apt-get
	// and runuser (default $PATH).
	Path string
	// GoCmd is the go command that builds hfengine (default "go" on Path).
	GoCmd string
}

// FromEnv reads the Config for the repository at root from getenv (os.Getenv in the
// command). A malformed number is an error.
func FromEnv(root string, getenv func(string) string) (Config, error) {
	c := Config{
		Root:          root,
		StateDir:      getenv("HATCHETFLOW_STATE_DIR"),
		BinCache:      getenv("HATCHETFLOW_BIN_CACHE"),
		PGDB:          or(getenv("HATCHETFLOW_PG_DB"), "hatchet"),
		PGBin:         getenv("HATCHETFLOW_PG_BIN"),
		PGReset:       getenv("HATCHETFLOW_PG_RESET") == "1",
		DatabaseURL:   getenv("DATABASE_URL"),
		RedisServer:   getenv("HATCHETFLOW_REDIS_SERVER"),
		RedisOptional: getenv("HATCHETFLOW_REDIS_OPTIONAL") == "1",
		RedisURL:      getenv("REDIS_URL"),
		MQ:            or(getenv("HATCHETFLOW_MQ"), "postgres"),
		RabbitMQURL:   getenv("HATCHETFLOW_RABBITMQ_URL"),
		RabbitMQPort:  5672,
		LockWait:      20 * time.Minute,
		CI:            getenv("CI") == "true",
		AsRoot:        os.Getuid() == 0,
		Path:          getenv("PATH"),
		GoCmd:         "go",
	}
	if c.StateDir == "" {
		c.StateDir = filepath.Join(root, ".state")
	}
	if c.BinCache == "" {
		base := getenv("XDG_CACHE_HOME")
		if base == "" {
			base = filepath.Join(getenv("HOME"), ".cache")
		}
		c.BinCache = filepath.Join(base, "hatchetflow", "bin")
	}
	var err error
	ints := []struct {
		dst  *int
		name string
		def  int
		off  bool // "off" means 0
	}{
		{&c.PGProbePort, "HATCHETFLOW_PG_PORT_PROBE", 5432, true},
		{&c.RedisProbePort, "HATCHETFLOW_REDIS_PORT_PROBE", 6379, true},
		{&c.PGPort, "HATCHETFLOW_PG_PORT", 15432, false},
		{&c.RedisPort, "HATCHETFLOW_REDIS_PORT", 16379, false},
		{&c.GRPCPort, "HATCHETFLOW_GRPC_PORT", 7077, false},
		{&c.HTTPPort, "HATCHETFLOW_HTTP_PORT", 8733, false},
		{&c.DBMaxConns, "HATCHETFLOW_DB_MAX_CONNS", 30, false},
	}
	for _, n := range ints {
		v := getenv(n.name)
		switch {
		case v == "":
			*n.dst = n.def
		case n.off && v == "off":
			*n.dst = 0
		default:
			if *n.dst, err = strconv.Atoi(v); err != nil || *n.dst <= 0 {
				want := "a positive number"
				if n.off {
					want += " or off"
				}
				return Config{}, fmt.Errorf("%s=%q: want %s", n.name, v, want)
			}
		}
	}
	durs := []struct {
		dst  *time.Duration
		name string
		def  time.Duration
	}{
		{&c.StopTimeout, "HATCHETFLOW_STOP_TIMEOUT", 60 * time.Second},
		{&c.StartTimeout, "HATCHETFLOW_START_TIMEOUT", 60 * time.Second},
	}
	for _, d := range durs {
		v := getenv(d.name)
		if v == "" {
			*d.dst = d.def
			continue
		}
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 {
			return Config{}, fmt.Errorf("%s=%q: want seconds", d.name, v)
		}
		*d.dst = time.Duration(secs * float64(time.Second))
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// The state directory's layout.
func (c *Config) binDir() string  { return filepath.Join(c.StateDir, "bin") }
func (c *Config) runDir() string  { return filepath.Join(c.StateDir, "run") }
func (c *Config) logsDir() string { return filepath.Join(c.StateDir, "logs") }
func (c *Config) run(name string) string {
	return filepath.Join(c.runDir(), name)
}
func (c *Config) logFile(name string) string {
	return filepath.Join(c.logsDir(), name+".log")
}
