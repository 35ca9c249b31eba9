package inspectui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

const (
	rootID  = "11111111-1111-4111-8111-111111111111"
	childID = "22222222-2222-4222-8222-222222222222"
	otherID = "33333333-3333-4333-8333-333333333333"
)

// fake is a Backend over an in-memory tree that tests can change.
type fake struct {
	mu        sync.Mutex
	trees     map[string]*hatchetflow.Node
	page      *hatchetflow.ListPage
	tasks     []hatchetflow.TaskInfo
	listOpts  []hatchetflow.ListOptions
	calls     []string
	treeReads int
	treeErr   error
	// flows are the rolled-up statuses FlowStatus returns; a tree without one rolls
	// up to its root's status.
	flows     map[string]*hatchetflow.FlowStatus
	flowReads int
	// records are what Records returns (nil: built from the trees, without input);
	// recordsErr fails it.
	records    map[string]*Record
	recordsErr error
	// logs are the lines of each run id; logsErr fails Logs; logReads the run ids read.
	logs     map[string][]LogLine
	logsErr  error
	logReads []string
}

func newFake() *fake {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return &fake{
		trees: map[string]*hatchetflow.Node{rootID: {ID: rootID, Kind: "signature", Task: "double", Status: hatchetflow.StatusActive,
			Kwargs: map[string]any{"n": 2.0}, CreatedAt: created,
			OnSuccess: []*hatchetflow.Node{{ID: childID, Kind: "signature", Task: "report", Status: hatchetflow.StatusPending, CreatedAt: created}}}},
		page: &hatchetflow.ListPage{Entries: []hatchetflow.Summary{{ID: rootID, Kind: "signature", Task: "double",
			Status: hatchetflow.StatusActive, Root: true, CreatedAt: created}}, Next: rootID},
		tasks: []hatchetflow.TaskInfo{{Name: "double", ReturnField: "task_result", Signatures: 2}},
	}
}

func (f *fake) Tree(_ context.Context, id string) (*hatchetflow.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.treeReads++
	if f.treeErr != nil {
		return nil, f.treeErr
	}
	n := f.trees[id]
	if n == nil {
		return nil, &hatchetflow.SignatureNotFoundError{ID: id}
	}
	b, _ := json.Marshal(n) // a copy, as a real read would return
	var c hatchetflow.Node
	_ = json.Unmarshal(b, &c)
	return &c, nil
}

func (f *fake) FlowStatus(_ context.Context, id string) (*hatchetflow.FlowStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flowReads++
	if st := f.flows[id]; st != nil {
		return st, nil
	}
	if n := f.trees[id]; n != nil {
		return &hatchetflow.FlowStatus{Root: id, Status: n.Status}, nil
	}
	return nil, &hatchetflow.SignatureNotFoundError{ID: id}
}

func (f *fake) List(_ context.Context, o *hatchetflow.ListOptions) (*hatchetflow.ListPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listOpts = append(f.listOpts, *o)
	if o.Limit < 0 {
		return nil, errors.Join(hatchetflow.ErrInvalidListOptions, errors.New("negative limit"))
	}
	return f.page, nil
}

func (f *fake) Records(_ context.Context, ids []string) (map[string]*Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recordsErr != nil {
		return nil, f.recordsErr
	}
	out := map[string]*Record{}
	for _, id := range ids {
		if r := f.records[id]; r != nil {
			out[id] = r
		} else if n := f.trees[id]; n != nil && f.records == nil {
			out[id] = &Record{ID: id, Kind: n.Kind, Kwargs: n.Kwargs, Result: n.Result, Error: n.Error, RunID: n.RunID}
		}
	}
	return out, nil
}

func (f *fake) Logs(_ context.Context, runID string) (*RunLogs, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logReads = append(f.logReads, runID)
	if f.logsErr != nil {
		return nil, f.logsErr
	}
	return &RunLogs{RunID: runID, Lines: f.logs[runID]}, nil
}

func (f *fake) Tasks(context.Context) ([]hatchetflow.TaskInfo, error) { return f.tasks, nil }

func (f *fake) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return nil
}

func (f *fake) Cancel(_ context.Context, id string, o *hatchetflow.CancelOptions) error {
	if o.Silent {
		return f.record("cancel-silent " + id)
	}
	return f.record("cancel " + id)
}

func (f *fake) Suspend(_ context.Context, id string, o *hatchetflow.SuspendOptions) error {
	if id == otherID {
		return &hatchetflow.NotPendingError{ID: id, Status: hatchetflow.StatusDone}
	}
	return f.record("suspend " + id)
}

func (f *fake) Resume(_ context.Context, id string) error { return f.record("resume " + id) }

// fakeHandle is the handle the fake's Retry returns.
type fakeHandle struct{ id string }

func (h fakeHandle) SignatureID() string                           { return h.id }
func (h fakeHandle) RunID() string                                 { return "run-of-" + h.id }
func (h fakeHandle) Wait(context.Context) (json.RawMessage, error) { return nil, nil }

func (f *fake) Retry(_ context.Context, id string, o *hatchetflow.RetryOptions) (dsl.Handle, error) {
	if id == otherID {
		return nil, &hatchetflow.NotRetryableError{ID: id, Status: hatchetflow.StatusDone, Reason: "only a failed or cancelled signature runs again"}
	}
	call := "retry " + id
	if len(o.Kwargs) > 0 {
		b, _ := json.Marshal(o.Kwargs)
		call += " " + string(b)
	}
	return fakeHandle{id}, f.record(call)
}

func (f *fake) setStatus(id string, st hatchetflow.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trees[id].Status = st
}

func (f *fake) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newServer(t *testing.T, f *fake, actions bool) (*Server, *httptest.Server) {
	t.Helper()
	s := New(f, Options{AllowActions: actions, PollInterval: 10 * time.Millisecond, Logger: quiet()})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// do sends a request and returns the status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(t, req)
}

func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error: %q (%v)", body, err)
	}
	return e.Error
}

func newTestServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
