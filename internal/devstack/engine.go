package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// EngineEnv is the engine's configuration, NAME=VALUE lines in the environment of
// `hfengine prepare` and `hfengine serve` (on top of the caller's environment).
func EngineEnv(databaseURL string, dbMaxConns int, mq, rabbitURL string, grpcPort, httpPort int) []string {
	env := []string{
		"DATABASE_URL=" + databaseURL,
		"DATABASE_MAX_CONNS=" + strconv.Itoa(dbMaxConns),
		"SERVER_MSGQUEUE_KIND=" + mq,
		"SERVER_PORT=" + strconv.Itoa(httpPort),
		fmt.Sprintf("SERVER_URL=http://127.0.0.1:%d", httpPort),
		"SERVER_GRPC_PORT=" + strconv.Itoa(grpcPort),
		"SERVER_GRPC_BIND_ADDRESS=127.0.0.1",
		fmt.Sprintf("SERVER_GRPC_BROADCAST_ADDRESS=127.0.0.1:%d", grpcPort),
		fmt.Sprintf("SERVER_INTERNAL_CLIENT_INTERNAL_GRPC_BROADCAST_ADDRESS=127.0.0.1:%d", grpcPort),
		"SERVER_GRPC_INSECURE=t",
		"SERVER_AUTH_COOKIE_DOMAIN=localhost",
		"SERVER_AUTH_COOKIE_INSECURE=t",
		"SERVER_AUTH_SET_EMAIL_VERIFIED=t",
		"SERVER_SECURITY_CHECK_ENABLED=f",
		"SERVER_HEALTHCHECK=f",
		"SERVER_LOGGER_LEVEL=warn",
		// Fail fast: a trigger of an unregistered workflow name errors instead of
		// returning a run id that never runs.
		"SERVER_OPTIMISTIC_SCHEDULING_ENABLED=f",
		"SERVER_GRPC_TRIGGER_WRITES_ENABLED=f",
	}
	if mq == "rabbitmq" {
		env = append(env, "SERVER_MSGQUEUE_RABBITMQ_URL="+rabbitURL)
	}
	return env
}

func (s *Stack) engineEnv() []string {
	return EngineEnv(s.databaseURL, s.cfg.DBMaxConns, s.cfg.MQ, s.rabbitURL, s.grpcPort, s.httpPort)
}

// enginePID is the pid in run/engine.pid if that process is our hfengine, else 0.
func (s *Stack) enginePID() int {
	pid := ReadPIDFile(s.cfg.run("engine.pid"))
	if PIDMatches(pid, EngineName) {
		return pid
	}
	return 0
}

// ensureEngine keeps a running engine that serves this database and queue with both
// ports open, and otherwise (re)starts it.
func (s *Stack) ensureEngine(ctx context.Context) error {
	if pid := s.enginePID(); pid != 0 {
		grpc, _ := strconv.Atoi(readTrim(s.cfg.run("engine.port")))
		http, _ := strconv.Atoi(readTrim(s.cfg.run("engine.http")))
		mq := readTrim(s.cfg.run("engine.mq"))
		if mq == "" {
			mq = "postgres"
		}
		if readTrim(s.cfg.run("engine.db")) == s.databaseURL && mq == strings.TrimSpace(s.mqSignature()) &&
			grpc > 0 && http > 0 && PortOpen(ctx, grpc) && PortOpen(ctx, http) {
			s.grpcPort, s.httpPort = grpc, http
			s.log.Printf("%s already running (pid %d, gRPC 127.0.0.1:%d, REST 127.0.0.1:%d)", EngineName, pid, grpc, http)
			return nil
		}
		s.log.Printf("%s (pid %d) runs against another database or queue, or is unreachable: restarting it", EngineName, pid)
	}
	// Stops ours, and the hatchet-engine/hatchet-api of an older scripts/stack.
	if err := s.stopEngine(ctx); err != nil {
		return err
	}
	return s.startEngine(ctx)
}

