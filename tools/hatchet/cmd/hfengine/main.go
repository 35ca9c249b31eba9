// Command hfengine is the one Hatchet server program of hatchetflow's local dev/test
// stack. It replaces the four binaries Hatchet ships (hatchet-migrate, hatchet-admin,
// hatchet-engine, hatchet-api) with one link of Hatchet's public Go packages, built in
// the tools/hatchet module so it uses Hatchet's own dependency versions:
//
//	hfengine prepare --state DIR          migrate, ensure keys, seed, ensure DIR/token
//	hfengine serve --state DIR [--no-api] engine (gRPC) and REST API in this process
//	hfengine version                      the Hatchet module version it was built with
//
// The server settings come from the environment, as for Hatchet's binaries
// (DATABASE_URL, SERVER_PORT, SERVER_GRPC_PORT, SERVER_URL, SERVER_MSGQUEUE_KIND, ...);
// DIR holds only what prepare generates: config/server.yaml (this instance's secrets),
// token (a tenant API token) and token.key (what the token was minted for).
//
// Progress goes to stderr as "[hfengine  12.3s] ..." lines; Hatchet's own logs also
// go to stderr. Any failure ends the program with a non-zero exit status.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// usage is printed for -h and for a wrong command line.
const usage = `usage:
  hfengine prepare --state DIR          run migrations, ensure keys in DIR/config, seed the
                                        default tenant, ensure DIR/token (idempotent)
  hfengine serve --state DIR [--no-api] run the engine (gRPC) and, unless --no-api, the REST
                                        API in this process until SIGTERM/SIGINT
  hfengine version                      print the Hatchet version this program was built with

Settings come from the environment as for Hatchet's own binaries (DATABASE_URL is required).
`

// Exit statuses: exitFailure for a failed command, exitUsage for a wrong command line.
const (
	exitFailure = 1
	exitUsage   = 2
)

// errUsage marks a wrong command line (exit status 2, usage printed).
var errUsage = errors.New("wrong command line")

// main runs the command line and exits with its status.
func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	p := newProgress(stderr)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "prepare":
		var o options
		if o, err = parseOptions(cmd, rest, false); err == nil {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			err = prepare(ctx, p, o.state)
			stop()
		}
	case "serve":
		var o options
		if o, err = parseOptions(cmd, rest, true); err == nil {
			err = serve(p, o.state, !o.noAPI)
		}
	case "version":
		if len(rest) != 0 {
			err = fmt.Errorf("version takes no arguments: %w", errUsage)
			break
		}
		var v string
		if v, err = hatchetVersion(); err == nil {
			fmt.Fprintln(stdout, v)
		}
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("unknown command %q: %w", cmd, errUsage)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "hfengine: %v\n%s", err, usage)
		return exitUsage
	default:
		p.logf("ERROR: %v", err)
		return exitFailure
	}
}

// options are the flags of prepare and serve.
type options struct {
	state string // the state directory, absolute
	noAPI bool   // serve: run the engine only
}

// parseOptions reads --state DIR (required) and, when withNoAPI, --no-api.
func parseOptions(cmd string, args []string, withNoAPI bool) (options, error) {
	var o options
	fs := flag.NewFlagSet("hfengine "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the errors and the usage
	fs.StringVar(&o.state, "state", "", "the state directory (keys, config, token)")
	if withNoAPI {
		fs.BoolVar(&o.noAPI, "no-api", false, "run the engine without the REST API (a second engine on the same database)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%s: %w", err.Error(), errUsage)
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("%s: unexpected argument %q: %w", cmd, fs.Arg(0), errUsage)
	}
	if o.state == "" {
		return o, fmt.Errorf("%s needs --state DIR: %w", cmd, errUsage)
	}
	abs, err := filepath.Abs(o.state)
	if err != nil {
		return o, fmt.Errorf("state directory %s: %w", o.state, err)
	}
	o.state = abs
	return o, nil
}

// progress writes time-stamped progress lines (seconds since the program started).
type progress struct {
	start time.Time
	w     io.Writer
}

// newProgress returns a progress writer to w, its clock starting now.
func newProgress(w io.Writer) *progress { return &progress{start: time.Now(), w: w} }

// logf writes one progress line.
func (p *progress) logf(format string, args ...any) {
	fmt.Fprintf(p.w, "[hfengine %6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

// step runs fn between a start and an end line that gives its duration; a failure is
// returned wrapped with the step's name.
func (p *progress) step(name string, fn func() error) error {
	t := time.Now()
	p.logf("%s ...", name)
	if err := fn(); err != nil {
		p.logf("%s FAILED after %.1fs", name, time.Since(t).Seconds())
		return fmt.Errorf("%s: %w", name, err)
	}
	p.logf("%s done in %.1fs", name, time.Since(t).Seconds())
	return nil
}
