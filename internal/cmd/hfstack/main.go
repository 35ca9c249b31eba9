// Command hfstack starts and stops hatchetflow's local Hatchet engine, PostgreSQL and
// Redis for the tests, the demo and the benchmarks; scripts/stack builds and runs it.
//
//	hfstack up [--record FILE]   build or fetch hfengine, pick/start Postgres and Redis,
//	                             prepare (migrate, seed, token), start the engine, write .state/env.
//	                             --record appends the name of each component THIS call started.
//	hfstack down [--only FILE]   gracefully stop what `up` started (only the components listed in
//	                             FILE with --only). Shared services are never touched.
//	hfstack env                  print .state/env (export lines for the SDK and REDIS_URL)
//	hfstack status               what is running and where
//	hfstack build                only build (or fetch from the per-machine cache) the engine binary
//
// Everything binds to and talks to 127.0.0.1. The repository root is HATCHETFLOW_ROOT
// (set by scripts/stack), else the folder above the working directory holding
// hatchetflow's go.mod. docs/stack.md describes the steps and the HATCHETFLOW_* knobs.
// Exit status: 0, 1 on an error, 2 on an unknown subcommand.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hatchetflow/go/internal/devstack"
)

const usage = `scripts/stack up [--record FILE]   build the engine binary if missing, pick/start Postgres and Redis,
                                   prepare (migrate, seed, token), start hfengine, write .state/env.
                                   --record appends the name of each component THIS call started.
scripts/stack down [--only FILE]   gracefully stop what ` + "`up`" + ` started (only the components listed in
                                   FILE with --only). Shared services are never touched.
scripts/stack env                  print .state/env (export lines for the SDK and REDIS_URL)
scripts/stack status               what is running and where
scripts/stack build                only build (or fetch from the per-machine cache) the engine binary

Everything binds to / talks to 127.0.0.1. See docs/stack.md for the knobs (HATCHETFLOW_* env vars).
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is the command: args without the program name; the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	log := devstack.NewLogger(stderr)
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "up", "down", "env", "status", "build", "engine":
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	fail := func(err error) int {
		log.Printf("ERROR: %v", err)
		return 1
	}
	flag := map[string]string{"up": "--record", "down": "--only"}[cmd]
	value := ""
	for flag != "" && len(args) > 0 { // env, status and build ignore arguments, as scripts/stack did
		if args[0] != flag || len(args) < 2 {
			return fail(fmt.Errorf("%s: unknown argument %s", cmd, args[0]))
		}
		value, args = args[1], args[2:]
	}
	root, err := findRoot(getenv)
	if err != nil {
		return fail(err)
	}
	cfg, err := devstack.FromEnv(root, getenv)
	if err != nil {
		return fail(err)
	}
	s := devstack.New(cfg, log, stderr)
	switch cmd {
	case "up":
		err = s.Up(ctx, value)
	case "down":
		err = s.Down(ctx, value)
	case "build", "engine":
		err = s.Build(ctx)
	case "env":
		err = s.Env(ctx, stdout)
	case "status":
		err = s.Status(ctx, stdout)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// findRoot is HATCHETFLOW_ROOT, else the nearest folder at or above the working
// directory whose go.mod is hatchetflow's.
func findRoot(getenv func(string) string) (string, error) {
	if r := getenv("HATCHETFLOW_ROOT"); r != "" {
		return filepath.Abs(r)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repository root: %w", err)
	}
	for {
		if isRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root: no go.mod of github.com/hatchetflow/go above the working directory; set HATCHETFLOW_ROOT")
		}
		dir = parent
	}
}

func isRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == "github.com/hatchetflow/go"
		}
	}
	return false
}
