package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hatchet-dev/hatchet/cmd/hatchet-api/api"
	"github.com/hatchet-dev/hatchet/cmd/hatchet-engine/engine"
	"github.com/hatchet-dev/hatchet/pkg/config/loader"
)

// partResult is how one part of the server (engine or API) ended.
type partResult struct {
	part string
	err  error
}

// serve runs Hatchet's engine (gRPC, SERVER_GRPC_PORT) and, when withAPI, its REST API
// (SERVER_PORT) in this process, as hatchet-lite co-hosts them, with the config that
// prepare left in stateDir. SIGTERM or SIGINT stops both gracefully (nil error); a
// part that fails or ends on its own stops the other and is returned as an error. A
// second signal during the shutdown gives up waiting.
func serve(p *progress, stateDir string, withAPI bool) error {
	if os.Getenv("DATABASE_URL") == "" {
		return errors.New("DATABASE_URL is not set")
	}
	version, err := hatchetVersion()
	if err != nil {
		return err
	}
	configDir := filepath.Join(stateDir, configDirName)
	keys, err := readKeys(filepath.Join(configDir, serverYAML))
	if err != nil {
		return fmt.Errorf("%w (run `hfengine prepare --state %s` first)", err, stateDir)
	}
	grpcAddr, apiAddr, err := listenAddrs(keys)
	if err != nil {
		return err
	}
	if err := checkFree(grpcAddr, "gRPC (SERVER_GRPC_PORT)"); err != nil {
		return err
	}
	parts := "engine"
	if withAPI {
		if err := checkFree(apiAddr, "REST API (SERVER_PORT)"); err != nil {
			return err
		}
		parts = "engine and REST API"
	}
	p.logf("serve %s with Hatchet %s: %s (gRPC %s, REST %s)", stateDir, version, parts, grpcAddr, onOff(withAPI, apiAddr))

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	cl := loader.NewConfigLoader(configDir)
	engineCtx, stopEngine := context.WithCancel(context.Background())
	defer stopEngine()
	apiStop := make(chan interface{})
	done := make(chan partResult, 2)
	running := 1
	go func() { done <- partResult{"engine", engine.Run(engineCtx, cl, version)} }()
	if withAPI {
		running++
		go func() { done <- partResult{"REST API", api.Start(cl, apiStop, version)} }()
	}
	announceCtx, stopAnnounce := context.WithCancel(context.Background())
	defer stopAnnounce()
	go announceOpen(announceCtx, p, "gRPC", grpcAddr)
	if withAPI {
		go announceOpen(announceCtx, p, "REST API", apiAddr)
	}

	var failure error
	var stopStart time.Time
	stopping := false
	stopAll := func() {
		if stopping {
			return
		}
		stopping, stopStart = true, time.Now()
		stopAnnounce()
		stopEngine()
		if withAPI {
			close(apiStop)
		}
	}
	for running > 0 {
		select {
		case s := <-sigs:
			if stopping {
				return fmt.Errorf("%v during the shutdown: exiting without waiting for it", s)
			}
			p.logf("%v: stopping gracefully", s)
			stopAll()
		case r := <-done:
			running--
			switch {
			case r.err != nil:
				failure = errors.Join(failure, fmt.Errorf("%s: %w", r.part, r.err))
			case !stopping:
				failure = errors.Join(failure, fmt.Errorf("%s stopped on its own", r.part))
			default:
				p.logf("%s stopped after %.1fs", r.part, time.Since(stopStart).Seconds())
			}
			if !stopping {
				p.logf("%s ended: stopping the rest", r.part)
				stopAll()
			}
		}
	}
	if failure != nil {
		return failure
	}
	p.logf("stopped in %.1fs", time.Since(stopStart).Seconds())
	return nil
}

// listenAddrs reads the gRPC and REST listen addresses from the server config (the
// environment over the config file, as Hatchet reads it). Hatchet's API listens on
// every interface, its gRPC server on SERVER_GRPC_BIND_ADDRESS.
func listenAddrs(serverYAMLContent []byte) (grpcAddr, apiAddr string, err error) {
	sc, err := loader.LoadServerConfigFile(serverYAMLContent)
	if err != nil {
		return "", "", fmt.Errorf("load the server config: %w", err)
	}
	grpcAddr = net.JoinHostPort(sc.Runtime.GRPCBindAddress, strconv.Itoa(sc.Runtime.GRPCPort))
	apiAddr = ":" + strconv.Itoa(sc.Runtime.Port)
	return grpcAddr, apiAddr, nil
}

// checkFree fails with a clear message when addr cannot be listened on (Hatchet's API
// server would panic in a goroutine instead).
func checkFree(addr, what string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: cannot listen on %s: %w", what, addr, err)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("%s: close the probe listener on %s: %w", what, addr, err)
	}
	return nil
}

// announceOpen logs once addr accepts connections (polling until ctx ends).
func announceOpen(ctx context.Context, p *progress, what, addr string) {
	dial := dialAddr(addr)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", dial, time.Second)
		if err == nil {
			_ = c.Close()
			p.logf("%s listening on %s", what, dial)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// dialAddr turns a listen address into one to connect to (an unspecified host is
// reached on the loopback).
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// onOff returns s when on, else "off".
func onOff(on bool, s string) string {
	if on {
		return s
	}
	return "off"
}
