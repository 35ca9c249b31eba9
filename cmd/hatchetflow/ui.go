package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/inspectui"
	"github.com/hatchetflow/go/redisstore"
)

// runUI serves the inspector web page until ctx ends or SIGINT/SIGTERM:
//
//	hatchetflow [--redis URL] [--prefix P] ui [--listen 127.0.0.1:8080] [--allow-actions] [--allow-host HOST]... [--poll 500ms]
//
// It reads Redis, and the runs' logs through Hatchet when the HATCHET_CLIENT_*
// variables are set; --allow-actions requires Hatchet (cancel and retry need the
// engine) and enables the page's cancel, suspend, resume and retry buttons.
// Credentials come from the environment only (inspectui.AuthFromEnv:
// HATCHETFLOW_UI_TOKEN, or HATCHETFLOW_UI_USER and HATCHETFLOW_UI_PASSWORD); an
// address that is not loopback is refused without them (exit 2).
func runUI(ctx context.Context, args []string, redisURL, prefix string, stdout, stderr io.Writer, connect connector) int {
	fs := flag.NewFlagSet("hatchetflow ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on")
	allowActions := fs.Bool("allow-actions", false, "enable cancel, suspend, resume and retry (connects to Hatchet)")
	poll := fs.Duration("poll", inspectui.DefaultPollInterval, "how often live views re-read Redis")
	var extraHosts []string
	fs.Func("allow-host", "also accept this Host header name (repeatable; default: loopback names and the --listen host)",
		func(s string) error { extraHosts = append(extraHosts, s); return nil })
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: hatchetflow [flags] ui [--listen ADDR] [--allow-actions] [--allow-host HOST] (no id)")
		return exitUsage
	}
	auth, err := inspectui.AuthFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow:", err)
		return exitUsage
	}
	if !isLoopback(*listen) && !auth.Enabled() {
		fmt.Fprintf(stderr, "hatchetflow: refusing to serve on %s without authentication: it is not a loopback address, so whoever reaches it "+
			"could read every signature. Set %s (a bearer token, also the password of the browser's login prompt), or %s and %s, in the "+
			"environment, or listen on 127.0.0.1.\n", *listen, inspectui.EnvToken, inspectui.EnvUser, inspectui.EnvPassword)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	flow, rdb, hc, code := serveClient(ctx, redisURL, prefix, *allowActions, stderr, connect)
	if flow == nil {
		return code
	}
	defer rdb.Close()
	logs := hc                                                  // logs: the SDK client the run logs are read through
	if logs == nil && os.Getenv("HATCHET_CLIENT_TOKEN") != "" { // read-only: the logs are optional
		if logs, _, err = connect(); err != nil {
			fmt.Fprintln(stderr, "hatchetflow: the page shows no run logs: connect to Hatchet (HATCHET_CLIENT_*):", err)
			logs = nil
		}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --listen:", err)
		return exitFailed
	}
	addr := ln.Addr().String()
	if !isLoopback(addr) {
		fmt.Fprintf(stderr, "hatchetflow: %s is not a loopback address: every request must authenticate; "+
			"serve it through TLS (a reverse proxy), as plain HTTP carries the credentials in clear text\n", addr)
	}
	runURL, _ := inspectui.RunURLFromEnv(os.Getenv) // no dashboard address: no link
	backend := inspectui.NewClientBackend(flow, redisstore.New(rdb, redisstore.WithPrefix(prefix)), logs)
	ui := inspectui.New(backend, inspectui.Options{AllowActions: *allowActions, PollInterval: *poll,
		AllowedHosts: append(inspectui.AllowedHostsFor(addr), extraHosts...), Auth: auth, RunURL: runURL})
	srv := &http.Server{Handler: ui, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }} // ends the event streams on shutdown
	fmt.Fprintf(stdout, "serving http://%s\n", browsable(addr))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "hatchetflow: serve:", err)
		return exitFailed
	}
	return exitOK
}

// isLoopback reports whether the listen address addr (host:port) is reachable from
// this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// browsable turns a wildcard listen address into one a browser on this machine opens.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// serveClient opens what the ui and mcp commands serve: the Redis at redisURL
// (serveRedis) and a hatchetflow client on it under prefix. With allowActions it
// connects to Hatchet (HATCHET_CLIENT_*), so cancels and retries reach the engine, and
// returns that SDK client; without, the client dispatches nothing (readOnly) and hc is
// nil. On failure flow is nil, the reason is on stderr, and code is the exit status;
// otherwise the caller closes rdb.
func serveClient(ctx context.Context, redisURL, prefix string, allowActions bool, stderr io.Writer,
	connect connector) (flow *hatchetflow.Client, rdb *redis.Client, hc *hatchet.Client, code int) {
	rdb, code = serveRedis(ctx, redisURL, stderr)
	if rdb == nil {
		return nil, nil, nil, code
	}
	opts := []hatchetflow.Option{hatchetflow.WithKeyPrefix(prefix)}
	if allowActions {
		var more []hatchetflow.Option
		var err error
		if hc, more, err = connect(); err != nil {
			_ = rdb.Close()
			fmt.Fprintln(stderr, "hatchetflow: connect to Hatchet (HATCHET_CLIENT_*):", err)
			return nil, nil, nil, exitFailed
		}
		opts = append(opts, more...)
	} else {
		opts = append(opts, engine.WithDispatcher(readOnly{}))
	}
	flow, err := hatchetflow.New(hc, rdb, opts...)
	if err != nil {
		_ = rdb.Close()
		fmt.Fprintln(stderr, "hatchetflow:", err)
		return nil, nil, nil, exitFailed
	}
	return flow, rdb, hc, exitOK
}

// serveRedis connects to the Redis at redisURL for a serving command (ui, mcp) and
// checks it answers within 5 s. It returns nil and the exit code after printing why
// when it cannot: a malformed URL is a usage error, an unreachable Redis a failure.
func serveRedis(ctx context.Context, redisURL string, stderr io.Writer) (*redis.Client, int) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --redis:", err)
		return nil, exitUsage
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		_ = rdb.Close()
		fmt.Fprintln(stderr, "hatchetflow: connect to Redis:", err)
		return nil, exitFailed
	}
	return rdb, exitOK
}
