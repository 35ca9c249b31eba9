package devstack

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestVhost(t *testing.T) {
	// The same name scripts/stack gave: printf '%s' /repo/.state | sha256sum | cut -c1-10.
	if got := Vhost("/repo/.state"); got != "hatchetflow-29247f86a7" {
		t.Errorf("Vhost(/repo/.state) = %q, want hatchetflow-29247f86a7", got)
	}
	if Vhost("/repo/.state/pg-queue") == Vhost("/repo/.state") {
		t.Error("two state dirs share a vhost")
	}
}

func TestMQChoice(t *testing.T) {
	f := newFixture(t)
	f.cfg.MQ = "kafka"
	if err := f.stack().ensureMQ(context.Background()); err == nil || !strings.Contains(err.Error(), "want postgres or rabbitmq") {
		t.Errorf("HATCHETFLOW_MQ=kafka: %v", err)
	}
	f.cfg.MQ = "rabbitmq"
	f.cfg.RabbitMQPort = freePort(t) // nothing listens
	if err := f.stack().ensureMQ(context.Background()); err == nil || !strings.Contains(err.Error(), "nothing listens") {
		t.Errorf("no RabbitMQ: %v", err)
	}
	f.cfg.RabbitMQURL = "amqp://u:p@host:5672/v"
	s := f.stack()
	if err := s.ensureMQ(context.Background()); err != nil || s.rabbitURL != f.cfg.RabbitMQURL {
		t.Errorf("HATCHETFLOW_RABBITMQ_URL: %q %v", s.rabbitURL, err)
	}
}

func TestUpOnRabbitMQVhost(t *testing.T) {
	f := newFixture(t)
	l, err := net.Listen("tcp", "127.0.0.1:0") // "RabbitMQ"
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f.cfg.MQ = "rabbitmq"
	f.cfg.RabbitMQPort = l.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	defer f.stack().Down(ctx, "") //nolint:errcheck
	v := Vhost(f.state)
	want := []string{"-q delete_vhost " + v, "-q add_vhost " + v, "-q set_permissions -p " + v + " guest .* .* .*"}
	if got := devstacktest.Calls(f.fakes, "rabbitmqctl"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rabbitmqctl calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	url := "amqp://guest:guest@127.0.0.1:" + strings.TrimPrefix(l.Addr().String(), "127.0.0.1:") + "/" + v
	env := "\n" + readTrim(filepath.Join(f.state, "fake-serve-env")) + "\n"
	if !strings.Contains(env, "\nSERVER_MSGQUEUE_KIND=rabbitmq\n") || !strings.Contains(env, "\nSERVER_MSGQUEUE_RABBITMQ_URL="+url+"\n") {
		t.Errorf("engine environment lacks the queue lines for %s", url)
	}
	if got := readTrim(filepath.Join(f.state, "run", "engine.mq")); got != "rabbitmq "+url {
		t.Errorf("engine.mq = %q", got)
	}
	if !strings.Contains(readTrim(filepath.Join(f.state, "env")), "export HATCHETFLOW_ENGINE_MQ=rabbitmq") {
		t.Error(".state/env does not name the rabbitmq queue")
	}

	// Switching the queue restarts the engine.
	first := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid"))
	f.cfg.MQ = "postgres"
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if second := ReadPIDFile(filepath.Join(f.state, "run", "engine.pid")); second == first {
		t.Error("engine on the rabbitmq queue kept for HATCHETFLOW_MQ=postgres")
	}
}
