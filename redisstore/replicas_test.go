package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// startRedis starts a redis-server on a free port with args, stopped at the end of the
// test, and returns its address and process. It skips the test without redis-server.
func startRedis(t *testing.T, args ...string) (string, *exec.Cmd) {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--repl-diskless-sync-delay", "0", "--dir", t.TempDir()}, args...)
	p := exec.Command(server, all...)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Process.Signal(syscall.SIGCONT)
		_ = p.Process.Kill()
		_ = p.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitPort(addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return addr, p
}

// masterReplica starts a master and a replica of it and waits until the replica's link
// is up. It returns clients of both and the replica's process.
func masterReplica(t *testing.T) (master, replica *redis.Client, replicaProc *exec.Cmd) {
	t.Helper()
	maddr, _ := startRedis(t)
	raddr, rp := startRedis(t, "--replicaof", "127.0.0.1", strings.Split(maddr, ":")[1])
	master = redis.NewClient(&redis.Options{Addr: maddr})
	replica = redis.NewClient(&redis.Options{Addr: raddr})
	t.Cleanup(func() { _ = master.Close(); _ = replica.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, _ := replica.Info(context.Background(), "replication").Result()
		if strings.Contains(info, "master_link_status:up") {
			return master, replica, rp
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica link not up: %s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// onReplica reads field of signature id's record on the replica.
func onReplica(t *testing.T, s *Store, replica *redis.Client, id, field string) string {
	t.Helper()
	v, err := replica.HGet(context.Background(), s.SignatureKey(id), field).Result()
	if err != nil {
		t.Fatalf("replica HGET %s %s: %v", id, field, err)
	}
	return v
}

// TestReplicaAcks runs a Save, Start and Finish with WithReplicaAcks(1, 1s) on a real
// master and replica: each call returns only once the replica holds what it wrote.
// Then, with the replica stopped (SIGSTOP), a Finish returns ErrReplication within
// about the timeout, having applied on the master; a retry from another client (other
// connections) while the replica is still stopped does too (the barrier write: a
// "repeat" does not return before the earlier write is replicated); once the replica
// runs again the retry succeeds as a repeat, with no second effect.
func TestReplicaAcks(t *testing.T) {
	ctx := context.Background()
	master, replica, rp := masterReplica(t)
	s := New(master, WithReplicaAcks(1, time.Second))

	rec := newRec(t, "t", map[string]any{"a": 1})
	if err := s.SaveTree(ctx, []*Record{rec}); err != nil {
		t.Fatal(err)
	}
	if st := onReplica(t, s, replica, rec.ID, fStatus); st != string(flowtype.StatusPending) {
		t.Fatalf("replica after save: status %q", st)
	}
	if out, _, err := s.Start(ctx, rec.ID, "run1", 1); err != nil || out != Started {
		t.Fatalf("start: %v %v", out, err)
	}
	if st := onReplica(t, s, replica, rec.ID, fStatus); st != string(flowtype.StatusActive) {
		t.Fatalf("replica after start: status %q", st)
	}
	tr, err := s.Finish(ctx, rec.ID, "run1", json.RawMessage(`{"ok":1}`), nil)
	if err != nil || tr.Repeated {
		t.Fatalf("finish: %+v %v", tr, err)
	}
	if st := onReplica(t, s, replica, rec.ID, fStatus); st != string(flowtype.StatusDone) {
		t.Fatalf("replica after finish: status %q", st)
	}

	// A second signature started, then the replica stops before its Finish.
	rec2 := newRec(t, "t", nil)
	if err := s.SaveTree(ctx, []*Record{rec2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Start(ctx, rec2.ID, "run2", 1); err != nil {
		t.Fatal(err)
	}
	if err := rp.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = rp.Process.Signal(syscall.SIGCONT)
		}
	}()
	began := time.Now()
	_, err = s.Finish(ctx, rec2.ID, "run2", json.RawMessage(`2`), nil)
	took := time.Since(began)
	var re *ReplicationError
	if !errors.Is(err, ErrReplication) || !errors.As(err, &re) {
		t.Fatalf("finish with the replica stopped: %v, want ErrReplication", err)
	}
	if re.Wanted != 1 || re.Acked != 0 || re.Timeout != time.Second {
		t.Fatalf("ReplicationError %+v", re)
	}
	if errors.Is(err, ErrUnavailable) {
		t.Fatalf("a replication error is not ErrUnavailable: %v", err)
	}
	if took < 900*time.Millisecond || took > 4*time.Second {
		t.Fatalf("finish returned after %v, want about the 1 s timeout", took)
	}
	if !strings.Contains(err.Error(), "the write reached 0 of 1 replicas within 1s: a failover now could lose it") {
		t.Fatalf("message: %v", err)
	}
	if st, _ := master.HGet(ctx, s.SignatureKey(rec2.ID), fStatus).Result(); st != string(flowtype.StatusDone) {
		t.Fatalf("master after the unacknowledged finish: status %q, want done", st)
	}

	// Another client (its own connections, none of which made the write) retries:
	// the finish is a repeat on the master, but it is still not on the replica.
	other := redis.NewClient(&redis.Options{Addr: master.Options().Addr})
	defer other.Close()
	s2 := New(other, WithReplicaAcks(1, 300*time.Millisecond))
	if _, err := s2.Finish(ctx, rec2.ID, "run2", json.RawMessage(`2`), nil); !errors.Is(err, ErrReplication) {
		t.Fatalf("repeated finish from another connection while the replica is stopped: %v, want ErrReplication", err)
	}
	if err := s2.AwaitReplicas(ctx, rec2.ID); !errors.Is(err, ErrReplication) {
		t.Fatalf("AwaitReplicas while the replica is stopped: %v", err)
	}

	if err := rp.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	tr, err = s2.Finish(ctx, rec2.ID, "run2", json.RawMessage(`2`), nil)
	if err != nil {
		t.Fatalf("retried finish after the replica resumed: %v", err)
	}
	if !tr.Repeated || tr.Record.Status != flowtype.StatusDone || string(tr.Record.Result) != "2" {
		t.Fatalf("retried finish: repeated %v, %+v", tr.Repeated, tr.Record)
	}
	if st := onReplica(t, s, replica, rec2.ID, fStatus); st != string(flowtype.StatusDone) {
		t.Fatalf("replica after the retried finish: status %q", st)
	}
	if te, _ := replica.HGet(ctx, s.SignatureKey(rec2.ID), fEndedAt).Result(); te == "" {
		t.Fatal("replica has no end time")
	}
	if err := s.AwaitReplicas(ctx, rec2.ID); err != nil {
		t.Fatal(err)
	}
}

// TestReplicaAcksStart shows Start's ErrReplication carries what the master did, and
// that a second Start of the same attempt is not a no-op (it counts a call): callers
// wait with AwaitReplicas instead.
func TestReplicaAcksStart(t *testing.T) {
	ctx := context.Background()
	master, _, rp := masterReplica(t)
	// A generous timeout while the replica runs (a loaded machine), a short one once
	// it is stopped.
	s := New(master, WithReplicaAcks(1, 2*time.Second))
	rec := newRec(t, "t", nil)
	if err := s.SaveTree(ctx, []*Record{rec}); err != nil {
		t.Fatal(err)
	}
	if err := rp.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	out, got, err := New(master, WithReplicaAcks(1, 200*time.Millisecond)).StartWithInput(ctx, rec.ID, "run1", 1, nil, 1)
	_ = rp.Process.Signal(syscall.SIGCONT)
	if !errors.Is(err, ErrReplication) || out != Started || got == nil || got.RunID != "run1" {
		t.Fatalf("start with the replica stopped: %v %v %+v", out, err, got)
	}
	if err := s.AwaitReplicas(ctx, rec.ID); err != nil {
		t.Fatalf("AwaitReplicas once the replica runs: %v", err)
	}
	// What a blind retry would do: with maxCalls 1 the attempt is refused.
	if out, _, err := s.StartWithInput(ctx, rec.ID, "run1", 1, nil, 1); err != nil || out != Exhausted {
		t.Fatalf("second start: %v %v", out, err)
	}
}

// TestReplicaAcksPipelines covers the pipelined writes (SaveTree of a tree, Finish
// with containers, MarkDispatched, CancelMany, DeleteMany): each returns once the
// replica holds its writes, and each gives ErrReplication with the replica stopped.
func TestReplicaAcksPipelines(t *testing.T) {
	ctx := context.Background()
	master, replica, rp := masterReplica(t)
	s := New(master, WithReplicaAcks(1, 2*time.Second))
	var recs []*Record
	for range 20 {
		recs = append(recs, newRec(t, "t", map[string]any{"x": 1}))
	}
	if err := s.SaveTree(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if st := onReplica(t, s, replica, r.ID, fStatus); st != string(flowtype.StatusPending) {
			t.Fatalf("replica after SaveTree: %s %q", r.ID, st)
		}
	}
	if err := s.MarkDispatched(ctx, recs[0].ID, flowtype.OutcomeSuccess, map[string]string{recs[1].ID: "runX"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if v := onReplica(t, s, replica, recs[0].ID, markerPrefix+DispatchKey(flowtype.OutcomeSuccess, recs[1].ID)); v != "runX" {
		t.Fatalf("replica marker %q", v)
	}
	if n, err := s.CancelMany(ctx, []string{recs[2].ID, recs[3].ID}, "stop"); err != nil || n != 2 {
		t.Fatalf("CancelMany: %d %v", n, err)
	}
	if st := onReplica(t, s, replica, recs[3].ID, fStatus); st != string(flowtype.StatusCancelled) {
		t.Fatalf("replica after CancelMany: %q", st)
	}
	if _, _, err := s.Start(ctx, recs[4].ID, "r4", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Finish(ctx, recs[4].ID, "r4", json.RawMessage(`4`), &FinishOptions{Containers: []string{recs[5].ID}}); err != nil {
		t.Fatal(err)
	}
	if st := onReplica(t, s, replica, recs[4].ID, fStatus); st != string(flowtype.StatusDone) {
		t.Fatalf("replica after pipelined Finish: %q", st)
	}
	if err := s.DeleteMany(ctx, []string{recs[6].ID}); err != nil {
		t.Fatal(err)
	}
	if n, _ := replica.Exists(ctx, s.SignatureKey(recs[6].ID)).Result(); n != 0 {
		t.Fatal("replica still has the deleted record")
	}

	if err := rp.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rp.Process.Signal(syscall.SIGCONT) }()
	s = New(master, WithReplicaAcks(1, 300*time.Millisecond))
	if err := s.SaveTree(ctx, []*Record{newRec(t, "t", nil)}); !errors.Is(err, ErrReplication) {
		t.Fatalf("SaveTree with the replica stopped: %v", err)
	}
	if _, _, err := s.Start(ctx, recs[7].ID, "r7", 1); !errors.Is(err, ErrReplication) {
		t.Fatalf("Start: %v", err)
	}
	if _, err := s.Finish(ctx, recs[7].ID, "r7", json.RawMessage(`7`), &FinishOptions{Containers: []string{recs[5].ID}}); !errors.Is(err, ErrReplication) {
		t.Fatalf("pipelined Finish: %v", err)
	}
	if _, err := s.CancelMany(ctx, []string{recs[8].ID}, "stop"); !errors.Is(err, ErrReplication) {
		t.Fatalf("CancelMany: %v", err)
	}
	// Reads do not wait.
	began := time.Now()
	if _, err := s.Get(ctx, recs[8].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, ListQuery{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 200*time.Millisecond {
		t.Fatalf("reads took %v with the replica stopped", d)
	}
}

// TestReplicaAcksLatency measures the median of a Start+Finish pair with acks off and
// on against a local master and replica (run with -v and HF_ACK_LATENCY=1).
func TestReplicaAcksLatency(t *testing.T) {
	if os.Getenv("HF_ACK_LATENCY") == "" {
		t.Skip("set HF_ACK_LATENCY=1 to measure")
	}
	ctx := context.Background()
	master, _, _ := masterReplica(t)
	for _, acks := range []int{0, 1} {
		s := New(master, WithReplicaAcks(acks, time.Second))
		const n = 500
		recs := make([]*Record, n)
		for i := range recs {
			recs[i] = newRec(t, "t", map[string]any{"i": i})
		}
		if err := s.SaveTree(ctx, recs); err != nil {
			t.Fatal(err)
		}
		d := make([]time.Duration, n)
		for i, r := range recs {
			began := time.Now()
			if _, _, err := s.Start(ctx, r.ID, "run", 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Finish(ctx, r.ID, "run", json.RawMessage(`1`), nil); err != nil {
				t.Fatal(err)
			}
			d[i] = time.Since(began)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		t.Logf("acks %d: Start+Finish median %v, p90 %v (n=%d)", acks, d[n/2], d[n*9/10], n)
	}
}

// TestReplicaAcksClusterRouting runs acknowledged writes on the test Cluster (three
// masters, no replicas; HATCHETFLOW_INTEGRATION=1): with WithReplicaAcks(1, ...) every
// write applies and returns ErrReplication with 0 acknowledgements, and WAIT (with the
// barrier SET) reaches exactly the masters that own the written keys, once per master
// for a pipeline (INFO commandstats), not an arbitrary node.
func TestReplicaAcksClusterRouting(t *testing.T) {
	addrs, ok := clusterAddrs(t)
	if !ok {
		t.Skip("Redis Cluster not enabled (HATCHETFLOW_INTEGRATION=1 and redis-server)")
	}
	ctx := context.Background()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	s := New(cc, WithPrefix(fmt.Sprintf("hfacks%d", time.Now().UnixNano())), WithReplicaAcks(1, 100*time.Millisecond))
	waits := func() map[string]int {
		out := map[string]int{}
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			info, _ := n.Info(ctx, "commandstats").Result()
			for _, line := range strings.Split(info, "\n") {
				if strings.HasPrefix(line, "cmdstat_wait:calls=") {
					v := strings.TrimPrefix(line, "cmdstat_wait:calls=")
					c, _ := strconv.Atoi(v[:strings.IndexByte(v, ',')])
					out[n.Options().Addr] = c
				}
			}
			return nil
		})
		return out
	}
	reset := func() {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.ConfigResetStat(ctx).Err() })
	}
	owner := func(id string) string {
		n, err := cc.MasterForKey(ctx, s.SignatureKey(id))
		if err != nil {
			t.Fatal(err)
		}
		return n.Options().Addr
	}

	// A pipeline of records on every shard: one WAIT per master it touched.
	var recs []*Record
	touched := map[string]bool{}
	for range 32 {
		r := newRec(t, "t", nil)
		recs = append(recs, r)
		touched[owner(r.ID)] = true
	}
	if err := s.LoadScripts(ctx); err != nil { // else NOSCRIPT sends the pipeline twice
		t.Fatal(err)
	}
	reset()
	err := s.SaveTree(ctx, recs)
	var re *ReplicationError
	if !errors.As(err, &re) || re.Acked != 0 || re.Wanted != 1 {
		t.Fatalf("SaveTree on a replica-less Cluster: %v, want a ReplicationError 0 of 1", err)
	}
	got := waits()
	for addr := range touched {
		if got[addr] != 1 {
			t.Fatalf("WAIT calls per master after SaveTree: %v, want 1 on each of %v", got, touched)
		}
	}
	if len(got) != len(touched) {
		t.Fatalf("WAIT calls per master after SaveTree: %v, want only %v", got, touched)
	}
	for _, r := range recs {
		if n, _ := cc.Exists(ctx, s.SignatureKey(r.ID)).Result(); n != 1 {
			t.Fatalf("record %s not written", r.ID)
		}
	}

	// A single transition: WAIT on its key's master only.
	for _, r := range recs[:4] {
		reset()
		if _, _, err := s.Start(ctx, r.ID, "run", 1); !errors.Is(err, ErrReplication) {
			t.Fatalf("Start: %v", err)
		}
		if got := waits(); len(got) != 1 || got[owner(r.ID)] != 1 {
			t.Fatalf("WAIT calls after one Start: %v, want 1 on %s", got, owner(r.ID))
		}
	}

	_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		it := n.Scan(ctx, 0, s.prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			n.Del(ctx, it.Val())
		}
		return nil
	})

}
