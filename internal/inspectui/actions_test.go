package inspectui

import (
	"net/http"
	"strings"
	"testing"
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
	for _, a := range []string{"cancel", "suspend", "resume"} {
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
	url := ts.URL + "/api/tree/" + rootID + "/cancel"
	host := strings.TrimPrefix(ts.URL, "http://")
	tok := s.CSRFToken()
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
		code, body := post(t, url, "{}", h)
		if code != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", name, code, body)
			continue
		}
		errorOf(t, body)
	}
	if calls := f.callLog(); len(calls) != 0 {
		t.Fatalf("backend called by refused requests: %v", calls)
	}
	code, body := do(t, mustReq(t, http.MethodGet, url))
	if code != http.StatusMethodNotAllowed {
		t.Errorf("GET cancel: %d %s, want 405", code, body)
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
	} {
		code, body := post(t, base+c.action, c.body, good)
		if code != http.StatusOK || !strings.Contains(body, `"ok":true`) {
			t.Errorf("%s %s: %d %s", c.action, c.body, code, body)
		}
	}
	want := []string{"cancel " + rootID, "cancel-silent " + rootID, "suspend " + rootID, "resume " + rootID}
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
