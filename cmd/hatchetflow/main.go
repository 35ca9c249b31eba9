// Command hatchetflow inspects and controls hatchetflow signatures, chains and swarms.
//
//	hatchetflow [flags] ls             records, newest first (--status, --task, --roots,
//	                                   --since, --until, --limit, --cursor)
//	hatchetflow [flags] tasks          the task registry, with record counts
//	hatchetflow [flags] inspect ID     the whole tree under ID (a table, or --json)
//	hatchetflow [flags] cancel ID      cancel (--silent: no error callbacks)
//	hatchetflow [flags] suspend ID     suspend (--cancel-running: rerun the running attempt on resume)
//	hatchetflow [flags] resume ID      resume
//	hatchetflow [flags] delete ID      delete the whole tree
//
// It connects to Redis by --redis or REDIS_URL (default redis://127.0.0.1:6379) and,
// for cancel, suspend and resume (and ui --allow-actions), to Hatchet by the
// HATCHET_CLIENT_* variables (--hatchet-token, --hatchet-host-port and
// --hatchet-server-url override them). Exit
// codes: 0 done, 1 failed (Redis or the engine unreachable, a refused transition), 2
// usage, 3 not found.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/engine"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, connectHatchet))
}

// exit codes
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitNotFound = 3
)

// readOnly is the dispatcher of commands that dispatch nothing.
type readOnly struct{}

func (readOnly) Dispatch(context.Context, string, map[string]any, map[string]string) (string, error) {
	return "", errors.New("hatchetflow command: this command does not dispatch runs")
}

