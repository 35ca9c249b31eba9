package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// RedisPing reports whether a Redis server answers PING on 127.0.0.1:port within 3 s.
func RedisPing(ctx context.Context, port int) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 5)
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	return strings.Contains(string(buf[:n]), "PONG")
}

// ownRedisRunning is the port of our own redis-server if it runs.
func (c *Config) ownRedisRunning() (int, bool) {
	if !PIDMatches(ReadPIDFile(c.run("redis.pid")), "redis-server") {
		return 0, false
	}
	port, err := strconv.Atoi(readTrim(c.run("redis.port")))
	return port, err == nil
}

// redisServerBin is HATCHETFLOW_REDIS_SERVER, else redis-server on the PATH, "" if none.
func (s *Stack) redisServerBin() string {
	if s.cfg.RedisServer != "" {
		return s.cfg.RedisServer
	}
	p, err := lookPath("redis-server", s.cfg.Path)
	if err != nil {
		return ""
	}
	return p
}

// ensureRedis sets redisURL and redisSource: REDIS_URL; our own redis-server if it
// runs; a shared server answering PING on the probe port; none if Redis is optional and
// no redis-server is installed; else an own redis-server started here.
func (s *Stack) ensureRedis(ctx context.Context) error {
	if s.cfg.RedisURL != "" {
		s.redisURL, s.redisSource = s.cfg.RedisURL, "REDIS_URL from the environment"
		return nil
	}
	if port, ok := s.cfg.ownRedisRunning(); ok {
		s.redisURL = fmt.Sprintf("redis://127.0.0.1:%d", port)
		s.redisSource = fmt.Sprintf("own redis-server on 127.0.0.1:%d", port)
		return nil
	}
	if p := s.cfg.RedisProbePort; p != 0 && RedisPing(ctx, p) {
		s.redisURL = fmt.Sprintf("redis://127.0.0.1:%d", p)
		s.redisSource = fmt.Sprintf("shared 127.0.0.1:%d", p)
		return nil
	}
	if s.cfg.RedisOptional && s.redisServerBin() == "" {
		// The demo can run on an in-process miniredis: no Redis is not an error for it.
		s.redisURL, s.redisSource = "", "none (HATCHETFLOW_REDIS_OPTIONAL=1: the program picks its own)"
		return nil
	}
	var port int
	err := s.log.Step("start own redis-server", func() error {
		var err error
		port, err = s.startOwnRedis(ctx)
		return err
	})
	if err != nil {
		return err
	}
	s.redisURL = fmt.Sprintf("redis://127.0.0.1:%d", port)
	s.redisSource = fmt.Sprintf("own redis-server on 127.0.0.1:%d", port)
	return nil
}

func (s *Stack) startOwnRedis(ctx context.Context) (int, error) {
	bin := s.redisServerBin()
	if bin == "" || !isExecutable(bin) {
		if !s.cfg.CI {
			return 0, errors.New("no Redis found: set REDIS_URL, run a server on 127.0.0.1:6379, or apt-get install redis-server")
		}
		if err := s.ensureAptPackage(ctx, "redis-server"); err != nil {
			return 0, err
		}
		var err error
		if bin, err = lookPath("redis-server", s.cfg.Path); err != nil {
			return 0, fmt.Errorf("redis-server still missing after install: %w", err)
		}
	}
	port, err := PickPort(ctx, s.cfg.Path, s.cfg.RedisPort)
	if err != nil {
		return 0, err
	}
	dataDir := filepath.Join(s.cfg.StateDir, "redis")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return 0, fmt.Errorf("redis dir: %w", err)
	}
	pidFile := s.cfg.run("redis.pid")
	_ = os.Remove(pidFile)
	logPath := s.cfg.logFile("redis")
	cmd, err := s.command(ctx, bin, nil, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "",
		"--appendonly", "no", "--dir", dataDir, "--daemonize", "yes", "--pidfile", pidFile, "--logfile", logPath)
	if err != nil {
		return 0, err
	}
	cmd.Stderr = s.stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("redis-server: %w", err)
	}
	for i := 0; i < 100; i++ {
		if RedisPing(ctx, port) && ReadPIDFile(pidFile) != 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !RedisPing(ctx, port) {
		return 0, fmt.Errorf("own redis-server did not answer on 127.0.0.1:%d (see %s)", port, logPath)
	}
	if err := os.WriteFile(s.cfg.run("redis.port"), []byte(strconv.Itoa(port)+"\n"), 0o644); err != nil {
		return 0, fmt.Errorf("run file: %w", err)
	}
	s.recordStarted("redis")
	return port, nil
}

// stopRedis stops our own redis-server if it runs.
func (s *Stack) stopRedis(ctx context.Context) error {
	defer func() {
		_ = os.Remove(s.cfg.run("redis.pid"))
		_ = os.Remove(s.cfg.run("redis.port"))
	}()
	pid := ReadPIDFile(s.cfg.run("redis.pid"))
	if !PIDMatches(pid, "redis-server") {
		return nil
	}
	return s.log.Step(fmt.Sprintf("stop own redis-server (pid %d)", pid), func() error {
		return StopPID(ctx, pid, "redis-server", 30*time.Second, s.log)
	})
}
