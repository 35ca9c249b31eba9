package faultsuite_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
)

var (
	buildOnce sync.Once
	workerBin string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	if enginetest.Enabled() {
		buildWorker() // up front, so no scenario's duration includes the build
	}
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// workerBinary builds the child worker once per test binary.
func workerBinary(t *testing.T) string {
	t.Helper()
	buildWorker()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return workerBin
}

func buildWorker() {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hffs-worker-")
		if buildErr != nil {
			return
		}
		workerBin = filepath.Join(buildDir, "worker")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		cmd := exec.Command(goBin, "build", "-o", workerBin, "github.com/hatchetflow/go/internal/cmd/faultworker")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build worker: %v\n%s", err, out)
		}
	})
}

// suite is one scenario: its own Hatchet namespace, key prefix and child workers.
type suite struct {
	t        *testing.T
	hc       *hatchet.Client
	c        *hatchetflow.Client // the producer side, on the signatures' Redis
	m        engine.Machinery    // c's store and dispatcher
	rdb      *redis.Client       // signatures (may be a Redis of the test's own)
	crdb     *redis.Client       // counters: the shared Redis
	redisURL string
	countURL string
	prefix   string
	row      fs.Row
	start    time.Time
	workers  []*worker
	mu       sync.Mutex
	// workerEnv is added to the environment of the workers started next (a scenario
	// points some at a second engine).
	workerEnv []string
}

type suiteOpt struct {
	redisURL string // signatures' Redis; default REDIS_URL
	client   []hatchetflow.Option
}

func newSuite(t *testing.T, scenario string, o suiteOpt) *suite {
	t.Helper()
	hc := enginetest.Client(t) // skips unless HATCHETFLOW_INTEGRATION=1
	countURL := os.Getenv("REDIS_URL")
	if countURL == "" {
		t.Fatal("the fault suite needs REDIS_URL (make test sets it)")
	}
	if o.redisURL == "" {
		o.redisURL = countURL
	}
	s := &suite{t: t, hc: hc, redisURL: o.redisURL, countURL: countURL,
		prefix: "hffs-" + enginetest.Namespace(), start: time.Now()}
	s.row = fs.Row{Scenario: scenario, Test: t.Name(), KeysNoTTL: -1}
	// Registered first, so it runs last: the outcome is known by then.
	t.Cleanup(func() {
		s.row.Passed = !t.Failed()
		s.row.Seconds = time.Since(s.start).Seconds()
		if err := fs.AppendRow(s.row); err != nil {
			t.Logf("report row: %v", err)
		}
	})
	s.crdb = mustRedis(t, countURL)
	s.rdb = mustRedis(t, o.redisURL)
	c, err := hatchetflow.New(hc, s.rdb, append([]hatchetflow.Option{hatchetflow.WithKeyPrefix(s.prefix), engine.Expose(&s.m)}, o.client...)...)
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	t.Cleanup(func() { // leave no keys behind on the shared Redis
		bg, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, rdb := range []*redis.Client{s.rdb, s.crdb} {
			iter := rdb.Scan(bg, 0, s.prefix+":*", 1000).Iterator()
			for iter.Next(bg) {
				rdb.Del(bg, iter.Val())
			}
		}
	})
	return s
}

func mustRedis(t *testing.T, url string) *redis.Client {
	t.Helper()
	rdb, err := fs.NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// worker is a child worker process.
type worker struct {
	name    string
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *lockedBuffer
	started time.Time
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startWorker starts a child worker in mode with extra flags and waits until it is
// registered with the engine.
func (s *suite) startWorker(name, mode string, flags ...string) *worker {
	s.t.Helper()
	return s.startWorkerBinary(workerBinary(s.t), name, mode, flags...)
}

// startWorkerBinary starts the worker built as bin (this tree's, or an earlier
// commit's: see oldWorkerBinary).
func (s *suite) startWorkerBinary(bin, name, mode string, flags ...string) *worker {
	t := s.t
	t.Helper()
	args := append([]string{"-redis", s.redisURL, "-count-redis", s.countURL, "-prefix", s.prefix,
		"-name", name, "-mode", mode}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), s.workerEnv...) // includes this test's HATCHET_CLIENT_NAMESPACE
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	w := &worker{name: name, cmd: cmd, exited: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = w.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(w.exited) }()
	s.mu.Lock()
	s.workers = append(s.workers, w)
	s.mu.Unlock()
	t.Cleanup(func() {
		w.stop()
		if t.Failed() || os.Getenv("HFFS_LOGS") == "1" {
			t.Logf("--- worker %s log (tail) ---\n%s", name, tail(w.stderr.String(), 60))
		}
	})
	select {
	case <-ready:
	case <-w.exited:
		t.Fatalf("worker %s exited before it was ready: %v\n%s", name, cmd.ProcessState, tail(w.stderr.String(), 40))
	case <-time.After(90 * time.Second):
		t.Fatalf("worker %s not ready after 90 s\n%s", name, tail(w.stderr.String(), 40))
	}
	w.started = time.Now()
	t.Logf("worker %s (%s) ready in %v", name, mode, w.started.Sub(begin).Round(time.Millisecond))
	return w
}

// kill SIGKILLs the worker and waits for it to be gone.
func (w *worker) kill(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("worker %s still alive after SIGKILL", w.name)
	}
}

