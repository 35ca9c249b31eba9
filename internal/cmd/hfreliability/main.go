// Command hfreliability runs hatchetflow's fault-injection suite (internal/faultsuite)
// against the local Hatchet engine and Redis, a given number of times in a row, and
// writes the results to docs/reliability.md: per scenario, how many suite runs passed,
// how many signature trees it ran, how many callback executions were expected and
// observed, whether each callback ran exactly as often as expected, and how many keys
// were left without a TTL. With -fuzztime it also runs each fuzz target that long.
//
// It needs the stack's environment (HATCHET_CLIENT_TOKEN, REDIS_URL...):
//
//	scripts/stack up && set -a && . .state/env && set +a
//	go run ./internal/cmd/hfreliability -count 3
//
// `make reliability` does both. The exit code is 1 when any suite run failed.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hatchetflow/go/internal/faultsuite"
)

// suites are the go test runs of one suite run: the fault suite, and the engine
// tests of package hatchetflow that prove exactly once against engine faults (they
// append rows too).
var suites = []struct{ pkg, run string }{
	{"./internal/faultsuite/...", ""},
	{"./hatchetflow/", "^TestEngine(RetryBudgetUnderMixedFailures|QueuedRunCancelIsSettled|PlainTaskSettledByEngineVerdict|StaleCancelDoesNotReachTheRetry)$"},
}

// fuzzTargets are the fuzz tests run with -fuzztime.
var fuzzTargets = []struct{ pkg, name string }{
	{"./inject/", "FuzzDecode"},
	{"./inject/", "FuzzMerge"},
	{"./inject/", "FuzzValidate"},
	{"./hatchetflow/", "FuzzRunInput"},
}

func main() {
	var (
		count    = flag.Int("count", 1, "how many times to run the suite in a row")
		out      = flag.String("out", "docs/reliability.md", "report to write")
		run      = flag.String("run", "", "only tests matching this regexp (go test -run)")
		timeout  = flag.Duration("timeout", 15*time.Minute, "go test -timeout of one suite run")
		fuzztime = flag.Duration("fuzztime", 0, "also run each fuzz target this long (0: skip)")
	)
	flag.Parse()
	if err := check(); err != nil {
		fmt.Fprintln(os.Stderr, "hfreliability:", err)
		os.Exit(2)
	}
	rep := &report{Count: *count, Started: time.Now()}
	for i := 1; i <= *count; i++ {
		sr, err := runSuite(i, *count, *run, *timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hfreliability:", err)
			os.Exit(2)
		}
		rep.Suites = append(rep.Suites, sr)
	}
	if *fuzztime > 0 {
		for _, ft := range fuzzTargets {
			rep.Fuzz = append(rep.Fuzz, runFuzz(ft.pkg, ft.name, *fuzztime))
		}
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "hfreliability:", err)
		os.Exit(2)
	}
	if err := os.WriteFile(*out, []byte(rep.markdown()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "hfreliability:", err)
		os.Exit(2)
	}
	passed := rep.passedSuites()
	fmt.Fprintf(os.Stderr, "hfreliability: %d/%d suite runs passed; wrote %s\n", passed, len(rep.Suites), *out)
	if passed != len(rep.Suites) || !rep.fuzzOK() {
		os.Exit(1)
	}
}

func check() error {
	var missing []string
	for _, v := range []string{"HATCHET_CLIENT_TOKEN", "REDIS_URL"} {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not set: run `make reliability`, or `scripts/stack up` then `set -a; . .state/env; set +a`",
			strings.Join(missing, ", "))
	}
	return nil
}

// suiteRun is one `go test` of the suite.
type suiteRun struct {
	N       int
	Passed  bool
	Wall    time.Duration
	Tests   map[string]string // test → pass, fail, skip
	Rows    []faultsuite.Row
	Failure string // output of failed tests, trimmed
}

type testEvent struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func runSuite(n, of int, pattern string, timeout time.Duration) (*suiteRun, error) {
	rows, err := os.CreateTemp("", "hfreliability-rows-*.jsonl")
	if err != nil {
		return nil, err
	}
	rows.Close()
	defer os.Remove(rows.Name())
	sr := &suiteRun{N: n, Tests: map[string]string{}}
	start := time.Now()
	var waitErrs []error
	for _, suite := range suites {
		run := suite.run
		if pattern != "" {
			run = pattern
		}
		args := []string{"test", "-count=1", "-json", "-timeout", timeout.String()}
		if run != "" {
			args = append(args, "-run", run)
		}
		args = append(args, suite.pkg)
		fmt.Fprintf(os.Stderr, "== suite run %d/%d: go %s\n", n, of, strings.Join(args, " "))
		waitErrs = append(waitErrs, goTest(sr, args, rows.Name()))
	}
	sr.Wall = time.Since(start)
	sr.Passed = errors.Join(waitErrs...) == nil && !slices.Contains(mapValues(sr.Tests), "fail") && len(sr.Tests) > 0
	if sr.Failure != "" {
		fmt.Fprint(os.Stderr, sr.Failure)
	}
	data, err := os.ReadFile(rows.Name())
	if err != nil {
		return nil, err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var r faultsuite.Row
		if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &r) == nil {
			sr.Rows = append(sr.Rows, r)
		}
	}
	fmt.Fprintf(os.Stderr, "== suite run %d/%d: %s in %s\n", n, of, map[bool]string{true: "PASS", false: "FAIL"}[sr.Passed],
		sr.Wall.Round(time.Second))
	return sr, nil
}

