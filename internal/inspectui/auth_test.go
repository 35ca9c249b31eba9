package inspectui

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

const testToken = "s3cret-token-0123456789"

func TestAuthFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	a, err := AuthFromEnv(env(nil))
	if err != nil || a.Enabled() {
		t.Errorf("no variables: %+v %v, want no auth", a, err)
	}
	a, err = AuthFromEnv(env(map[string]string{EnvToken: testToken}))
	if err != nil || !a.Enabled() || a.Token != testToken {
		t.Errorf("token: %+v %v", a, err)
	}
	a, err = AuthFromEnv(env(map[string]string{EnvUser: "ops", EnvPassword: "correct horse"}))
	if err != nil || !a.Enabled() || a.User != "ops" {
		t.Errorf("user and password: %+v %v", a, err)
	}
	for name, m := range map[string]map[string]string{
		"user without password": {EnvUser: "ops"},
		"password without user": {EnvPassword: "correct horse"},
		"short token":           {EnvToken: "abc"},
		"short password":        {EnvUser: "ops", EnvPassword: "pw"},
		"colon in the user":     {EnvUser: "o:ps", EnvPassword: "correct horse"},
	} {
		a, err := AuthFromEnv(env(m))
		if !errors.Is(err, ErrAuthConfig) || a.Enabled() {
			t.Errorf("%s: %+v %v, want ErrAuthConfig", name, a, err)
		}
	}
}

// authRequest sends method url with the credentials set applies.
func authRequest(t *testing.T, method, url string, set func(*http.Request)) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
	if set != nil {
		set(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512) // an event stream never ends: its first bytes are enough
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, resp.Header, b.String()
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// TestAuthGuardsEverything: with credentials configured, every page, asset, API read,
// event stream and action answers 401 (with a basic auth challenge) unless the request
// carries them, and the backend is never reached.
func TestAuthGuardsEverything(t *testing.T) {
	f := newFake()
	f.records = map[string]*Record{rootID: {ID: rootID, RunID: "11111111-aaaa-4aaa-8aaa-111111111111"}}
	s := New(f, Options{AllowActions: true, Logger: quiet(), Auth: Auth{Token: testToken, User: "ops", Password: "correct horse"}})
	ts := newTestServer(t, s)
	gets := []string{"/", "/static/app.js", "/static/graph.js", "/static/vendor/dagre.min.js", "/api/config", "/api/list",
		"/api/list/events", "/api/tasks", "/api/tree/" + rootID, "/api/tree/" + rootID + "/events", "/api/flow/" + rootID,
		"/api/record/" + rootID, "/api/logs/" + rootID, "/api/nope"}
	wrong := map[string]func(*http.Request){
		"no credentials":            nil,
		"wrong bearer token":        bearer(testToken + "x"),
		"a prefix of the token":     bearer(testToken[:len(testToken)-1]),
		"empty bearer":              bearer(""),
		"wrong password":            basic("ops", "correct horsE"),
		"wrong user":                basic("root", "correct horse"),
		"wrong token as password":   basic("anyone", "nope-nope-nope-nope"),
		"the password as a bearer":  bearer("correct horse"),
		"the user as the password":  basic("ops", "ops"),
		"malformed Authorization":   func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") },
		"token in another scheme":   func(r *http.Request) { r.Header.Set("Authorization", "Token "+testToken) },
		"basic auth, empty":         basic("", ""),
		"bearer and a lowercase":    bearer(strings.ToUpper(testToken)),
		"credentials in a query":    func(r *http.Request) { r.URL.RawQuery = "token=" + testToken },
		"a cookie named like them":  func(r *http.Request) { r.Header.Set("Cookie", "token="+testToken) },
		"basic with a token prefix": basic("x", testToken[:MinTokenLen-1]),
	}
	for name, set := range wrong {
		for _, path := range gets {
			code, h, body := authRequest(t, http.MethodGet, ts.URL+path, set)
			if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic realm=") ||
				!strings.Contains(body, "authentication required") {
				t.Errorf("%s: GET %s: %d %q %q, want 401 with a challenge", name, path, code, h.Get("WWW-Authenticate"), body)
			}
		}
		for _, a := range Actions {
			set2 := func(r *http.Request) {
				r.Header.Set(CSRFHeader, s.CSRFToken()) // the CSRF token alone is not a credential
				if set != nil {
					set(r)
				}
			}
			if code, _, body := authRequest(t, http.MethodPost, ts.URL+"/api/tree/"+rootID+"/"+a, set2); code != http.StatusUnauthorized {
				t.Errorf("%s: POST %s: %d %s, want 401", name, a, code, body)
			}
		}
	}
	if calls := f.callLog(); len(calls) != 0 || f.treeReads != 0 || len(f.logReads) != 0 || len(f.listOpts) != 0 {
		t.Fatalf("the backend was reached without credentials: calls %v, %d tree reads, logs %v, lists %d", calls, f.treeReads, f.logReads, len(f.listOpts))
	}
	right := map[string]func(*http.Request){
		"bearer token":          bearer(testToken),
		"token as the password": basic("whoever", testToken),
		"user and password":     basic("ops", "correct horse"),
	}
	for name, set := range right {
		for path, want := range map[string]string{"/": "<title>hatchetflow inspector", "/static/app.js": "inspector page", "/api/config": "csrf",
			"/api/tree/" + rootID: rootID, "/api/logs/" + rootID: "RunID"} {
			code, _, body := authRequest(t, http.MethodGet, ts.URL+path, set)
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s: GET %s: %d %q, want 200 with %q", name, path, code, body, want)
			}
		}
		// Authenticated, an action still needs the CSRF token.
		if code, _, _ := authRequest(t, http.MethodPost, ts.URL+"/api/tree/"+rootID+"/resume", set); code != http.StatusForbidden {
			t.Errorf("%s: resume without the CSRF token: %d, want 403", name, code)
		}
		withCSRF := func(r *http.Request) { set(r); r.Header.Set(CSRFHeader, s.CSRFToken()) }
		if code, _, body := authRequest(t, http.MethodPost, ts.URL+"/api/tree/"+rootID+"/resume", withCSRF); code != http.StatusOK {
			t.Errorf("%s: resume: %d %s, want 200", name, code, body)
		}
	}
	// The host guard still comes first.
	code, _, _ := authRequest(t, http.MethodGet, ts.URL+"/api/config", func(r *http.Request) { bearer(testToken)(r); r.Host = "evil.example" })
	if code != http.StatusForbidden {
		t.Errorf("a foreign Host with the token: %d, want 403", code)
	}
}

func TestNoAuthConfiguredLetsRequestsIn(t *testing.T) {
	_, ts := newServer(t, newFake(), false)
	if code, _, _ := authRequest(t, http.MethodGet, ts.URL+"/api/config", nil); code != http.StatusOK {
		t.Errorf("no Auth: %d, want 200", code)
	}
}

// TestAuthorizerKeepsDigestsOnly: the server keeps SHA-256 digests of the secrets,
// which it compares with subtle.ConstantTimeCompare, not the secrets themselves.
func TestAuthorizerKeepsDigestsOnly(t *testing.T) {
	z := newAuthorizer(Auth{Token: testToken, User: "ops", Password: "correct horse"})
	for _, b := range [][32]byte{z.token, z.user, z.passwd} {
		if strings.Contains(string(b[:]), "ops") || strings.Contains(string(b[:]), "horse") {
			t.Fatal("a secret is kept in the clear")
		}
	}
	if same(testToken, z.token) != 1 || same(testToken+"x", z.token) != 0 || same("", z.token) != 0 {
		t.Error("same misjudges")
	}
}