// waitExit waits for the worker to end by itself (a crash mode kills itself).
func (w *worker) waitExit(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-w.exited:
	case <-time.After(d):
		t.Fatalf("worker %s did not crash within %v\n%s", w.name, d, tail(w.stderr.String(), 40))
	}
	if ws, ok := w.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("worker %s ended with %v, want SIGKILL\n%s", w.name, w.cmd.ProcessState, tail(w.stderr.String(), 40))
	}
}

// stop ends the worker gracefully (SIGTERM), then with SIGKILL.
func (w *worker) stop() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(15 * time.Second):
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.exited
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run saves and dispatches b with input.
func (s *suite) run(ctx context.Context, b dsl.Builder, input any) dsl.Handle {
	s.t.Helper()
	h, err := b.Run(ctx, s.c, input)
	if err != nil {
		s.t.Fatalf("run %s: %v", b.Task(), err)
	}
	return h
}

// counts reads task's counter hash: field → executions.
func (s *suite) counts(ctx context.Context, task string) map[string]int {
	s.t.Helper()
	m, err := s.crdb.HGetAll(ctx, fs.Counter(s.prefix, task)).Result()
	if err != nil {
		s.t.Fatal(err)
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		var n int
		_, _ = fmt.Sscan(v, &n)
		out[k] = n
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// waitCount waits until task's counter has at least n executions in total.
func (s *suite) waitCount(ctx context.Context, task string, n int) {
	s.t.Helper()
	for {
		if ctx.Err() != nil {
			// Counted on a live context: the test's own has ended.
			s.t.Fatalf("%s ran %d times, waited for %d: %v", task, sum(s.counts(context.WithoutCancel(ctx), task)), n, ctx.Err())
		}
		if sum(s.counts(ctx, task)) >= n {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// settle waits until every signature of the trees under ids ended: from then on no
// callback can run its user code again (a duplicate run cannot pass its signature's
// pending→active check), so the counters are final.
func (s *suite) settle(ctx context.Context, ids ...string) {
	s.t.Helper()
	var last []string
	for {
		pending, err := s.pending(ctx, ids)
		if err == nil && len(pending) == 0 {
			return
		}
		if err == nil {
			last = pending
		}
		if ctx.Err() != nil {
			if len(last) > 5 {
				last = append(last[:5], fmt.Sprintf("... %d in all", len(last)))
			}
			s.t.Fatalf("signatures still running: %v (last error %v)", last, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pending walks the trees level by level, one pipelined read per level, and returns
// the signatures still pending or active on the branch that runs.
func (s *suite) pending(ctx context.Context, ids []string) ([]string, error) {
	var pending []string
	for len(ids) > 0 {
		var next []string
		for start := 0; start < len(ids); start += 500 {
			batch := ids[start:min(start+500, len(ids))]
			recs, err := s.m.Store.GetMany(ctx, batch)
			if err != nil {
				return nil, err
			}
			for _, id := range batch {
				rec := recs[id]
				switch {
				case rec == nil: // expired or deleted: nothing can run it
				case rec.Status == flowtype.StatusDone:
					for _, cb := range rec.OnSuccess {
						next = append(next, cb.ID)
					}
				case rec.Status == flowtype.StatusFailed:
					for _, cb := range rec.OnError {
						next = append(next, cb.ID)
					}
					for _, cb := range rec.ChainErrors {
						next = append(next, cb.ID)
					}
				default:
					pending = append(pending, fmt.Sprintf("%s(%s %s)", rec.Task, rec.ID, rec.Status))
				}
			}
		}
		ids = next
	}
	return pending, nil
}

// finish waits until the engine run of h is done and its signature tree settled, and
// returns the run's status.
func (s *suite) finish(ctx context.Context, h dsl.Handle) rest.V1TaskStatus {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 75*time.Second)
	defer cancel()
	st := s.runStatus(ctx, h.RunID())
	s.settle(ctx, h.SignatureID())
	return st
}

// runStatus waits until the engine run is done and returns its status.
func (s *suite) runStatus(ctx context.Context, runID string) rest.V1TaskStatus {
	s.t.Helper()
	id := uuid.MustParse(runID)
	for {
		det, err := s.hc.Runs().GetDetails(ctx, id)
		if err == nil && det.Done {
			return det.Status
		}
		if ctx.Err() != nil {
			s.t.Fatalf("run %s not done: %v (%v)", runID, ctx.Err(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expect checks the callback counters against want (task → field → executions;
// fields not listed must not have run), after a quiet second in which a late
// duplicate would show. It fills the report row's callback columns.
func (s *suite) expect(ctx context.Context, want map[string]map[string]int) {
	s.t.Helper()
	time.Sleep(time.Second)
	exact := true
	for _, task := range []string{fs.TaskOnSuccess, fs.TaskOnError, fs.TaskOnErrorAny, taskSwarmDone, fs.TaskDAGDone} {
		got := s.counts(ctx, task)
		w := want[task]
		s.row.Expected += sum(w)
		s.row.Observed += sum(got)
		var bad []string
		for f, n := range w {
			if got[f] != n {
				bad = append(bad, fmt.Sprintf("%s ran %d times, want %d", f, got[f], n))
			}
		}
		for f, n := range got {
			if _, ok := w[f]; !ok {
				bad = append(bad, fmt.Sprintf("%s ran %d times, want 0", f, n))
			}
		}
		if len(bad) > 0 {
			exact = false
			sort.Strings(bad)
			if len(bad) > 10 {
				bad = append(bad[:10], fmt.Sprintf("... %d in all", len(bad)))
			}
			s.t.Errorf("%s: %s", task, strings.Join(bad, "; "))
		}
	}
	s.row.Exact = exact
}

// expectMain checks the main task's executions of id.
func (s *suite) expectMain(ctx context.Context, task, id string, want int) {
	s.t.Helper()
	if got := s.counts(ctx, task)[id]; got != want {
		s.t.Errorf("%s(%s) user code ran %d times, want %d", task, id, got, want)
	}
}

// checkTTLs fails the test for any key under the prefix without a TTL, the task
// registry excepted, on both Redis servers, and reports the count.
func (s *suite) checkTTLs(ctx context.Context) {
	s.t.Helper()
	var noTTL []string
	seen := map[*redis.Client]bool{}
	for _, rdb := range []*redis.Client{s.rdb, s.crdb} {
		if seen[rdb] || rdb.Options().Addr == "" {
			continue
		}
		seen[rdb] = true
		keys, err := noTTLKeys(ctx, rdb, s.prefix+":*", s.m.Store.RegistryKey())
		if err != nil {
			s.t.Fatal(err)
		}
		noTTL = append(noTTL, keys...)
	}
	s.row.KeysNoTTL = len(noTTL)
	if len(noTTL) > 0 {
		s.t.Errorf("%d keys without TTL: %v", len(noTTL), noTTL[:min(len(noTTL), 10)])
	}
}

func noTTLKeys(ctx context.Context, rdb *redis.Client, pattern, except string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, err
	}
	var out []string
	for start := 0; start < len(keys); start += 500 {
		batch := keys[start:min(start+500, len(keys))]
		cmds := make([]*redis.DurationCmd, len(batch))
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range batch {
				cmds[i] = p.PTTL(ctx, k)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for i, k := range batch {
			// -1: no TTL (go-redis reports it as a -1 ns duration).
			if cmds[i].Val() == -1 && k != except {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// countKeys counts the keys under the prefix on the signatures' Redis, the registry
// the counters and the shards' indexes excepted.
func (s *suite) countKeys(ctx context.Context) int {
	s.t.Helper()
	n := 0
	iter := s.rdb.Scan(ctx, 0, s.prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if k == s.m.Store.RegistryKey() || strings.HasPrefix(k, s.prefix+":count:") ||
			strings.HasPrefix(k, s.prefix+":who:") || strings.HasPrefix(k, s.prefix+":faults:") ||
			strings.Contains(k, "}:ix:") { // a shard's indexes: shared by many records
			continue
		}
		n++
	}
	if err := iter.Err(); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// sig is the standard tree: main task with two tagged success callbacks and two
// tagged error callbacks.
func sig(task string) dsl.Builder {
	return dsl.Sign(task).
		OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s1"}), dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s2"})).
		OnError(dsl.Sign(fs.TaskOnError).With(dsl.KW{"tag": "e1"}), dsl.Sign(fs.TaskOnError).With(dsl.KW{"tag": "e2"}))
}

// successOnly and errorOnly are the expected counters of sig for one id.
func successOnly(id string) map[string]map[string]int {
	return map[string]map[string]int{fs.TaskOnSuccess: {id + "/s1": 1, id + "/s2": 1}}
}

func errorOnly(id string) map[string]map[string]int {
	return map[string]map[string]int{fs.TaskOnError: {id + "/e1": 1, id + "/e2": 1}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// settleChain waits until chain id ended and every signature under its steps settled,
// and returns its state.
func (s *suite) settleChain(ctx context.Context, id string) *hatchetflow.ChainState {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		st, err := s.c.Chain(ctx, id)
		if err == nil && (st.Status == hatchetflow.StatusDone || st.Status == hatchetflow.StatusFailed) {
			var ids []string // steps after a failed one never run: they stay pending
			for _, step := range st.Steps[:st.Current+1] {
				ids = append(ids, step.ID)
			}
			s.settle(ctx, ids...)
			return st
		}
		if ctx.Err() != nil {
			s.t.Fatalf("chain %s not done: %+v (%v)", id, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
