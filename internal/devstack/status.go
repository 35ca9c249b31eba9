package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Status writes what runs and where (`scripts/stack status`): the engine binary, the
// last up's sources, our own PostgreSQL and redis-server, the engine and the env file.
func (s *Stack) Status(ctx context.Context, w io.Writer) error {
	c := &s.cfg
	var b strings.Builder
	fmt.Fprintf(&b, "state dir: %s\n", c.StateDir)
	if isExecutable(c.enginePath()) {
		fmt.Fprintf(&b, "binary %s: ok (%s)\n", EngineName, readTrim(c.enginePath()+".key"))
	} else {
		fmt.Fprintf(&b, "binary %s: missing\n", EngineName)
	}
	if src := readTrim(c.run("sources")); src != "" {
		for _, line := range strings.Split(src, "\n") {
			fmt.Fprintf(&b, "last up: %s\n", line)
		}
	}
	if port, ok := c.ownPGRunning(); ok {
		fmt.Fprintf(&b, "own postgres: running on 127.0.0.1:%d (%s)\n", port, c.pgRoot())
	} else {
		fmt.Fprintf(&b, "own postgres: not running\n")
	}
	if port, ok := c.ownRedisRunning(); ok {
		fmt.Fprintf(&b, "own redis: running on 127.0.0.1:%d\n", port)
	} else {
		fmt.Fprintf(&b, "own redis: not running\n")
	}
	if pid := s.enginePID(); pid != 0 {
		grpc, _ := strconv.Atoi(readTrim(c.run("engine.port")))
		http, _ := strconv.Atoi(readTrim(c.run("engine.http")))
		mq, _, _ := strings.Cut(readTrim(c.run("engine.mq")), " ")
		if mq == "" {
			mq = "postgres"
		}
		if PortOpen(ctx, grpc) && PortOpen(ctx, http) {
			fmt.Fprintf(&b, "%s: running (pid %d), gRPC 127.0.0.1:%d, REST 127.0.0.1:%d, queue %s\n", EngineName, pid, grpc, http, mq)
		} else {
			fmt.Fprintf(&b, "%s: pid %d alive but 127.0.0.1:%d or 127.0.0.1:%d closed\n", EngineName, pid, grpc, http)
		}
	} else {
		fmt.Fprintf(&b, "%s: not running\n", EngineName)
	}
	if _, err := os.Stat(c.envPath()); err == nil {
		fmt.Fprintf(&b, "env file: %s\n", c.envPath())
	} else {
		fmt.Fprintf(&b, "env file: none (run scripts/stack up)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
