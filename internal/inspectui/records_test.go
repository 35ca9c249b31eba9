package inspectui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/redisstore"
	"github.com/hatchetflow/go/testing/flowtest"
)

const runOfRoot = "0198f0c2-1111-7aaa-8bbb-123456789abc"

func TestListCarriesInputAndResultPreviews(t *testing.T) {
	f := newFake()
	f.records = map[string]*Record{rootID: {ID: rootID, Input: json.RawMessage(`{"n":1,"mode":"fast","mageflow_results":null}`),
		Kwargs: map[string]any{"n": 5.0}, Result: json.RawMessage(` { "total" : 12 } `)}}
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/list")
	var page Page
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK || len(page.Entries) != 1 {
		t.Fatalf("list: %d %s %v", code, body, err)
	}
	e := page.Entries[0]
	// Kwargs win over the input, keys in order, values as JSON; the result compacted.
	if e.Input != `mageflow_results=null, mode="fast", n=5` || e.Result != `{"total":12}` {
		t.Errorf("previews: input %q, result %q", e.Input, e.Result)
	}
	// The previews are a convenience: a failing read leaves them out, not the list.
	f.mu.Lock()
	f.recordsErr = errors.New("redis is down")
	f.mu.Unlock()
	code, body = get(t, ts.URL+"/api/list")
	page = Page{}
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK || len(page.Entries) != 1 || page.Entries[0].Input != "" {
		t.Errorf("list without records: %d %s %v", code, body, err)
	}
}

func TestPreviews(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, c := range []struct {
		rec           Record
		input, result string
	}{
		{Record{}, "", ""},
		{Record{Input: json.RawMessage(`null`), Result: json.RawMessage(`null`)}, "", ""},
		{Record{Input: json.RawMessage(`[1, 2]`)}, "[1,2]", ""},
		{Record{Input: json.RawMessage(`"x"`), Kwargs: map[string]any{"k": true}}, "k=true", ""},
		{Record{Kwargs: map[string]any{"b": 1.0, "a": []any{"x"}}, Result: json.RawMessage(`"done"`)}, `a=["x"], b=1`, `"done"`},
		{Record{Kwargs: map[string]any{"s": long}, Result: json.RawMessage(`"` + long + `"`)},
			`s="` + strings.Repeat("é", PreviewLen-4) + "…", `"` + strings.Repeat("é", PreviewLen-2) + "…"},
	} {
		if got := c.rec.InputPreview(); got != c.input {
			t.Errorf("InputPreview(%+v) = %q, want %q", c.rec, got, c.input)
		}
		if got := c.rec.ResultPreview(); got != c.result {
			t.Errorf("ResultPreview(%+v) = %q, want %q", c.rec, got, c.result)
		}
	}
}

func TestRecordJSON(t *testing.T) {
	f := newFake()
	f.records = map[string]*Record{rootID: {ID: rootID, Kind: "signature", Input: json.RawMessage(`{"n":1}`), RunID: runOfRoot, Attempt: 2}}
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/record/"+rootID)
	var r Record
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != http.StatusOK || string(r.Input) != `{"n":1}` || r.RunID != runOfRoot || r.Attempt != 2 {
		t.Fatalf("record: %d %s %v", code, body, err)
	}
	if code, body := get(t, ts.URL+"/api/record/"+otherID); code != http.StatusNotFound || !strings.Contains(errorOf(t, body), otherID) {
		t.Errorf("unknown record: %d %s, want 404", code, body)
	}
	if code, _ := get(t, ts.URL+"/api/record/not-an-id"); code != http.StatusBadRequest {
		t.Errorf("malformed id: %d, want 400", code)
	}
}

// TestLogsOfTheRecordsRun: the logs endpoint reads the run id stored on the record
// (not one the client names) and answers the backend's lines; no run yet is no lines;
// no Hatchet is 503, an engine failure 502.
func TestLogsOfTheRecordsRun(t *testing.T) {
	f := newFake()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.records = map[string]*Record{rootID: {ID: rootID, RunID: runOfRoot}, childID: {ID: childID}}
	f.logs = map[string][]LogLine{runOfRoot: {{Time: at, Level: "INFO", Message: "resizing 3 images", Task: "resize", Attempt: 1}}}
	_, ts := newServer(t, f, false)
	code, body := get(t, ts.URL+"/api/logs/"+rootID+"?run=11111111-2222-4333-8444-555555555555")
	var logs RunLogs
	if err := json.Unmarshal([]byte(body), &logs); err != nil || code != http.StatusOK {
		t.Fatalf("logs: %d %s %v", code, body, err)
	}
	want := RunLogs{ID: rootID, RunID: runOfRoot, Lines: []LogLine{{Time: at, Level: "INFO", Message: "resizing 3 images", Task: "resize", Attempt: 1}}}
	if logs.ID != want.ID || logs.RunID != want.RunID || len(logs.Lines) != 1 || logs.Lines[0] != want.Lines[0] {
		t.Errorf("logs %+v, want %+v", logs, want)
	}
	if len(f.logReads) != 1 || f.logReads[0] != runOfRoot {
		t.Errorf("backend read the logs of %v, want [%s]", f.logReads, runOfRoot)
	}
	code, body = get(t, ts.URL+"/api/logs/"+childID)
	if err := json.Unmarshal([]byte(body), &logs); err != nil || code != http.StatusOK || logs.RunID != "" || logs.Lines == nil || len(logs.Lines) != 0 {
		t.Errorf("logs of a record never run: %d %s %v, want no run and []", code, body, err)
	}
	if len(f.logReads) != 1 {
		t.Errorf("the backend was asked for the logs of no run: %v", f.logReads)
	}
	if code, _ := get(t, ts.URL+"/api/logs/"+otherID); code != http.StatusNotFound {
		t.Errorf("logs of an unknown record: %d, want 404", code)
	}
	if code, _ := get(t, ts.URL+"/api/logs/..%2Fetc"); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Errorf("logs of a malformed id: %d, want 400", code)
	}
	for err, want := range map[error]int{
		ErrLogsUnavailable: http.StatusServiceUnavailable,
		&LogsError{RunID: runOfRoot, Err: errors.New("engine says 500")}: http.StatusBadGateway,
	} {
		f.mu.Lock()
		f.logsErr = err
		f.mu.Unlock()
		code, body := get(t, ts.URL+"/api/logs/"+rootID)
		if code != want || !strings.Contains(errorOf(t, body), err.Error()) {
			t.Errorf("logs failing with %v: %d %s, want %d", err, code, body, want)
		}
	}
}