// goTest runs go with args (a go test -json) with the report file rows, and adds the
// outcome of each top-level test to sr.
func goTest(sr *suiteRun, args []string, rows string) error {
	cmd := exec.Command(goBin(), args...)
	cmd.Env = append(os.Environ(), "HATCHETFLOW_INTEGRATION=1", faultsuite.EnvReport+"="+rows)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	output := map[string]*strings.Builder{}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Test == "" {
			if ev.Action == "output" && strings.HasPrefix(ev.Output, "FAIL") {
				fmt.Fprint(os.Stderr, ev.Output)
			}
			continue
		}
		top := strings.SplitN(ev.Test, "/", 2)[0]
		switch ev.Action {
		case "output":
			if output[top] == nil {
				output[top] = &strings.Builder{}
			}
			output[top].WriteString(ev.Output)
		case "pass", "fail", "skip":
			sr.Tests[ev.Test] = ev.Action // subtests too: a row may name one
			if ev.Test == top {
				fmt.Fprintf(os.Stderr, "   %-40s %s %6.1fs\n", top, strings.ToUpper(ev.Action), ev.Elapsed)
				if ev.Action == "fail" && output[top] != nil {
					sr.Failure += output[top].String()
				}
			}
		}
	}
	return cmd.Wait()
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func goBin() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// fuzzRun is one fuzz target's run.
type fuzzRun struct {
	Pkg, Name string
	Time      time.Duration
	Execs     string
	Passed    bool
	Failure   string
}

var execsRe = regexp.MustCompile(`execs: (\d+)`)

