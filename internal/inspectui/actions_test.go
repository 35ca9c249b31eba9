package inspectui

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
)

func post(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func TestActionsForbiddenWithoutAllowActions(t *testing.T) {
	f := newFake()
	s, ts := newServer(t, f, false)
	if len(Actions) != 4 || Actions[3] != "retry" {
		t.Fatalf("Actions = %v", Actions)
	}
	for _, a := range Actions {
		code, body := post(t, ts.URL+"/api/tree/"+rootID+"/"+a, "{}", map[string]string{CSRFHeader: s.CSRFToken()})
		if code != http.StatusForbidden || !strings.Contains(errorOf(t, body), "disabled") {
			t.Errorf("%s without AllowActions: %d %s, want 403", a, code, body)
		}
	}
	if calls := f.callLog(); len(calls) != 0 {
		t.Errorf("backend called: %v", calls)
	}
}

func TestActionGuards(t *testing.T) {
	f := newFake()
	s, ts := newServer(t, f, true)
	host := strings.TrimPrefix(ts.URL, "http://")
	tok := s.CSRFToken()
	for _, action := range Actions {
		url := ts.URL + "/api/tree/" + rootID + "/" + action
		for name, h := range map[string]map[string]string{
			"no token":              {},
			"wrong token":           {CSRFHeader: tok + "x"},
			"empty token":           {CSRFHeader: ""},
			"cross-origin":          {CSRFHeader: tok, "Origin": "http://evil.example"},
			"other port":            {CSRFHeader: tok, "Origin": "http://127.0.0.1:1"},
			"null origin":           {CSRFHeader: tok, "Origin": "null"},
			"cross-site fetch":      {CSRFHeader: tok, "Sec-Fetch-Site": "cross-site"},
			"same-site fetch":       {CSRFHeader: tok, "Sec-Fetch-Site": "same-site"},
			"good token, bad fetch": {CSRFHeader: tok, "Origin": "http://" + host, "Sec-Fetch-Site": "cross-site"},
		} {
			code, body := post(t, url, `{"kwargs":{"n":1}}`, h)
			if code != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", action, name, code, body)
				continue
			}
			errorOf(t, body)
		}
		code, body := do(t, mustReq(t, http.MethodGet, url))
		if code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d %s, want 405", action, code, body)
		}
	}
	if calls := f.callLog(); len(calls) != 0 {
		t.Fatalf("backend called by refused requests: %v", calls)
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestActionsCallBackend(t *testing.T) {
	f := newFake()
	s, ts := newServer(t, f, true)
	host := strings.TrimPrefix(ts.URL, "http://")
	good := map[string]string{CSRFHeader: s.CSRFToken(), "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}
	base := ts.URL + "/api/tree/" + rootID + "/"
	for _, c := range []struct{ action, body string }{
		{"cancel", ""}, {"cancel", `{"silent":true}`}, {"suspend", "{}"}, {"resume", ""},
		{"retry", ""}, {"retry", `{"kwargs":{"mode":"safe"}}`},
	} {
		code, body := post(t, base+c.action, c.body, good)
		if code != http.StatusOK || !strings.Contains(body, `"ok":true`) {
			t.Errorf("%s %s: %d %s", c.action, c.body, code, body)
		}
	}
	want := []string{"cancel " + rootID, "cancel-silent " + rootID, "suspend " + rootID, "resume " + rootID,
		"retry " + rootID, "retry " + rootID + ` {"mode":"safe"}`}
	if got := f.callLog(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("backend calls %v, want %v", got, want)
	}
	// Without Origin and Sec-Fetch-Site (curl), the token alone is enough.
	if code, body := post(t, base+"resume", "", map[string]string{CSRFHeader: s.CSRFToken()}); code != http.StatusOK {
		t.Errorf("resume with the token only: %d %s", code, body)
	}
	if code, body := post(t, ts.URL+"/api/tree/"+otherID+"/suspend", "", good); code != http.StatusConflict {
		t.Errorf("suspend of what ended: %d %s, want 409", code, body)
	}
	if code, body := post(t, base+"cancel", `{"bogus":1}`, good); code != http.StatusBadRequest {
		t.Errorf("unknown body field: %d %s, want 400", code, body)
	}
}

func TestRetryAction(t *testing.T) {
	f := newFake()
	s, ts := newServer(t, f, true)
	good := map[string]string{CSRFHeader: s.CSRFToken()}
	code, body := post(t, ts.URL+"/api/tree/"+childID+"/retry", `{"kwargs":{"n":3}}`, good)
	var res struct {
		OK         bool
		Action, ID string
		RunID      string `json:"runId"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || code != http.StatusOK || !res.OK || res.Action != "retry" ||
		res.ID != childID || res.RunID != "run-of-"+childID {
		t.Fatalf("retry: %d %s (%v)", code, body, err)
	}
	if got := f.callLog(); len(got) != 1 || got[0] != "retry "+childID+` {"n":3}` {
		t.Errorf("backend calls %v", got)
	}
	// A refusal is a 409 naming why; kwargs that are not an object a 400.
	code, body = post(t, ts.URL+"/api/tree/"+otherID+"/retry", "", good)
	if code != http.StatusConflict || !strings.Contains(errorOf(t, body), "cannot retry") {
		t.Errorf("retry of what is done: %d %s, want 409", code, body)
	}
	for _, bad := range []string{`{"kwargs":[1]}`, `{"kwargs":"x"}`, `{"kwargs":`} {
		if code, body := post(t, ts.URL+"/api/tree/"+childID+"/retry", bad, good); code != http.StatusBadRequest {
			t.Errorf("retry with body %s: %d %s, want 400", bad, code, body)
		}
	}
	if got := f.callLog(); len(got) != 1 {
		t.Errorf("refused retries reached the backend: %v", got)
	}
	for err, want := range map[error]int{
		&hatchetflow.NotRetryableError{ID: rootID, Status: hatchetflow.StatusActive}: http.StatusConflict,
		&inject.ValidationError{Task: "double"}:                                      http.StatusBadRequest,
		&hatchetflow.KwargsTooLargeError{Task: "double", Size: 10, Limit: 1}:         http.StatusBadRequest,
	} {
		if got := statusOf(err); got != want {
			t.Errorf("statusOf(%T) = %d, want %d", err, got, want)
		}
	}
}
