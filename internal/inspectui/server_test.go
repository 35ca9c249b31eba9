package inspectui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hatchetflow/go/hatchetflow"
)

func TestPageAndAssets(t *testing.T) {
	_, ts := newServer(t, newFake(), false)
	for path, want := range map[string]string{
		"/":                           `id="graph"`,
		"/static/app.js":              "EventSource",
		"/static/app.css":             ".node",
		"/static/vendor/dagre.min.js": "dagre",
	} {
		code, body := get(t, ts.URL+path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, body lacks %q", path, code, want)
		}
	}
	if code, _ := get(t, ts.URL+"/static/"); code != http.StatusNotFound {
		t.Errorf("GET /static/ (a directory listing): %d, want 404", code)
	}
	code, body := get(t, ts.URL+"/api/nope")
	if code != http.StatusNotFound || !strings.Contains(errorOf(t, body), "no such endpoint") {
		t.Errorf("GET /api/nope: %d %s", code, body)
	}
}

func TestConfig(t *testing.T) {
	for _, actions := range []bool{false, true} {
		s, ts := newServer(t, newFake(), actions)
		code, body := get(t, ts.URL+"/api/config")
		var cfg struct {
			Actions bool
			CSRF    string
		}
		if err := json.Unmarshal([]byte(body), &cfg); err != nil || code != http.StatusOK {
			t.Fatalf("config: %d %s %v", code, body, err)
		}
		if cfg.Actions != actions || cfg.CSRF != s.CSRFToken() || len(cfg.CSRF) < 20 {
			t.Errorf("config %+v with actions=%v, token %q", cfg, actions, s.CSRFToken())
		}
	}
	a, b := New(newFake(), Options{}), New(newFake(), Options{})
	if a.CSRFToken() == b.CSRFToken() {
		t.Error("two servers share a CSRF token")
	}
}

func TestListJSON(t *testing.T) {
	f := newFake()
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/list?status=active&task=double&roots=1&since=2025-01-01T00:00:00Z&until=2025-02-01T00:00:00Z&cursor="+rootID+"&limit=5")
	if code != http.StatusOK {
		t.Fatalf("list: %d %s", code, body)
	}
	var page hatchetflow.ListPage
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.page, &page); diff != "" {
		t.Errorf("list page (-want +got):\n%s", diff)
	}
	want := hatchetflow.ListOptions{Status: "active", Task: "double", RootsOnly: true, Limit: 5, Cursor: rootID,
		Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff([]hatchetflow.ListOptions{want}, f.listOpts); diff != "" {
		t.Errorf("list options (-want +got):\n%s", diff)
	}
	for _, q := range []string{"roots=maybe", "limit=ten", "since=yesterday", "limit=-1"} {
		code, body := get(t, ts.URL+"/api/list?"+q)
		if code != http.StatusBadRequest {
			t.Errorf("list?%s: %d %s, want 400", q, code, body)
		}
		errorOf(t, body)
	}
}

func TestTasksJSON(t *testing.T) {
	f := newFake()
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/tasks")
	var tasks []hatchetflow.TaskInfo
	if err := json.Unmarshal([]byte(body), &tasks); err != nil || code != http.StatusOK {
		t.Fatalf("tasks: %d %s %v", code, body, err)
	}
	if diff := cmp.Diff(f.tasks, tasks); diff != "" {
		t.Errorf("tasks (-want +got):\n%s", diff)
	}
}

func TestTreeJSON(t *testing.T) {
	f := newFake()
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/tree/"+rootID)
	if code != http.StatusOK {
		t.Fatalf("tree: %d %s", code, body)
	}
	var n hatchetflow.Node
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f.trees[rootID], &n); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	code, body = get(t, ts.URL+"/api/tree/"+otherID)
	if code != http.StatusNotFound || !strings.Contains(errorOf(t, body), otherID) {
		t.Errorf("unknown tree: %d %s, want 404 naming the id", code, body)
	}
	code, body = get(t, ts.URL+"/api/tree/"+otherID+"/events")
	if code != http.StatusNotFound {
		t.Errorf("events of an unknown tree: %d %s, want 404", code, body)
	}
}

// sse reads server-sent events from url until ctx ends.
type sse struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

func openSSE(t *testing.T, url string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	return s
}

