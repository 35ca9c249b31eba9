package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestOwnPostgresClusterWithFakes(t *testing.T) {
	f := newFixture(t)
	f.cfg.DatabaseURL = ""
	ctx := context.Background()
	writeTestFile(t, filepath.Join(f.state, "token"), "stale.token.value\n")
	record := filepath.Join(t.TempDir(), "rec")
	if err := f.stack().Up(ctx, record); err != nil {
		t.Fatalf("up: %v\n%s", err, f.out)
	}
	if got := readLines(t, record); strings.Join(got, ",") != "pg,redis,engine" {
		t.Errorf("record = %q, want pg, redis, engine", got)
	}
	// initdb as in the script, and the speed-over-durability settings appended.
	data := filepath.Join(f.state, "pg", "data")
	if got := devstacktest.Calls(f.fakes, "initdb"); len(got) != 1 ||
		got[0] != "-D "+data+" -U hatchet --auth=trust -E UTF8 --no-locale" {
		t.Errorf("initdb calls %q", got)
	}
	conf := readTrim(filepath.Join(data, "postgresql.conf"))
	for _, w := range []string{"listen_addresses = '127.0.0.1'", "unix_socket_directories = '" + filepath.Join(f.state, "pg") + "'",
		"max_connections = 200", "fsync = off", "synchronous_commit = off", "full_page_writes = off"} {
		if !strings.Contains(conf, w) {
			t.Errorf("postgresql.conf lacks %q", w)
		}
	}
	port := f.cfg.PGPort
	start := devstacktest.Calls(f.fakes, "pg_ctl")
	if len(start) != 1 || start[0] != fmt.Sprintf("-D %s -l %s -w -t 60 -o -p %d start", data, filepath.Join(f.state, "pg", "postgres.log"), port) {
		t.Errorf("pg_ctl calls %q", start)
	}
	// The database was created in it, and the engine migrated it.
	wantURL := fmt.Sprintf("postgresql://hatchet@127.0.0.1:%d/hatchet?sslmode=disable", port)
	if got := readTrim(filepath.Join(f.state, "run", "engine.db")); got != wantURL {
		t.Errorf("engine.db = %q, want %q", got, wantURL)
	}
	if _, err := os.Stat(filepath.Join(f.fakes, "db-hatchet")); err != nil {
		t.Error("database hatchet not created")
	}
	// A fresh cluster forgets the old token (prepare mints one for the new database).
	if tok := readTrim(filepath.Join(f.state, "token")); tok != "fake.jwt.token" {
		t.Errorf("token = %q", tok)
	}
	var status strings.Builder
	_ = f.stack().Status(ctx, &status)
	if !strings.Contains(status.String(), fmt.Sprintf("own postgres: running on 127.0.0.1:%d", port)) {
		t.Errorf("status:\n%s", status.String())
	}

	// A second up keeps the running cluster (no initdb, no start).
	if err := f.stack().Up(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if len(devstacktest.Calls(f.fakes, "initdb")) != 1 || len(devstacktest.Calls(f.fakes, "pg_ctl")) != 1 {
		t.Error("second up initialised or started the cluster again")
	}

	if err := f.stack().Down(ctx, record); err != nil {
		t.Fatalf("down: %v\n%s", err, f.out)
	}
	calls := devstacktest.Calls(f.fakes, "pg_ctl")
	if last := calls[len(calls)-1]; last != "-D "+data+" -m fast -w -t 60 stop" {
		t.Errorf("stop call %q", last)
	}
	if _, ok := f.cfg.ownPGRunning(); ok {
		t.Error("own cluster still running after down")
	}
	if _, err := os.Stat(filepath.Join(f.state, "run", "pg.own")); err == nil {
		t.Error("run/pg.own left")
	}
}

func TestSharedPostgresWithReset(t *testing.T) {
	f := newFixture(t)
	f.cfg.DatabaseURL = ""
	f.cfg.PGProbePort = 5999 // only handed to the fake pg_isready and psql
	f.cfg.PGReset = true
	f.cfg.PGDB = "hatchet_ci"
	writeTestFile(t, filepath.Join(f.fakes, "pg_isready.ok"), "")
	writeTestFile(t, filepath.Join(f.fakes, "psql.deny"), "postgres\n") // trust login works as root only
	writeTestFile(t, filepath.Join(f.fakes, "db-hatchet_ci"), "")
	writeTestFile(t, filepath.Join(f.state, "token"), "old.token.value\n")
	s := f.stack()
	if err := s.ensurePostgres(context.Background()); err != nil {
		t.Fatalf("ensurePostgres: %v\n%s", err, f.out)
	}
	if s.databaseURL != "postgresql://root@127.0.0.1:5999/hatchet_ci?sslmode=disable" || s.pgSource != "shared 127.0.0.1:5999" {
		t.Errorf("shared: %q %q", s.databaseURL, s.pgSource)
	}
	calls := strings.Join(devstacktest.Calls(f.fakes, "psql"), "\n")
	for _, w := range []string{`root: drop database if exists "hatchet_ci" with (force)`, `root: create database "hatchet_ci"`} {
		if !strings.Contains(calls, w) {
			t.Errorf("psql calls lack %q:\n%s", w, calls)
		}
	}
	if _, err := os.Stat(filepath.Join(f.state, "token")); err == nil {
		t.Error("HATCHETFLOW_PG_RESET=1 kept the token of the dropped database")
	}
	if _, err := os.Stat(filepath.Join(f.state, "pg")); err == nil {
		t.Error("an own cluster was made although a shared server answered")
	}
}

func TestVersionLessSortsLikeSortV(t *testing.T) {
	dirs := []string{"/usr/lib/postgresql/9/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}
	if !versionLess(dirs[0], dirs[2]) || !versionLess(dirs[2], dirs[1]) || versionLess(dirs[1], dirs[0]) {
		t.Error("versionLess does not compare numbers as numbers")
	}
}
