package inspectui

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestHostGuard(t *testing.T) {
	f := newFake()
	s := New(f, Options{AllowActions: true, Logger: quiet()})
	for host, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:1234": true, "LOCALHOST": true, "[::1]:80": true, "localhost.:80": true,
		"evil.example": false, "evil.example:8080": false, "127.0.0.1.evil.example": false, "": false,
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/config", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if got := rec.Code == http.StatusOK; got != ok {
			t.Errorf("Host %q: %d, want allowed=%v", host, rec.Code, ok)
		}
		if !ok && (rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "not allowed")) {
			t.Errorf("Host %q: %d %s, want a 403 JSON error", host, rec.Code, rec.Body)
		}
	}
	// A refused host never reaches the backend, even with the right token.
	for _, action := range Actions {
		req := httptest.NewRequest(http.MethodPost, "/api/tree/"+rootID+"/"+action, nil)
		req.Host = "evil.example:8080"
		req.Header.Set(CSRFHeader, s.CSRFToken())
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || len(f.callLog()) != 0 {
			t.Errorf("POST %s with a bad host: %d, calls %v", action, rec.Code, f.callLog())
		}
	}
}

func TestAllowedHostsOption(t *testing.T) {
	s := New(newFake(), Options{AllowedHosts: []string{"inspector.lan", "10.0.0.5:9000"}, Logger: quiet()})
	for host, ok := range map[string]bool{
		"inspector.lan:8080": true, "10.0.0.5:9000": true, "10.0.0.5:9001": false, "localhost:8080": false,
	} {
		if got := s.hostAllowed(host); got != ok {
			t.Errorf("Host %q allowed=%v, want %v", host, got, ok)
		}
	}
}

func TestAllowedHostsFor(t *testing.T) {
	if got := AllowedHostsFor("192.168.1.7:8080"); !slices.Contains(got, "192.168.1.7") || !slices.Contains(got, "localhost") {
		t.Errorf("AllowedHostsFor(192.168.1.7:8080) = %v", got)
	}
	if got := AllowedHostsFor("127.0.0.1:8080"); !slices.Contains(got, "::1") {
		t.Errorf("AllowedHostsFor(127.0.0.1:8080) = %v", got)
	}
	if got := AllowedHostsFor("0.0.0.0:8080"); slices.Contains(got, "0.0.0.0") || !slices.Contains(got, "127.0.0.1") {
		t.Errorf("AllowedHostsFor(0.0.0.0:8080) = %v", got)
	}
}