func runFuzz(pkg, name string, d time.Duration) fuzzRun {
	fr := fuzzRun{Pkg: pkg, Name: name, Time: d}
	fmt.Fprintf(os.Stderr, "== fuzz %s %s for %s\n", pkg, name, d)
	cmd := exec.Command(goBin(), "test", "-run", "^$", "-fuzz", "^"+name+"$", "-fuzztime", d.String(), pkg)
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	fr.Passed = err == nil
	if m := execsRe.FindAllStringSubmatch(buf.String(), -1); len(m) > 0 {
		fr.Execs = m[len(m)-1][1]
	}
	if !fr.Passed {
		fr.Failure = tail(buf.String(), 15)
		fmt.Fprint(os.Stderr, fr.Failure)
	}
	fmt.Fprintf(os.Stderr, "   %s: %s execs, %s\n", name, fr.Execs, map[bool]string{true: "PASS", false: "FAIL"}[fr.Passed])
	return fr
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

type report struct {
	Count   int
	Started time.Time
	Suites  []*suiteRun
	Fuzz    []fuzzRun
}

func (r *report) passedSuites() int {
	n := 0
	for _, s := range r.Suites {
		if s.Passed {
			n++
		}
	}
	return n
}

func (r *report) fuzzOK() bool {
	for _, f := range r.Fuzz {
		if !f.Passed {
			return false
		}
	}
	return true
}

// scenario aggregates one test's rows over the suite runs.
type scenario struct {
	test, name, note string
	rows             []faultsuite.Row
	results          []string // per suite run: pass, fail, skip, or "" (not run)
}

func (r *report) scenarios() []*scenario {
	byTest := map[string]*scenario{}
	var order []*scenario
	get := func(test string) *scenario {
		if s := byTest[test]; s != nil {
			return s
		}
		s := &scenario{test: test, name: test, results: make([]string, len(r.Suites))}
		byTest[test] = s
		order = append(order, s)
		return s
	}
	for i, sr := range r.Suites {
		for _, row := range sr.Rows {
			s := get(row.Test)
			s.name, s.note = row.Scenario, row.Note
			s.rows = append(s.rows, row)
		}
		for test, res := range sr.Tests {
			if s := byTest[test]; s != nil {
				s.results[i] = res
				continue
			}
			// A test with no row of its own is listed by its top-level name, unless
			// rows of its subtests stand for it.
			if strings.Contains(test, "/") || hasSubtestRows(byTest, test) {
				continue
			}
			get(test).results[i] = res
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return scenarioKey(order[i].name) < scenarioKey(order[j].name) })
	return order
}

// hasSubtestRows reports whether a scenario was made from a row of a subtest of test.
func hasSubtestRows(byTest map[string]*scenario, test string) bool {
	for name := range byTest {
		if strings.HasPrefix(name, test+"/") {
			return true
		}
	}
	return false
}

// scenarioKey sorts "a.", "a'.", "a”.", "b." ... by letter, then primes.
func scenarioKey(name string) string {
	head, _, ok := strings.Cut(name, ".")
	if !ok || len(head) == 0 || len(head) > 4 {
		return "~" + name
	}
	return fmt.Sprintf("%c%d", head[0], strings.Count(head, "'"))
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	passed := r.passedSuites()
	w("# Reliability\n\n")
	w("<!-- Generated by `go run ./internal/cmd/hfreliability` (`make reliability`); do not edit by hand: ")
	w("the hand-written sections come from internal/cmd/hfreliability/findings.md. -->\n\n")
	w("hatchetflow claims that callbacks are never lost and never doubled, even when workers crash. ")
	w("The fault-injection suite (`internal/faultsuite`) checks that claim on a real Hatchet engine and a real Redis: ")
	w("a child worker process runs the tasks and counts every execution of callback user code in Redis, ")
	w("and each scenario asserts those counts once every signature of its trees has ended ")
	w("(after which no duplicate run can pass a signature's pending→active check).\n\n")
	wall := make([]string, len(r.Suites))
	for i, s := range r.Suites {
		wall[i] = s.Wall.Round(time.Second).String()
	}
	w("**%d of %d consecutive suite runs passed** on %s (durations: %s; Go %s, %s/%s, %d CPUs, Hatchet engine %s, %s queue).\n\n",
		passed, len(r.Suites), r.Started.UTC().Format("2006-01-02 15:04 MST"), strings.Join(wall, ", "),
		strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), engineVersion(), engineQueue())
	w("| scenario | suite runs passed | signature runs | callbacks expected | callbacks observed | each exactly as expected | keys without TTL | time |\n")
	w("|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.scenarios() {
		pass, ran := 0, 0
		for _, res := range s.results {
			if res != "" && res != "skip" {
				ran++
			}
			if res == "pass" {
				pass++
			}
		}
		if ran == 0 {
			w("| %s | skipped | | | | | | |\n", s.name)
			continue
		}
		var runs, exp, obs, ttl, secs []string
		exact := len(s.rows) > 0
		for _, row := range s.rows {
			runs = append(runs, fmt.Sprint(row.Runs))
			exp = append(exp, fmt.Sprint(row.Expected))
			obs = append(obs, fmt.Sprint(row.Observed))
			if row.KeysNoTTL >= 0 {
				ttl = append(ttl, fmt.Sprint(row.KeysNoTTL))
			} else {
				ttl = append(ttl, "not checked")
			}
			secs = append(secs, fmt.Sprintf("%.0f s", row.Seconds))
			exact = exact && row.Exact
		}
		w("| %s | %d/%d | %s | %s | %s | %s | %s | %s |\n", s.name, pass, len(r.Suites), same(runs), same(exp), same(obs),
			map[bool]string{true: "yes", false: "**no**"}[exact], same(ttl), strings.Join(secs, ", "))
	}
	w("\nKeys without TTL are counted under the scenario's key prefix, on every Redis it used, with the task registry ")
	w("(`Store.RegistryKey()`, documented as having no TTL) excepted. Every scenario also checks how often the main ")
	w("task's own user code ran, and the engine's final run status.\n\n")
	w("## What each scenario checks\n\n")
	for _, s := range r.scenarios() {
		w("- **%s** (`%s`): %s.\n", s.name, s.test, s.note)
	}
	w("\n")
	w("%s", findings)
	if len(r.Fuzz) > 0 {
		w("\n## Fuzzing\n\n| target | package | time | execs | result |\n|---|---|---|---|---|\n")
		for _, f := range r.Fuzz {
			w("| `%s` | `%s` | %s | %s | %s |\n", f.Name, strings.Trim(f.Pkg, "./"), f.Time, f.Execs,
				map[bool]string{true: "pass", false: "**fail**"}[f.Passed])
		}
	}
	for _, s := range r.Suites {
		if s.Failure != "" {
			w("\n## Failures of suite run %d\n\n```\n%s```\n", s.N, tail(s.Failure, 80))
		}
	}
	return b.String()
}

// same prints one value when all are equal, else the list.
func same(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			return strings.Join(vals, ", ")
		}
	}
	return vals[0]
}

// findings is the report's hand-written part (findings.md beside this file): what the suite
// and the fuzzers found, and the engine and SDK faults hatchetflow works around. It is
// embedded so that regenerating the report keeps it; edit findings.md, not the report.
//
//go:embed findings.md
var findings string

// engineVersion is the Hatchet version the stack builds the engine from (tools/hatchet/go.mod),
// or "unknown".
func engineVersion() string {
	b, err := os.ReadFile(filepath.Join("tools", "hatchet", "go.mod"))
	if err != nil {
		return "unknown"
	}
	m := regexp.MustCompile(`github\.com/hatchet-dev/hatchet (v\S+)`).FindSubmatch(b)
	if m == nil {
		return "unknown"
	}
	return string(m[1])
}

// engineQueue is the engine's message queue as scripts/stack wrote it into .state/env
// (HATCHETFLOW_ENGINE_MQ), or "postgres".
func engineQueue() string {
	if q := os.Getenv("HATCHETFLOW_ENGINE_MQ"); q != "" {
		return q
	}
	return "postgres"
}
