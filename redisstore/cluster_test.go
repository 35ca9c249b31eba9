package redisstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterOnce starts one three-node Redis Cluster per test binary (when integration
// tests are enabled and redis-server is installed) so the store is proven on Cluster:
// every multi-key script and transaction must stay within a signature's hash tag.
var clusterOnce struct {
	sync.Once
	addrs []string
	err   error
	stop  func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if clusterOnce.stop != nil {
		clusterOnce.stop()
	}
	os.Exit(code)
}

// clusterAddrs returns the addresses of the test cluster, started on first use, or
// false when integration tests are off or redis-server is not installed.
func clusterAddrs(t *testing.T) ([]string, bool) {
	t.Helper()
	if os.Getenv("HATCHETFLOW_INTEGRATION") != "1" {
		return nil, false
	}
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil {
		t.Log("Redis Cluster backend skipped: redis-server and redis-cli are not installed")
		return nil, false
	}
	clusterOnce.Do(func() {
		clusterOnce.addrs, clusterOnce.stop, clusterOnce.err = startCluster(server, cli)
	})
	if clusterOnce.err != nil {
		t.Fatalf("start Redis Cluster: %v", clusterOnce.err)
	}
	return clusterOnce.addrs, true
}

func startCluster(server, cli string) ([]string, func(), error) {
	dir, err := os.MkdirTemp("", "hf-cluster-")
	if err != nil {
		return nil, nil, err
	}
	var procs []*exec.Cmd
	stop := func() {
		for _, p := range procs {
			_ = p.Process.Signal(os.Interrupt)
			_ = p.Wait()
		}
		_ = os.RemoveAll(dir)
	}
	var addrs []string
	for i := 0; i < 3; i++ {
		port, err := freePort()
		if err != nil {
			stop()
			return nil, nil, err
		}
		nodeDir := filepath.Join(dir, strconv.Itoa(port))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			stop()
			return nil, nil, err
		}
		p := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--dir", nodeDir, "--save", "", "--appendonly", "no")
		if err := p.Start(); err != nil {
			stop()
			return nil, nil, err
		}
		procs = append(procs, p)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, a := range addrs {
		if err := waitPort(a, 5*time.Second); err != nil {
			stop()
			return nil, nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		stop()
		return nil, nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.ClusterInfo(context.Background()).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return addrs, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("cluster not ok: %v %s", err, info)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitPort(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not open: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
