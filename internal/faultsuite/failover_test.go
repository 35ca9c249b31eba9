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
// flows run their tasks (1.5 s each) the Sentinel promotes the replica. A flow whose
// records reached the promoted replica finishes: each callback once. A flow whose
// records did not (replication is asynchronous; CI saw whole runs of them lost, the
// old master's clients reading it mid-resync) is reported lost, not settled wrongly:
// its signature reads "not found", its worker logged that the signature vanished while
// its run was active, and none of its callbacks ran. No flow has a callback twice, or
// a callback of the branch that did not run.
func TestRedisFailoverUnderRunningFlows(t *testing.T) {
	set := startSentinelSet(t)
	s := newSuite(t, "r. Redis Sentinel failover under running flows", suiteOpt{redisURL: set.url()})
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal)
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
	t.Logf("failover took %v", time.Since(began).Round(time.Millisecond))
	s.settle(ctx, ids...)
	t.Logf("failover started → every flow settled or gone: %v", time.Since(began).Round(time.Millisecond))
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
	s.row.Expected, s.row.Observed = 2*finished, sum(success)
	s.row.Exact = !t.Failed()
	s.row.Note = fmt.Sprintf("%d finished once, %d lost to asynchronous replication and reported not found", finished, lost)
}
