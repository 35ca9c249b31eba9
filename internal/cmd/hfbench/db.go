package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// databaseURL is the engine's database: DATABASE_URL, else the one scripts/stack
// recorded for the running engine (.state/run/engine.db, or under
// HATCHETFLOW_STATE_DIR).
func databaseURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	dir := os.Getenv("HATCHETFLOW_STATE_DIR")
	if dir == "" {
		dir = ".state"
	}
	b, err := os.ReadFile(filepath.Join(dir, "run", "engine.db"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// dbSize returns pg_database_size of the engine's database, or 0 when it cannot be
// read (the benchmark goes on without it).
func dbSize(ctx context.Context) int64 {
	url := databaseURL()
	if url == "" {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		progress("database size: %v", err)
		return 0
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, "select pg_database_size(current_database())").Scan(&n); err != nil {
		progress("database size: %v", err)
		return 0
	}
	return n
}
