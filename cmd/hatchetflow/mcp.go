package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/internal/mcpserver"
)

// mcpStdin is what the stdio transport reads (tests replace it).
var mcpStdin io.Reader = os.Stdin

// runMCP serves the MCP server until the client closes stdin, ctx ends, or
// SIGINT/SIGTERM:
//
//	hatchetflow [--redis URL] [--prefix P] [--timeout D] mcp [--http 127.0.0.1:PORT] [--allow-actions]
//
// Over stdio by default (stdout carries the protocol only; diagnostics go to stderr),
// or streamable HTTP on a loopback address with --http. It reads Redis, and the
// engine for get_logs (connecting on first use); --allow-actions adds the retry,
// cancel, suspend and resume tools and connects to Hatchet at start. --timeout bounds
// each tool call.
func runMCP(ctx context.Context, args []string, redisURL, prefix string, timeout time.Duration, stdout, stderr io.Writer, connect connector) int {
	fs := flag.NewFlagSet("hatchetflow mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", "", "serve streamable HTTP on this loopback address (127.0.0.1:PORT) instead of stdio")
	allowActions := fs.Bool("allow-actions", false, "add the retry, cancel, suspend and resume tools (connects to Hatchet)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: hatchetflow [flags] mcp [--http 127.0.0.1:PORT] [--allow-actions] (no id)")
		return exitUsage
	}
	if *httpAddr != "" && !isLoopback(*httpAddr) {
		fmt.Fprintf(stderr, "hatchetflow: --http %s: not a loopback address: the MCP server has no authentication, so it listens on 127.0.0.1, [::1] or localhost only (e.g. --http 127.0.0.1:8765)\n", *httpAddr)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	flow, rdb, hc, code := serveClient(ctx, redisURL, prefix, *allowActions, stderr, connect)
	if flow == nil {
		return code
	}
	defer rdb.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var connMu sync.Mutex
	logs := mcpserver.NewHatchetLogs(func() (*hatchet.Client, error) {
		connMu.Lock()
		defer connMu.Unlock()
		if hc != nil {
			return hc, nil
		}
		c, _, err := connect()
		if err == nil {
			hc = c
		}
		return c, err
	})
	server := mcpserver.New(flow, mcpserver.Options{AllowActions: *allowActions, Logs: logs, Timeout: timeout, Logger: logger})

	if *httpAddr == "" {
		t := &mcp.IOTransport{Reader: io.NopCloser(mcpStdin), Writer: nopWriteCloser{stdout}}
		if err := server.Run(ctx, t); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
			fmt.Fprintln(stderr, "hatchetflow: mcp:", err)
			return exitFailed
		}
		return exitOK
	}
	return serveMCPHTTP(ctx, server, *httpAddr, stdout, stderr, logger)
}

// serveMCPHTTP serves server as streamable HTTP at /mcp on the loopback address addr.
func serveMCPHTTP(ctx context.Context, server *mcp.Server, addr string, stdout, stderr io.Writer, logger *slog.Logger) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --http:", err)
		return exitFailed
	}
	if !isLoopback(ln.Addr().String()) { // "localhost" resolved to something else
		ln.Close()
		fmt.Fprintf(stderr, "hatchetflow: --http %s: listening on %s, which is not a loopback address\n", addr, ln.Addr())
		return exitUsage
	}
	// The SDK refuses a request whose Host is not a loopback name (DNS rebinding);
	// the cross-origin check refuses a browser's cross-site POST.
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.NewCrossOriginProtection().Handler(h))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	fmt.Fprintf(stdout, "serving MCP (streamable HTTP) on http://%s/mcp\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
		if err != nil { // open event streams: close them
			err = srv.Close()
		}
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "hatchetflow: serve:", err)
		return exitFailed
	}
	return exitOK
}

// nopWriteCloser is stdout as the transport's writer: closing the session does not
// close it.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
