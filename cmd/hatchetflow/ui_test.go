package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/inspectui"
	"github.com/hatchetflow/go/testing/flowtest"
)

// noUIAuth clears the inspector's credentials from the environment for one test.
func noUIAuth(t *testing.T) {
	t.Helper()
	for _, k := range []string{inspectui.EnvToken, inspectui.EnvUser, inspectui.EnvPassword} {
		t.Setenv(k, "")
	}
}

func TestUIServesUntilCancelled(t *testing.T) {
	noUIAuth(t)
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	sig, err := dsl.Sign("double").Save(ctx, h.Client)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--redis", "redis://" + h.Redis.Addr(), "ui", "--listen", "127.0.0.1:0"}, pw, &errOut, sdkOnly(noHatchet))
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving http://127.0.0.1:") {
		t.Fatalf("first line %q (%v), stderr %s", line, err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "serving "))
	resp, err := http.Get(base + "/api/config")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ Actions bool }
	err = json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || cfg.Actions {
		t.Fatalf("config: %d %+v %v, want read-only", resp.StatusCode, cfg, err)
	}
	resp, err = http.Get(base + "/api/tree/11111111-1111-4111-8111-111111111111")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown tree: %d, want 404", resp.StatusCode)
	}
	// The saved signature's live tree; the open stream must not hold the shutdown up.
	resp, err = http.Get(base + "/api/tree/" + sig.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var first string
	for !strings.HasPrefix(first, "data: ") {
		if first, err = r.ReadString('\n'); err != nil {
			t.Fatalf("event stream: %v", err)
		}
	}
	var node hatchetflow.Node
	if err := json.Unmarshal([]byte(strings.TrimPrefix(first, "data: ")), &node); err != nil || node.ID != sig.ID || node.Task != "double" ||
		node.Status != hatchetflow.StatusPending {
		t.Fatalf("first tree event %q: %v", first, err)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d, stderr %s", c, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ui did not stop after its context ended")
	}
	if strings.Contains(errOut.String(), "warning") {
		t.Errorf("warning for a loopback address: %s", errOut.String())
	}
}

func TestUIUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if c := run1(context.Background(), []string{"ui", "some-id"}, &out, &errOut); c != exitUsage {
		t.Errorf("ui with an id: exit %d, want %d", c, exitUsage)
	}
	if !isLoopback("127.0.0.1:8080") || !isLoopback("[::1]:80") || !isLoopback("localhost:1") || isLoopback("0.0.0.0:8080") || isLoopback(":8080") {
		t.Error("isLoopback misjudges")
	}
}

// TestUIRefusesAnOpenAddressWithoutAuth: on an address that is not loopback, `ui`
// without credentials in the environment refuses to start (exit 2) and says how to
// give them; with bad ones too.
func TestUIRefusesAnOpenAddressWithoutAuth(t *testing.T) {
	noUIAuth(t)
	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:8080"} {
		var out, errOut bytes.Buffer
		if c := run1(context.Background(), []string{"ui", "--listen", listen}, &out, &errOut); c != exitUsage {
			t.Errorf("ui --listen %s without auth: exit %d, want %d", listen, c, exitUsage)
		}
		msg := errOut.String()
		if !strings.Contains(msg, "refusing to serve on "+listen+" without authentication") || !strings.Contains(msg, inspectui.EnvToken) ||
			!strings.Contains(msg, inspectui.EnvUser) || out.Len() != 0 {
			t.Errorf("ui --listen %s: stdout %q, stderr %q", listen, out.String(), msg)
		}
	}
	t.Setenv(inspectui.EnvUser, "ops") // a user without a password
	var out, errOut bytes.Buffer
	if c := run1(context.Background(), []string{"ui", "--listen", "0.0.0.0:0"}, &out, &errOut); c != exitUsage ||
		!strings.Contains(errOut.String(), inspectui.EnvPassword) {
		t.Errorf("ui with a user and no password: exit %d, stderr %q", c, errOut.String())
	}
}

// TestUIRequiresTheTokenOnAnOpenAddress: with HATCHETFLOW_UI_TOKEN set, `ui --listen
// 0.0.0.0:0` serves, and answers 401 to requests without the token.
func TestUIRequiresTheTokenOnAnOpenAddress(t *testing.T) {
	noUIAuth(t)
	const token = "ui-test-token-0123456789"
	t.Setenv(inspectui.EnvToken, token)
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--redis", "redis://" + h.Redis.Addr(), "ui", "--listen", "0.0.0.0:0"}, pw, &errOut, sdkOnly(noHatchet))
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving http://127.0.0.1:") {
		t.Fatalf("first line %q (%v), stderr %s", line, err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "serving "))
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer nope-nope-nope-nope": http.StatusUnauthorized,
		"Bearer " + token: http.StatusOK} {
		for _, path := range []string{"/", "/api/config", "/api/list"} {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s with %q: %d, want %d", path, auth, resp.StatusCode, want)
			}
		}
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("exit %d, stderr %s", c, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ui did not stop after its context ended")
	}
	if !strings.Contains(errOut.String(), "every request must authenticate") {
		t.Errorf("no note about the open address: %s", errOut.String())
	}
}
