package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/mcpserver"
	"github.com/hatchetflow/go/testing/flowtest"
)

// syncBuffer is a bytes.Buffer that the command and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func mcpHarness(t *testing.T) (*flowtest.Harness, string) {
	t.Helper()
	h := flowtest.New(t, hatchetflow.WithKeyPrefix("hf"))
	h.Quiet()
	if _, err := hatchetflow.NewTask(h.Client, "double", func(_ hatchet.Context, in In) (int, error) { return 2 * in.N, nil }); err != nil {
		t.Fatal(err)
	}
	sig, err := dsl.Sign("double").Save(context.Background(), h.Client)
	if err != nil {
		t.Fatal(err)
	}
	return h, sig.ID
}

func listedTools(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func TestMCPRefusesANonLoopbackAddress(t *testing.T) {
	h, _ := mcpHarness(t)
	for _, addr := range []string{"0.0.0.0:8765", ":8765", "192.0.2.1:8765", "example.com:8765"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--redis", "redis://" + h.Redis.Addr(), "mcp", "--http", addr}, &out, &errOut, sdkOnly(noHatchet))
		if code != exitUsage || !strings.Contains(errOut.String(), "not a loopback address") {
			t.Errorf("mcp --http %s: exit %d, stderr %q; want a usage error naming the loopback rule", addr, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"mcp", "ID"}, &out, &errOut, sdkOnly(noHatchet)); code != exitUsage {
		t.Errorf("mcp with an id: exit %d", code)
	}
}

func TestMCPOverStreamableHTTP(t *testing.T) {
	h, id := mcpHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--redis", "redis://" + h.Redis.Addr(), "mcp", "--http", "127.0.0.1:0"}, pw, &errOut, sdkOnly(noHatchet))
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	const prefix = "serving MCP (streamable HTTP) on "
	if err != nil || !strings.HasPrefix(line, prefix+"http://127.0.0.1:") {
		t.Fatalf("first line %q (%v), stderr %s", line, err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	endpoint := strings.TrimSpace(strings.TrimPrefix(line, prefix))

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listedTools(t, cs), slices.Sorted(slices.Values(mcpserver.ReadTools)); !slices.Equal(got, want) {
		t.Fatalf("tools = %v, want the read tools %v", got, want)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_signature", Arguments: map[string]any{"id": id}})
	if err != nil || res.IsError {
		t.Fatalf("get_signature: %v %+v", err, res)
	}
	if sc, _ := res.StructuredContent.(map[string]any); sc["id"] != id || sc["status"] != "pending" {
		t.Fatalf("get_signature = %+v", res.StructuredContent)
	}
	// get_logs of a signature that never ran needs no engine; of one that ran, without
	// Hatchet configured, it is a tool error with a code saying why.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_logs", Arguments: map[string]any{"id": id}})
	if err != nil || res.IsError {
		t.Fatalf("get_logs(pending): %v %+v", err, res)
	}
	ran, err := dsl.Sign("double").Run(ctx, h.Client, In{N: 1})
	if err != nil {
		t.Fatal(err)
	}
	h.Drain(ctx)
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_logs", Arguments: map[string]any{"id": ran.SignatureID()}})
	if sc, _ := res.StructuredContent.(map[string]any); err != nil || !res.IsError || sc["code"] != mcpserver.CodeUnavailable ||
		!strings.Contains(sc["message"].(string), "no engine in this test") {
		t.Fatalf("get_logs without Hatchet: %v %+v", err, res)
	}
	cs.Close()

	// DNS rebinding: a foreign Host is refused.
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{}`))
	req.Host = "attacker.example"
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", resp.StatusCode)
	}
	// A browser's cross-site POST is refused.
	req, _ = http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}

	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d, stderr %s", c, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mcp --http did not stop when its context ended")
	}
}

func TestMCPOverStdioWithActions(t *testing.T) {
	h, id := mcpHarness(t)
	ctx := context.Background()
	inR, inW := io.Pipe()   // client -> command
	outR, outW := io.Pipe() // command -> client
	old := mcpStdin
	mcpStdin = inR
	defer func() { mcpStdin = old }()
	var errOut syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--redis", "redis://" + h.Redis.Addr(), "--prefix", "hf", "mcp", "--allow-actions"}, outW, &errOut, onHarness(h))
		outW.Close()
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(mcpserver.ReadTools), mcpserver.ActionTools...)))
	if got := listedTools(t, cs); !slices.Equal(got, want) {
		t.Fatalf("tools = %v, want %v", got, want)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "cancel", Arguments: map[string]any{"id": id}})
	if err != nil || res.IsError {
		t.Fatalf("cancel: %v %+v", err, res)
	}
	h.RequireStatus(t, id, hatchetflow.StatusCancelled)
	cs.Close() // closes the command's stdin: it exits
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d, stderr %s", c, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("mcp did not exit when its stdin closed")
	}
}