// connectHatchet builds the SDK client from the HATCHET_CLIENT_* variables. The SDK
// panics on a missing token, so that case is an error here, and a panic while it
// connects is turned into one too.
func connectHatchet() (c *hatchet.Client, err error) {
	if os.Getenv("HATCHET_CLIENT_TOKEN") == "" {
		return nil, errors.New("HATCHET_CLIENT_TOKEN is not set")
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("the Hatchet SDK refused the configuration: %v", r)
		}
	}()
	return hatchet.NewClient()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, newHatchet func() (*hatchet.Client, error)) int {
	fs := flag.NewFlagSet("hatchetflow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("REDIS_URL", "redis://127.0.0.1:6379"), "Redis URL")
	prefix := fs.String("prefix", "hf", "key prefix (hatchetflow.WithKeyPrefix)")
	asJSON := fs.Bool("json", false, "print JSON")
	silent := fs.Bool("silent", false, "cancel: fire no error callbacks")
	cancelRunning := fs.Bool("cancel-running", false, "suspend: cancel the running attempt and rerun it on resume")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	var lf listFlags
	lf.register(fs)
	hatchetFlags := map[string]*string{
		"HATCHET_CLIENT_TOKEN":      fs.String("hatchet-token", "", "Hatchet API token (overrides HATCHET_CLIENT_TOKEN)"),
		"HATCHET_CLIENT_HOST_PORT":  fs.String("hatchet-host-port", "", "Hatchet gRPC address (overrides HATCHET_CLIENT_HOST_PORT)"),
		"HATCHET_CLIENT_SERVER_URL": fs.String("hatchet-server-url", "", "Hatchet REST URL, used by cancel (overrides HATCHET_CLIENT_SERVER_URL)"),
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	for env, v := range hatchetFlags { // the SDK reads its configuration from the environment
		if *v != "" {
			if err := os.Setenv(env, *v); err != nil {
				fmt.Fprintln(stderr, "hatchetflow:", err)
				return exitFailed
			}
		}
	}
	cmd, id := fs.Arg(0), fs.Arg(1)
	switch {
	case cmd == "ui":
		return runUI(ctx, fs.Args()[1:], *redisURL, *prefix, stdout, stderr, newHatchet)
	case (cmd == "ls" || cmd == "tasks") && fs.NArg() == 1:
	case cmd != "ls" && cmd != "tasks" && fs.NArg() == 2:
	default:
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow: --redis:", err)
		return exitUsage
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	opts := []hatchetflow.Option{hatchetflow.WithKeyPrefix(*prefix)}
	var hc *hatchet.Client
	switch cmd {
	case "inspect", "delete", "ls", "tasks":
		opts = append(opts, engine.WithDispatcher(readOnly{}))
	case "cancel", "suspend", "resume":
		if hc, err = newHatchet(); err != nil {
			fmt.Fprintln(stderr, "hatchetflow: connect to Hatchet (HATCHET_CLIENT_*):", err)
			return exitFailed
		}
	default:
		fmt.Fprintf(stderr, "hatchetflow: unknown command %q\n", cmd)
		return exitUsage
	}
	flow, err := hatchetflow.New(hc, rdb, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "hatchetflow:", err)
		return exitFailed
	}
	switch cmd {
	case "inspect":
		root, err := flow.Tree(ctx, id)
		if err != nil {
			return fail(stderr, err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(root)
			return exitOK
		}
		printTree(stdout, root, "", "")
		return exitOK
	case "ls":
		return list(ctx, flow, lf, *asJSON, stdout, stderr)
	case "tasks":
		return tasks(ctx, flow, *asJSON, stdout, stderr)
	case "delete":
		n, err := flow.Delete(ctx, id)
		if err != nil {
			return fail(stderr, err)
		}
		return done(stdout, *asJSON, map[string]any{"deleted": n}, fmt.Sprintf("deleted %d records", n))
	case "cancel":
		err = flow.Cancel(ctx, id, &hatchetflow.CancelOptions{Silent: *silent})
	case "suspend":
		err = flow.Suspend(ctx, id, &hatchetflow.SuspendOptions{CancelRunning: *cancelRunning})
	case "resume":
		err = flow.Resume(ctx, id)
	}
	if err != nil {
		return fail(stderr, err)
	}
	return done(stdout, *asJSON, map[string]any{cmd: id}, cmd+" "+id+": done")
}

func done(out io.Writer, asJSON bool, v any, text string) int {
	if asJSON {
		_ = json.NewEncoder(out).Encode(v)
	} else {
		fmt.Fprintln(out, text)
	}
	return exitOK
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, err)
	if errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		return exitNotFound
	}
	if errors.Is(err, hatchetflow.ErrInvalidSignatureID) || errors.Is(err, hatchetflow.ErrInvalidListOptions) {
		return exitUsage
	}
	return exitFailed
}

// printTree prints n and its children as an indented tree.
func printTree(out io.Writer, n *hatchetflow.Node, indent, label string) {
	line := fmt.Sprintf("%s%s%s %s [%s]", indent, label, n.Kind, n.ID, n.Status)
	if n.Missing {
		line = fmt.Sprintf("%s%s%s (missing: expired or deleted)", indent, label, n.ID)
	} else {
		line += " " + n.Task
		if n.RunID != "" {
			line += fmt.Sprintf(" run=%s attempt=%d", n.RunID, n.Attempt)
		}
		if w := n.Wait; w != nil && !n.Status.Ended() && n.RunID == "" {
			line += fmt.Sprintf(" waiting-for=%q key=%q timeout=%v", w.Event, w.Key, w.Timeout)
			if w.RunID != "" {
				line += " wait-run=" + w.RunID
			}
		}
		line += " created=" + n.CreatedAt.Local().Format("15:04:05.000")
		if n.StartedAt != nil {
			line += " started=" + n.StartedAt.Local().Format("15:04:05.000")
		}
		if n.EndedAt != nil && n.StartedAt != nil {
			line += " took=" + n.EndedAt.Sub(*n.StartedAt).String()
		} else if n.EndedAt != nil {
			line += " ended=" + n.EndedAt.Local().Format("15:04:05.000")
		}
		if len(n.Result) > 0 {
			line += " result=" + clip(string(n.Result))
		}
		if n.Error != "" {
			line += " error=" + clip(n.Error)
		}
		if len(n.Kwargs) > 0 {
			b, _ := json.Marshal(n.Kwargs)
			line += " kwargs=" + clip(string(b))
		}
	}
	fmt.Fprintln(out, line)
	child := indent + "  "
	for i, s := range n.Steps {
		printTree(out, s, child, fmt.Sprintf("step %d: ", i))
	}
	for i, s := range n.Items {
		printTree(out, s, child, fmt.Sprintf("item %d: ", i))
	}
	for _, s := range n.OnSuccess {
		printTree(out, s, child, "on success: ")
	}
	for _, s := range n.OnError {
		printTree(out, s, child, "on error: ")
	}
}

func clip(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}
