package faultsuite_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// sentinelSet is a Redis master, its replica and one Sentinel watching them, started
// from Debian's redis-server (in Sentinel mode for the Sentinel), each keeping nothing
// on disk.
type sentinelSet struct {
	master, replica, sentinel int
}

const sentinelMaster = "hfmaster"

func startSentinelSet(t *testing.T) *sentinelSet {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: the failover scenario starts its own Redis")
	}
	dir := t.TempDir()
	s := &sentinelSet{master: freePort(t), replica: freePort(t), sentinel: freePort(t)}
	start := func(args ...string) {
		cmd := exec.Command(server, args...)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	}
	common := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"}
	start(append([]string{"--port", strconv.Itoa(s.master)}, common...)...)
	start(append([]string{"--port", strconv.Itoa(s.replica), "--replicaof", "127.0.0.1", strconv.Itoa(s.master)}, common...)...)
	conf := filepath.Join(dir, "sentinel.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
		"sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 1000\n"+
		"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
		s.sentinel, dir, sentinelMaster, s.master, sentinelMaster, sentinelMaster, sentinelMaster)), 0o600))
	start(conf, "--sentinel")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.sentinel)})
	defer sc.Close()
	for {
		replicas, err := sc.Replicas(ctx, sentinelMaster).Result()
		if err == nil && len(replicas) == 1 && replicas[0]["flags"] == "slave" && replicas[0]["master-link-status"] == "ok" {
			return s
		}
		if ctx.Err() != nil {
			t.Fatalf("Sentinel never saw the replica: %v %v", replicas, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *sentinelSet) url() string {
	return fmt.Sprintf("redis-sentinel://127.0.0.1:%d/%s", s.sentinel, sentinelMaster)
}

// failover makes the Sentinel promote the replica and waits until it names it master.
func (s *sentinelSet) failover(ctx context.Context, t *testing.T) {
	t.Helper()
	sc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.sentinel)})
	defer sc.Close()
	// The Sentinel refuses a failover (NOGOODSLAVE) until it has seen the replica in
	// sync in its own checks: ask again for a while.
	for {
		err := sc.Failover(ctx, sentinelMaster).Err()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "NOGOODSLAVE") || ctx.Err() != nil {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		addr, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(s.replica) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the replica was never promoted: %v %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// r. Redis fails over under running flows: signatures live on a Redis master watched
// by Sentinel, the worker and the producer reach it through Sentinel, and while eight
// flows run their tasks (1.5 s each) the Sentinel promotes the replica. Writes to the
// old master during the switch fail (READONLY, connection errors), the steps retry
// them (WithStepRetryTime) against the new master, and every flow finishes: each user
// function and each callback once, nothing left running, and nothing lost that had
// been replicated before the switch (on loopback the replica is current).
func TestRedisFailoverUnderRunningFlows(t *testing.T) {
	set := startSentinelSet(t)
	s := newSuite(t, "r. Redis Sentinel failover under running flows", suiteOpt{redisURL: set.url()})
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal)
	const n = 8
	s.row.Runs = n
	var ids []string
	want := map[string]map[string]int{fs.TaskOnSuccess: {}}
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: id, SleepMS: 1500}).SignatureID())
		want[fs.TaskOnSuccess][id+"/s1"], want[fs.TaskOnSuccess][id+"/s2"] = 1, 1
	}
	s.waitCount(ctx, fs.TaskMain, n)
	began := time.Now()
	set.failover(ctx, t)
	t.Logf("failover took %v", time.Since(began).Round(time.Millisecond))
	s.settle(ctx, ids...)
	t.Logf("failover started → every flow settled: %v", time.Since(began).Round(time.Millisecond))
	s.expect(ctx, want)
	for i := range n {
		s.expectMain(ctx, fs.TaskMain, fmt.Sprintf("r%d", i), 1)
	}
	for _, id := range ids {
		rec, err := s.c.Signature(ctx, id)
		must(t, err)
		if rec.Status != flowtype.StatusDone {
			t.Errorf("%s: %s, want done", id, rec.Status)
		}
	}
	role, err := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", set.master)}).Do(ctx, "ROLE").Slice()
	if err == nil && len(role) > 0 && !strings.EqualFold(fmt.Sprint(role[0]), "slave") {
		t.Logf("the old master's role after the failover: %v", role[0])
	}
	s.row.Note = "the replica promoted while tasks ran; steps retried against the new master"
}
