// Command example-worker runs the scenarios of MageFlow's callbacks doc on a real
// Hatchet engine with hatchetflow: success callbacks with the return value injected,
// kwargs updated after signing, error callbacks with the original message and bound
// fields, and validation errors. It prints what every callback received and exits 0.
//
// It reads the Hatchet client settings from HATCHET_CLIENT_* (`make demo` starts a
// local engine and sets them) and Redis from REDIS_URL, else 127.0.0.1:6379, else an
// in-process miniredis. With --serve it keeps running as a worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/hatchetflow/go/hatchetflow"
)

func main() {
	serve := flag.Bool("serve", false, "keep running as a worker after the scenarios (Ctrl-C stops)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up on the scenarios after this long")
	flag.Parse()
	if err := run(*serve, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "example-worker:", err)
		os.Exit(1)
	}
}

func run(serve bool, timeout time.Duration) error {
	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rdb, closeRedis, err := connectRedis(ctx)
	if err != nil {
		return err
	}
	defer closeRedis()

	if os.Getenv("HATCHET_CLIENT_TOKEN") == "" {
		return errors.New("HATCHET_CLIENT_TOKEN is not set: run `make demo`, which starts a local engine and sets it")
	}
	if os.Getenv("HATCHET_CLIENT_TLS_STRATEGY") == "" {
		os.Setenv("HATCHET_CLIENT_TLS_STRATEGY", "none")
	}
	if os.Getenv("HATCHET_CLIENT_LOG_LEVEL") == "" {
		os.Setenv("HATCHET_CLIENT_LOG_LEVEL", "warn")
	}
	hc, err := hatchet.NewClient()
	if err != nil {
		return fmt.Errorf("hatchet client: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := hatchetflow.New(hc, rdb, hatchetflow.WithLogger(logger))
	if err != nil {
		return err
	}
	rec := newRecorder()
	t, err := register(c, hc, rec)
	if err != nil {
		return err
	}
	wlog := zerolog.New(os.Stderr).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	w, err := c.NewWorker(ctx, "hatchetflow-example", &hatchetflow.WorkerOptions{
		Options: []hatchet.WorkerOption{hatchet.WithLogger(&wlog)}, // the SDK's worker logs debug by default
	})
	if err != nil {
		return err
	}
	cleanup, err := w.Start()
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer func() { _ = cleanup() }()
	fmt.Printf("worker started in %s\n", time.Since(start).Round(time.Millisecond))

	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &demo{c: c, t: t, rec: rec, out: os.Stdout}
	if err := d.run(sctx); err != nil {
		return err
	}
	fmt.Printf("\nall scenarios done in %s\n", time.Since(start).Round(time.Millisecond))
	if serve {
		fmt.Println("serving; Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

// connectRedis uses REDIS_URL, else 127.0.0.1:6379 if it answers, else an in-process
// miniredis, and says which.
func connectRedis(ctx context.Context) (redis.UniversalClient, func(), error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb := redis.NewClient(opt)
		fmt.Printf("redis: %s (REDIS_URL)\n", opt.Addr)
		return rdb, func() { _ = rdb.Close() }, nil
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if rdb.Ping(pctx).Err() == nil {
		fmt.Println("redis: 127.0.0.1:6379")
		return rdb, func() { _ = rdb.Close() }, nil
	}
	_ = rdb.Close()
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, err
	}
	fmt.Printf("redis: in-process miniredis at %s (no Redis server found)\n", mr.Addr())
	rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return rdb, func() { _ = rdb.Close(); mr.Close() }, nil
}
