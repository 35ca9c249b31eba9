package devstack

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// PortOpen reports whether something accepts TCP connections on 127.0.0.1:port.
func PortOpen(ctx context.Context, port int) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// PortUsed reports whether any socket uses local port port: something accepts on it,
// 127.0.0.1:port cannot be bound, or ss lists a socket (connected, TIME-WAIT) on it.
func PortUsed(ctx context.Context, path string, port int) bool {
	if PortOpen(ctx, port) {
		return true
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return true
	}
	_ = l.Close()
	ss, err := lookPath("ss", path)
	if err != nil {
		return false
	}
	out, err := exec.CommandContext(ctx, ss, "-Htan", fmt.Sprintf("( sport = :%d )", port)).Output()
	return err == nil && strings.TrimSpace(string(out)) != ""
}

// PickPort returns preferred if it is free, else the next free port above it (at most
// 500 tried). Defaults are kept below the kernel's ephemeral range (32768+), where
// outgoing connections would grab them at random.
func PickPort(ctx context.Context, path string, preferred int) (int, error) {
	p := preferred
	for i := 0; i < 500 && p < 65536; i++ {
		if !PortUsed(ctx, path, p) {
			return p, nil
		}
		p++
	}
	return 0, fmt.Errorf("no free port near %d", preferred)
}

// waitPorts waits until every port accepts connections on 127.0.0.1, for at most
// timeout; exited reports the process that should open them has gone.
func waitPorts(ctx context.Context, ports []int, timeout time.Duration, exited func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		open := true
		for _, p := range ports {
			if !PortOpen(ctx, p) {
				open = false
				break
			}
		}
		if open {
			return nil
		}
		if exited() {
			return errExited
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ports %v: %w", ports, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
