package faultsuite_test

import (
	"context"
	"errors"
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
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

// sentinelSet is a Redis master, its replicas and one Sentinel watching them, started
// from Debian's redis-server (in Sentinel mode for the Sentinel), each keeping nothing
// on disk.
type sentinelSet struct {
	master, sentinel int
	replicas         []int
	promoted         int // the replica the Sentinel promoted (after failover)
	dir              string
}

const sentinelMaster = "hfmaster"

func startSentinelSet(t *testing.T, replicas int) *sentinelSet {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: the failover scenario starts its own Redis")
	}
	dir := t.TempDir()
	s := &sentinelSet{master: freePort(t), sentinel: freePort(t)}
	for range replicas {
		s.replicas = append(s.replicas, freePort(t))
	}
	start := func(args ...string) {
		cmd := exec.Command(server, args...)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	}
	// No diskless-sync delay: the replica's first sync starts at once (by default the
	// master waits 5 s for more replicas, and a Sentinel will promote a replica whose
	// first sync has not finished: an empty one).
	common := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
		"--repl-diskless-sync-delay", "0"}
	s.dir = dir
	start(append([]string{"--port", strconv.Itoa(s.master), "--logfile", filepath.Join(dir, "master.log")}, common...)...)
	for i, port := range s.replicas {
		start(append([]string{"--port", strconv.Itoa(port), "--logfile", filepath.Join(dir, fmt.Sprintf("replica%d.log", i)),
			"--replicaof", "127.0.0.1", strconv.Itoa(s.master)}, common...)...)
	}
	conf := filepath.Join(dir, "sentinel.conf")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
		"logfile sentinel.log\nsentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 1000\n"+
		"sentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
		s.sentinel, dir, sentinelMaster, s.master, sentinelMaster, sentinelMaster, sentinelMaster)), 0o600))
	start(conf, "--sentinel")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.sentinel)})
	defer sc.Close()
	for {
		seen, err := sc.Replicas(ctx, sentinelMaster).Result()
		ok := err == nil && len(seen) == len(s.replicas)
		for _, r := range seen {
			ok = ok && r["flags"] == "slave" && r["master-link-status"] == "ok"
		}
		if ok {
			return s
		}
		if ctx.Err() != nil {
			t.Fatalf("Sentinel never saw the replicas: %v %v", seen, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *sentinelSet) url() string {
	return fmt.Sprintf("redis-sentinel://127.0.0.1:%d/%s", s.sentinel, sentinelMaster)
}

// replication returns a server's INFO replication fields.
func replication(ctx context.Context, port int) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, l := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// describe is one server's role, replication offset, key count and whether key exists.
func describe(ctx context.Context, port int, key string) string {
	fields, err := replication(ctx, port)
	if err != nil {
		return err.Error()
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	n, _ := c.DBSize(ctx).Result()
	ex, _ := c.Exists(ctx, key).Result()
	return fmt.Sprintf("role=%s link=%s offset=%s dbsize=%d exists(%s)=%d",
		fields["role"], fields["master_link_status"], fields["master_repl_offset"], n, key, ex)
}

// failover makes the Sentinel promote a replica at once (no wait for it to catch up)
// and waits until the Sentinel names it master.
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
		if err == nil && len(addr) == 2 {
			for _, port := range s.replicas {
				if addr[1] == strconv.Itoa(port) {
					s.promoted = port
					return
				}
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the replica was never promoted: %v %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// r. Redis fails over under running flows: signatures live on a Redis master watched
// by Sentinel with one replica, the worker and the producer reach it through Sentinel
// with hatchetflow.WithReplicaAcks(1, 500ms), and while eight flows run their tasks
// (1.5 s each) the Sentinel promotes the replica at once (no wait for it to catch up).
// Every write hatchetflow was told had succeeded was on the replica, so every flow
// finishes with each callback once, none lost. Writes the demoted master takes after
// the promotion (clients switch within a second or so) get no replica's
// acknowledgement, fail with ErrReplication, and are retried against the new master.
//
// Without replica acks this scenario loses writes (seen on 6 December: the eight
// flows' Finish transitions landed on the demoted master, their callbacks ran, and the
// promoted master still had the signatures active); docs/deploy.md.
func TestRedisFailoverUnderRunningFlows(t *testing.T) {
	const acks, ackTimeout = 1, 500 * time.Millisecond
	set := startSentinelSet(t, 1)
	s := newSuite(t, "r. Redis Sentinel failover under running flows (replica acks on)", suiteOpt{
		redisURL: set.url(),
		client:   []hatchetflow.Option{hatchetflow.WithReplicaAcks(acks, ackTimeout)},
	})
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal, "-replica-acks", strconv.Itoa(acks), "-replica-ack-timeout", ackTimeout.String())
	const n = 8
	s.row.Runs = n
	var ids []string
	for i := range n {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, s.run(ctx, sig(fs.TaskMain), fs.MainIn{ID: id, SleepMS: 1500}).SignatureID())
	}
	s.waitCount(ctx, fs.TaskMain, n)
	began := time.Now()
	set.failover(ctx, t)
	t.Logf("failover took %v to :%d", time.Since(began).Round(time.Millisecond), set.promoted)
	s.settle(ctx, ids...)
	settled := time.Since(began)
	t.Logf("failover started → every flow settled or gone: %v", settled.Round(time.Millisecond))
	time.Sleep(2 * time.Second) // a duplicate would have run by now
	success, failure := s.counts(ctx, fs.TaskOnSuccess), s.counts(ctx, fs.TaskOnError)
	finished, lost := 0, 0
	for i, sid := range ids {
		id := fmt.Sprintf("r%d", i)
		s.expectMain(ctx, fs.TaskMain, id, 1)
		if failure[id+"/e1"]+failure[id+"/e2"] != 0 {
			t.Errorf("%s: an error callback ran for a task that succeeded", id)
		}
		rec, err := s.c.Signature(ctx, sid)
		switch {
		case errors.Is(err, hatchetflow.ErrSignatureNotFound):
			lost++
			if success[id+"/s1"]+success[id+"/s2"] != 0 {
				t.Errorf("%s: reported lost, yet success callbacks ran %d+%d times", id, success[id+"/s1"], success[id+"/s2"])
			}
		case err != nil:
			t.Fatal(err)
		default:
			finished++
			if rec.Status != flowtype.StatusDone || success[id+"/s1"] != 1 || success[id+"/s2"] != 1 {
				t.Errorf("%s: %s with success callbacks %d+%d times, want done and once each", id, rec.Status, success[id+"/s1"], success[id+"/s2"])
			}
		}
	}
	t.Logf("%d flows finished (each callback once), %d reported lost (signature not found, no callback)", finished, lost)
	if lost > 0 {
		for _, port := range append([]int{set.master}, set.replicas...) {
			t.Logf("redis :%d %s", port, describe(ctx, port, s.m.Store.SignatureKey(ids[0])))
		}
		logs, _ := filepath.Glob(filepath.Join(set.dir, "*.log"))
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			t.Logf("%s:\n%s", filepath.Base(f), b)
		}
		// Every write acknowledged to hatchetflow was on a replica: losing one is a
		// defect, not replication lag.
		t.Errorf("%d flows lost although every acknowledged write was on a replica", lost)
	}
	s.row.Expected, s.row.Observed = 2*finished, sum(success)
	s.row.Exact = !t.Failed()
	s.row.Note = fmt.Sprintf("WithReplicaAcks(%d, %v), failover at once: %d of %d flows finished, each callback once, %d lost; settled %v after the failover began",
		acks, ackTimeout, finished, n, lost, settled.Round(100*time.Millisecond))
}
