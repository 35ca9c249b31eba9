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
)

// runUI serves the inspector web page until ctx ends or SIGINT/SIGTERM:
//
//	hatchetflow [--redis URL] [--prefix P] ui [--listen 127.0.0.1:8080] [--allow-actions] [--allow-host HOST]... [--poll 500ms]
//
// It reads Redis only, unless --allow-actions, which also connects to Hatchet (cancel
// and retry need the engine) and enables the page's cancel, suspend, resume and retry
// buttons.
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
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --redis:", err)
		return exitUsage
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: connect to Redis:", err)
		return exitFailed
	}
	opts := []hatchetflow.Option{hatchetflow.WithKeyPrefix(prefix)}
	var hc *hatchet.Client
	if *allowActions {
		var more []hatchetflow.Option
		if hc, more, err = connect(); err != nil {
			fmt.Fprintln(stderr, "hatchetflow: connect to Hatchet (HATCHET_CLIENT_*):", err)
			return exitFailed
		}
		opts = append(opts, more...)
	} else {
		opts = append(opts, engine.WithDispatcher(readOnly{}))
	}
	flow, err := hatchetflow.New(hc, rdb, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow:", err)
		return exitFailed
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --listen:", err)
		return exitFailed
	}
	addr := ln.Addr().String()
	if !isLoopback(addr) {
		fmt.Fprintf(stderr, "hatchetflow: warning: %s is not a loopback address: whoever reaches it can read every signature", addr)
		if *allowActions {
			fmt.Fprint(stderr, " and cancel, suspend, resume or retry them")
		}
		fmt.Fprintln(stderr)
	}
	ui := inspectui.New(inspectui.ClientBackend{Client: flow}, inspectui.Options{AllowActions: *allowActions, PollInterval: *poll,
		AllowedHosts: append(inspectui.AllowedHostsFor(addr), extraHosts...)})
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