func TestConfigCarriesTheRunURL(t *testing.T) {
	s := New(newFake(), Options{Logger: quiet(), RunURL: "https://hatchet.example/tenants/t1/runs/"})
	code, body := get(t, newTestServer(t, s).URL+"/api/config")
	var cfg struct{ RunURL string }
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || code != http.StatusOK || cfg.RunURL != "https://hatchet.example/tenants/t1/runs/" {
		t.Errorf("config: %d %s %v", code, body, err)
	}
}

// jwt is an unsigned token with these claims (RunURLFromEnv only decodes it).
func jwt(claims string) string {
	enc := func(s string) string {
		return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(base64Std(s)), "=")
	}
	return enc(`{"alg":"none"}`) + "." + enc(claims) + ".sig"
}

func TestRunURLFromEnv(t *testing.T) {
	tok := jwt(`{"sub":"707d0855-80ab-4e1f-a156-f1c4546cbf52","server_url":"http://127.0.0.1:8888"}`)
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"from the token":   {map[string]string{"HATCHET_CLIENT_TOKEN": tok}, "http://127.0.0.1:8888/tenants/707d0855-80ab-4e1f-a156-f1c4546cbf52/runs/"},
		"server url wins":  {map[string]string{"HATCHET_CLIENT_TOKEN": tok, "HATCHET_CLIENT_SERVER_URL": "https://api.example/"}, "https://api.example/tenants/707d0855-80ab-4e1f-a156-f1c4546cbf52/runs/"},
		"dashboard wins":   {map[string]string{"HATCHET_CLIENT_TOKEN": tok, "HATCHET_CLIENT_SERVER_URL": "https://api.example", EnvDashboardURL: "https://dash.example/hatchet"}, "https://dash.example/hatchet/tenants/707d0855-80ab-4e1f-a156-f1c4546cbf52/runs/"},
		"tenant from env":  {map[string]string{EnvDashboardURL: "https://dash.example", "HATCHET_CLIENT_TENANT_ID": "t-1"}, "https://dash.example/tenants/t-1/runs/"},
		"no tenant":        {map[string]string{EnvDashboardURL: "https://dash.example"}, ""},
		"nothing":          {nil, ""},
		"not a token":      {map[string]string{"HATCHET_CLIENT_TOKEN": "abc"}, ""},
		"not http":         {map[string]string{EnvDashboardURL: "javascript:alert(1)", "HATCHET_CLIENT_TENANT_ID": "t"}, ""},
		"a relative place": {map[string]string{EnvDashboardURL: "/runs", "HATCHET_CLIENT_TENANT_ID": "t"}, ""},
	} {
		got, err := RunURLFromEnv(func(k string) string { return c.env[k] })
		if got != c.want || (c.want == "") != errors.Is(err, ErrNoDashboard) {
			t.Errorf("%s: %q %v, want %q", name, got, err, c.want)
		}
	}
}

// TestClientBackend reads a real store: Records has the input the run was dispatched
// with, its kwargs, result and run; Logs without Hatchet and Records without a store
// say so.
func TestClientBackend(t *testing.T) {
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hfui"))
	h.Quiet()
	ctx := context.Background()
	type in struct {
		N    int    `json:"n"`
		Mode string `json:"mode"`
	}
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, x in) (int, error) { return 2 * x.N, nil }); err != nil {
		t.Fatal(err)
	}
	run, err := dsl.Sign("double").With(dsl.KW{"n": 4}).Run(ctx, h.Client, in{N: 1, Mode: "fast"})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	rdb := redis.NewClient(&redis.Options{Addr: h.Redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	b := NewClientBackend(h.Client, redisstore.New(rdb, redisstore.WithPrefix("hfui")), nil)
	recs, err := b.Records(ctx, []string{run.SignatureID(), otherID, "not-an-id"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("Records: %v %v", recs, err)
	}
	r := recs[run.SignatureID()]
	if r == nil || r.Kind != "signature" || r.RunID != run.RunID() || r.InputPreview() != `mode="fast", n=4` || r.ResultPreview() != "8" {
		t.Fatalf("record %+v (input %q, result %q), run %s", r, r.InputPreview(), r.ResultPreview(), run.RunID())
	}
	if _, err := b.Logs(ctx, run.RunID()); !errors.Is(err, ErrLogsUnavailable) {
		t.Errorf("Logs without Hatchet: %v, want ErrLogsUnavailable", err)
	}
	if _, err := (ClientBackend{Client: h.Client}).Records(ctx, []string{run.SignatureID()}); !errors.Is(err, ErrNoStore) {
		t.Errorf("Records without a store: %v, want ErrNoStore", err)
	}
}
