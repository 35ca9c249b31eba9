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
	"github.com/hatchetflow/go/testing/flowtest"
)

func TestUIServesUntilCancelled(t *testing.T) {
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