// startEngine picks the ports, runs `hfengine prepare` (migrations, keys, seed, token),
// resets the RabbitMQ vhost, starts `hfengine serve` detached and waits for both ports.
func (s *Stack) startEngine(ctx context.Context) error {
	var err error
	if s.grpcPort, err = PickPort(ctx, s.cfg.Path, s.cfg.GRPCPort); err != nil {
		return err
	}
	for http := s.cfg.HTTPPort; ; http++ {
		if s.httpPort, err = PickPort(ctx, s.cfg.Path, http); err != nil {
			return err
		}
		if s.httpPort != s.grpcPort {
			break
		}
	}
	bin := s.cfg.enginePath()
	env := append(os.Environ(), s.engineEnv()...)
	err = s.log.Step(EngineName+" prepare (migrations, keys, seed, token)", func() error {
		cmd, err := s.command(ctx, bin, s.engineEnv(), "prepare", "--state", s.cfg.StateDir)
		if err != nil {
			return err
		}
		return s.runLogged(cmd, "prepare")
	})
	if err != nil {
		return err
	}
	if readTrim(s.tokenPath()) == "" {
		return fmt.Errorf("%s prepare wrote no token to %s (log: %s)", EngineName, s.tokenPath(), s.cfg.logFile("prepare"))
	}
	if s.cfg.MQ == "rabbitmq" && s.cfg.RabbitMQURL == "" {
		if err := s.log.Step("reset RabbitMQ vhost "+Vhost(s.cfg.StateDir), func() error { return s.resetVhost(ctx) }); err != nil {
			return err
		}
	}
	logPath := s.cfg.logFile("engine")
	if err := appendLine(logPath, fmt.Sprintf("=== %s start (%s queue)", time.Now().Format(time.RFC3339), s.cfg.MQ)); err != nil {
		return err
	}
	proc, err := StartDetached(ctx, bin, []string{"serve", "--state", s.cfg.StateDir}, env, logPath)
	if err != nil {
		return err
	}
	files := map[string]string{
		"engine.pid":  strconv.Itoa(proc.PID),
		"engine.port": strconv.Itoa(s.grpcPort),
		"engine.db":   s.databaseURL,
		"engine.http": strconv.Itoa(s.httpPort),
		"engine.mq":   s.mqSignature(),
	}
	for name, v := range files {
		if err := os.WriteFile(s.cfg.run(name), []byte(v+"\n"), 0o644); err != nil {
			return fmt.Errorf("run file: %w", err)
		}
	}
	s.recordStarted("engine")
	timeout := s.cfg.StartTimeout
	return s.log.Step(fmt.Sprintf("wait for %s gRPC 127.0.0.1:%d and REST 127.0.0.1:%d", EngineName, s.grpcPort, s.httpPort), func() error {
		err := waitPorts(ctx, []int{s.grpcPort, s.httpPort}, timeout, proc.Exited)
		switch {
		case errors.Is(err, errExited):
			return fmt.Errorf("%s exited during start-up (log: %s):\n%s", EngineName, logPath, tail(logPath, 40))
		case errors.Is(err, errTimeout):
			return fmt.Errorf("%s did not open 127.0.0.1:%d and 127.0.0.1:%d within %s (log: %s):\n%s",
				EngineName, s.grpcPort, s.httpPort, timeout, logPath, tail(logPath, 40))
		}
		return err
	})
}

// stopEngine stops our engine (SIGTERM, graceful: it hands back its partition leases)
// and, if run/ names them, the hatchet-api and hatchet-engine processes an older
// scripts/stack started.
func (s *Stack) stopEngine(ctx context.Context) error {
	var errs []error
	if pid := ReadPIDFile(s.cfg.run("api.pid")); PIDMatches(pid, "hatchet-api") {
		errs = append(errs, s.log.Step(fmt.Sprintf("stop hatchet-api (pid %d, SIGTERM)", pid), func() error {
			return StopPID(ctx, pid, "hatchet-api", s.cfg.StopTimeout, s.log)
		}))
	}
	_ = os.Remove(s.cfg.run("api.pid"))
	pid := ReadPIDFile(s.cfg.run("engine.pid"))
	for _, name := range []string{EngineName, "hatchet-engine"} {
		if PIDMatches(pid, name) {
			errs = append(errs, s.log.Step(fmt.Sprintf("stop %s (pid %d, SIGTERM, graceful)", name, pid), func() error {
				return StopPID(ctx, pid, name, s.cfg.StopTimeout, s.log)
			}))
			break
		}
	}
	_ = os.Remove(s.cfg.run("engine.pid"))
	return errors.Join(errs...)
}

func (s *Stack) tokenPath() string { return filepath.Join(s.cfg.StateDir, "token") }

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return nil
}