func (s *sse) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next event's name and data (skipping comments and retry lines).
func (s *sse) next(t *testing.T) (string, string) {
	t.Helper()
	type ev struct{ name, data string }
	got := make(chan ev, 1)
	errc := make(chan error, 1)
	go func() {
		var e ev
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				errc <- err
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && e.name != "":
				got <- e
				return
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	select {
	case e := <-got:
		return e.name, e.data
	case err := <-errc:
		t.Fatalf("event stream ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return "", ""
}

func TestTreeEvents(t *testing.T) {
	f := newFake()
	_, ts := newServer(t, f, false)
	es := openSSE(t, ts.URL+"/api/tree/"+rootID+"/events")
	name, data := es.next(t)
	var n hatchetflow.Node
	if err := json.Unmarshal([]byte(data), &n); name != "tree" || err != nil || n.Status != hatchetflow.StatusActive || len(n.OnSuccess) != 1 {
		t.Fatalf("first event %q %s (%v)", name, data, err)
	}
	// Unchanged polls send nothing; a change is sent.
	time.Sleep(50 * time.Millisecond)
	f.setStatus(rootID, hatchetflow.StatusDone)
	name, data = es.next(t)
	if err := json.Unmarshal([]byte(data), &n); name != "tree" || err != nil || n.Status != hatchetflow.StatusDone {
		t.Fatalf("update event %q %s (%v), want the done tree", name, data, err)
	}
	// A backend error is a problem event; recovering sends the tree again.
	f.mu.Lock()
	f.treeErr = &hatchetflow.SignatureNotFoundError{ID: rootID}
	f.mu.Unlock()
	name, data = es.next(t)
	var p problem
	if err := json.Unmarshal([]byte(data), &p); name != "problem" || err != nil || p.Status != http.StatusNotFound {
		t.Fatalf("problem event %q %s (%v)", name, data, err)
	}
	f.mu.Lock()
	f.treeErr = nil
	f.mu.Unlock()
	if name, _ = es.next(t); name != "tree" {
		t.Fatalf("after recovery: %q, want tree", name)
	}
	// After the client goes away the server stops polling.
	es.close()
	time.Sleep(50 * time.Millisecond)
	f.mu.Lock()
	reads := f.treeReads
	f.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.treeReads != reads {
		t.Errorf("server kept polling after disconnect: %d reads, then %d", reads, f.treeReads)
	}
}

func TestListEvents(t *testing.T) {
	f := newFake()
	_, ts := newServer(t, f, false)
	es := openSSE(t, ts.URL+"/api/list/events?status=active&roots=1")
	name, data := es.next(t)
	var page hatchetflow.ListPage
	if err := json.Unmarshal([]byte(data), &page); name != "list" || err != nil || len(page.Entries) != 1 {
		t.Fatalf("first list event %q %s (%v)", name, data, err)
	}
	f.mu.Lock()
	f.page = &hatchetflow.ListPage{Entries: append([]hatchetflow.Summary{{ID: otherID, Task: "double", Status: hatchetflow.StatusActive}}, f.page.Entries...)}
	opts := f.listOpts[0]
	f.mu.Unlock()
	if opts.Status != hatchetflow.StatusActive || !opts.RootsOnly {
		t.Errorf("list events options %+v", opts)
	}
	name, data = es.next(t)
	if err := json.Unmarshal([]byte(data), &page); name != "list" || err != nil || len(page.Entries) != 2 || page.Entries[0].ID != otherID {
		t.Fatalf("list update %q %s (%v)", name, data, err)
	}
	if code, _ := get(t, ts.URL+"/api/list/events?limit=x"); code != http.StatusBadRequest {
		t.Errorf("list events with a bad query: %d, want 400", code)
	}
}

// failedFlow makes rootID's flow failed at its callback while the root is done, and
// lists a second root (otherID) that is gone and a record that is not a root.
func failedFlow(f *fake) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trees[rootID].Status = hatchetflow.StatusDone
	f.flows = map[string]*hatchetflow.FlowStatus{rootID: {Root: rootID, Status: hatchetflow.StatusFailed,
		Failed: &hatchetflow.Node{ID: childID, Kind: "signature", Task: "report", Status: hatchetflow.StatusFailed, Error: "boom"}}}
	f.page = &hatchetflow.ListPage{Entries: []hatchetflow.Summary{
		{ID: rootID, Kind: "signature", Task: "double", Status: hatchetflow.StatusDone, Root: true},
		{ID: childID, Kind: "signature", Task: "report", Status: hatchetflow.StatusFailed},
		{ID: otherID, Kind: "signature", Task: "double", Status: hatchetflow.StatusDone, Root: true},
	}}
}

func TestListCarriesTheFlowStatusOfRoots(t *testing.T) {
	f := newFake()
	failedFlow(f)
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/list?roots=0")
	var page Page
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK || len(page.Entries) != 3 {
		t.Fatalf("list: %d %s (%v)", code, body, err)
	}
	want := []*FlowSummary{
		{Status: hatchetflow.StatusFailed, Failed: &FailedNode{ID: childID, Kind: "signature", Task: "report", Status: hatchetflow.StatusFailed, Error: "boom"}},
		nil, // not a root
		{Missing: true},
	}
	for i, e := range page.Entries {
		if diff := cmp.Diff(want[i], e.Flow); diff != "" {
			t.Errorf("entry %d (%s) flow (-want +got):\n%s", i, e.ID, diff)
		}
	}
	if page.Entries[0].Status != hatchetflow.StatusDone {
		t.Errorf("the root's own status changed: %+v", page.Entries[0])
	}
	f.mu.Lock()
	reads := f.flowReads
	f.mu.Unlock()
	if reads != 2 {
		t.Errorf("%d flow reads for a page of two roots, want 2", reads)
	}
}

func TestListEventsFollowTheFlow(t *testing.T) {
	f := newFake()
	failedFlow(f)
	_, ts := newServer(t, f, false)
	es := openSSE(t, ts.URL+"/api/list/events")
	name, data := es.next(t)
	var page Page
	if err := json.Unmarshal([]byte(data), &page); name != "list" || err != nil || page.Entries[0].Flow == nil ||
		page.Entries[0].Flow.Status != hatchetflow.StatusFailed {
		t.Fatalf("first list event %q %s (%v)", name, data, err)
	}
	// The failed callback is retried: the root's record is unchanged, its flow is not.
	f.mu.Lock()
	f.flows[rootID] = &hatchetflow.FlowStatus{Root: rootID, Status: hatchetflow.StatusActive, Open: 1}
	f.mu.Unlock()
	name, data = es.next(t)
	page = Page{}
	if err := json.Unmarshal([]byte(data), &page); name != "list" || err != nil || page.Entries[0].Flow == nil ||
		page.Entries[0].Flow.Status != hatchetflow.StatusActive || page.Entries[0].Flow.Open != 1 || page.Entries[0].Flow.Failed != nil {
		t.Fatalf("list event after the retry %q %s (%v)", name, data, err)
	}
}

func TestFlowJSON(t *testing.T) {
	f := newFake()
	failedFlow(f)
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/flow/"+rootID)
	var got FlowSummary
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK || got.Status != hatchetflow.StatusFailed ||
		got.Failed == nil || got.Failed.ID != childID {
		t.Fatalf("flow: %d %s (%v)", code, body, err)
	}
	if code, body := get(t, ts.URL+"/api/flow/"+otherID); code != http.StatusNotFound {
		t.Errorf("flow of an unknown id: %d %s, want 404", code, body)
	}
}

func TestWithFlowsReportsProblemsPerRoot(t *testing.T) {
	page := &hatchetflow.ListPage{Entries: []hatchetflow.Summary{{ID: rootID, Root: true}, {ID: otherID, Root: true}}, Next: "x"}
	got, err := WithFlows(context.Background(), page, func(_ context.Context, id string) (*hatchetflow.FlowStatus, error) {
		if id == otherID {
			return nil, errors.New("corrupt record")
		}
		return &hatchetflow.FlowStatus{Root: id, Status: hatchetflow.StatusDone}, nil
	})
	if err != nil || got.Next != "x" || got.Entries[0].Flow.Status != hatchetflow.StatusDone || got.Entries[1].Flow.Problem != "corrupt record" {
		t.Fatalf("WithFlows: %v %+v", err, got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WithFlows(ctx, page, func(ctx context.Context, _ string) (*hatchetflow.FlowStatus, error) { return nil, ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("WithFlows after ctx ended: %v, want context.Canceled", err)
	}
}

// The page's controls: a Retry button among the actions, and the hidden attribute
// winning over the #actions display rule (read-only mode showed disabled buttons).
func TestPageActionControls(t *testing.T) {
	_, ts := newServer(t, newFake(), false)
	_, html := get(t, ts.URL+"/")
	actions := html[strings.Index(html, `<div id="actions" hidden>`):]
	actions = actions[:strings.Index(actions, "</div>")]
	for _, a := range Actions {
		if !strings.Contains(actions, `id="action-`+a+`"`) {
			t.Errorf("no #action-%s button in #actions:\n%s", a, actions)
		}
	}
	_, css := get(t, ts.URL+"/static/app.css")
	if !regexp.MustCompile(`(?m)^\[hidden\]\s*\{\s*display:\s*none\s*!important;?\s*\}`).MatchString(css) {
		t.Error("app.css lacks `[hidden] { display: none !important; }`: #actions { display: flex } shows hidden controls")
	}
	_, js := get(t, ts.URL+"/static/app.js")
	for _, want := range []string{`act("retry")`, "/api/flow/"} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %q", want)
		}
	}
}

// TestPageKeepsTheCSP: the page runs only scripts served from /static/ (no inline
// script, handler or style attribute, which the Content-Security-Policy would block).
func TestPageKeepsTheCSP(t *testing.T) {
	_, ts := newServer(t, newFake(), false)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	_, html := get(t, ts.URL+"/")
	scripts := regexp.MustCompile(`<script\b[^>]*>`).FindAllString(html, -1)
	if len(scripts) != 3 {
		t.Errorf("scripts %v, want dagre, graph.js and app.js", scripts)
	}
	for _, s := range scripts {
		if !regexp.MustCompile(`src="/static/[a-z/.]+\.js"`).MatchString(s) {
			t.Errorf("script %s is not one of /static/", s)
		}
	}
	if strings.Contains(html, "</script>\n<script>") || regexp.MustCompile(`<script>\s*\S`).MatchString(html) {
		t.Error("an inline script")
	}
	if m := regexp.MustCompile(`\s(on[a-z]+|style)=`).FindString(html); m != "" {
		t.Errorf("an inline handler or style: %q", m)
	}
	for _, path := range []string{"/static/graph.js", "/static/app.js"} {
		if code, body := get(t, ts.URL+path); code != http.StatusOK || strings.Contains(body, "eval(") || strings.Contains(body, "innerHTML") {
			t.Errorf("%s: %d, or it uses eval or innerHTML", path, code)
		}
	}
}
