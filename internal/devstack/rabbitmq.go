package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Vhost is the RabbitMQ vhost of a state dir, hatchetflow-<10 hex digits of SHA-256 of
// its path>: a CI stack and a developer's never share queues (an engine consumes every
// message of its vhost).
func Vhost(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return "hatchetflow-" + hex.EncodeToString(sum[:])[:10]
}

// ensureMQ checks HATCHETFLOW_MQ and, for rabbitmq without HATCHETFLOW_RABBITMQ_URL,
// sets rabbitURL to the state dir's vhost on the machine's RabbitMQ (guest/guest).
func (s *Stack) ensureMQ(ctx context.Context) error {
	switch s.cfg.MQ {
	case "postgres":
		return nil
	case "rabbitmq":
	default:
		return fmt.Errorf("HATCHETFLOW_MQ=%s: want postgres or rabbitmq", s.cfg.MQ)
	}
	s.rabbitURL = s.cfg.RabbitMQURL
	if s.rabbitURL != "" {
		return nil
	}
	if !PortOpen(ctx, s.cfg.RabbitMQPort) {
		return fmt.Errorf("HATCHETFLOW_MQ=rabbitmq but nothing listens on 127.0.0.1:%d (start it: rabbitmq-server -detached)", s.cfg.RabbitMQPort)
	}
	if _, err := lookPath("rabbitmqctl", s.cfg.Path); err != nil {
		return fmt.Errorf("HATCHETFLOW_MQ=rabbitmq needs rabbitmqctl to make a vhost, or HATCHETFLOW_RABBITMQ_URL: %w", err)
	}
	s.rabbitURL = fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/%s", s.cfg.RabbitMQPort, Vhost(s.cfg.StateDir))
	return nil
}

// resetVhost empties the state dir's vhost (delete, create, grant guest) before an
// engine starts on it: messages a killed engine left would reach the new one. A
// HATCHETFLOW_RABBITMQ_URL is left as it is.
func (s *Stack) resetVhost(ctx context.Context) error {
	if s.cfg.MQ != "rabbitmq" || s.cfg.RabbitMQURL != "" {
		return nil
	}
	v := Vhost(s.cfg.StateDir)
	ctl := func(args ...string) error {
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, err := s.output(ctx, "rabbitmqctl", nil, append([]string{"-q"}, args...)...)
		return err
	}
	_ = ctl("delete_vhost", v) // absent the first time
	if err := ctl("add_vhost", v); err != nil {
		return fmt.Errorf("rabbitmqctl add_vhost %s: %w", v, err)
	}
	if err := ctl("set_permissions", "-p", v, "guest", ".*", ".*", ".*"); err != nil {
		return fmt.Errorf("rabbitmqctl set_permissions on %s: %w", v, err)
	}
	return nil
}

// mqSignature is what run/engine.mq records: the queue kind and URL.
func (s *Stack) mqSignature() string { return s.cfg.MQ + " " + s.rabbitURL }
