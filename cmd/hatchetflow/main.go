// Command hatchetflow inspects and controls hatchetflow signatures, chains and swarms.
//
//	hatchetflow [flags] ls             records, newest first, each root with its flow's
//	                                   rolled-up status (--status, --task, --roots, --since,
//	                                   --until, --limit, --cursor, --flow=false)
//	hatchetflow [flags] tasks          the task registry, with record counts
//	hatchetflow [flags] inspect ID     the rolled-up status of the flow rooted at ID and its
//	                                   whole tree (a table, or --json)
//	hatchetflow [flags] cancel ID      cancel (--silent: no error callbacks)
//	hatchetflow [flags] suspend ID     suspend (--cancel-running: rerun the running attempt on resume)
//	hatchetflow [flags] resume ID      resume
//	hatchetflow [flags] retry ID       run a failed or cancelled signature or chain again from
//	                                   the failed step, or a failed swarm's failed items
//	                                   (--kwargs '{"k":1}': merged over its kwargs)
//	hatchetflow [flags] delete ID      delete the whole tree
//	hatchetflow [flags] ui             the web page (docs/inspector.md)
//	hatchetflow [flags] mcp            the MCP server for assistants, over stdio
//	                                   (--http 127.0.0.1:PORT: streamable HTTP; --allow-actions:
//	                                   the retry, cancel, suspend and resume tools)
//	hatchetflow help                   every command with examples, and the flags (also -h)
//	hatchetflow completion bash|zsh    a shell completion script
//	hatchetflow version                the version
//
// Flags go before the command or after it and its id (hatchetflow cancel ID --silent);
// ui and mcp take their own flags after the word.
// It connects to Redis by --redis or REDIS_URL (default redis://127.0.0.1:6379) and,
// for cancel, suspend, resume and retry (and ui --allow-actions, mcp --allow-actions
// and mcp's get_logs), to Hatchet by the
// HATCHET_CLIENT_* variables (--hatchet-token, --hatchet-host-port and
// --hatchet-server-url override them). Exit codes: 0 done, 1 failed (Redis or the
// engine unreachable, a refused transition or retry), 2 usage (a malformed id, filter
// or --kwargs, kwargs that do not fit the task), 3 not found.
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

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/inspectui"
	"github.com/hatchetflow/go/redisstore"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, sdkOnly(connectHatchet)))
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

// connector connects to the engine for the commands that act on runs: the Hatchet
// SDK client, and options for hatchetflow.New (tests pass an in-memory engine there).
type connector func() (*hatchet.Client, []hatchetflow.Option, error)

// sdkOnly is the connector of an SDK client constructor.
func sdkOnly(newHatchet func() (*hatchet.Client, error)) connector {
	return func() (*hatchet.Client, []hatchetflow.Option, error) {
		c, err := newHatchet()
		return c, nil, err
	}
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer, connect connector) int {
	fs := flag.NewFlagSet("hatchetflow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("REDIS_URL", "redis://127.0.0.1:6379"), "Redis URL")
	prefix := fs.String("prefix", "hf", "key prefix (hatchetflow.WithKeyPrefix)")
	asJSON := fs.Bool("json", false, "print JSON")
	silent := fs.Bool("silent", false, "cancel: fire no error callbacks")
	cancelRunning := fs.Bool("cancel-running", false, "suspend: cancel the running attempt and rerun it on resume")
	kwargs := fs.String("kwargs", "", `retry: a JSON object merged over the retried signature's bound kwargs ('{"n":3}')`)
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long (mcp: each tool call)")
	var lf listFlags
	lf.register(fs)
	hatchetFlags := map[string]*string{
		"HATCHET_CLIENT_TOKEN":      fs.String("hatchet-token", "", "Hatchet API token (overrides HATCHET_CLIENT_TOKEN)"),
		"HATCHET_CLIENT_HOST_PORT":  fs.String("hatchet-host-port", "", "Hatchet gRPC address (overrides HATCHET_CLIENT_HOST_PORT)"),
		"HATCHET_CLIENT_SERVER_URL": fs.String("hatchet-server-url", "", "Hatchet REST URL, used by cancel (overrides HATCHET_CLIENT_SERVER_URL)"),
	}
	// The command and its id, with flags before, between and after them; ui and mcp
	// parse the words after them with their own flags.
	var words, subArgs []string
	fs.Usage = func() { printHelp(stderr, fs) }
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK // -h, --help: the help is printed
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		words, rest = append(words, fs.Arg(0)), fs.Args()[1:]
		if words[0] == "ui" || words[0] == "mcp" {
			subArgs = rest
			break
		}
	}
	for env, v := range hatchetFlags { // the SDK reads its configuration from the environment
		if *v != "" {
			if err := os.Setenv(env, *v); err != nil {
				fmt.Fprintln(stderr, "hatchetflow:", err)
				return exitFailed
			}
		}
	}
	cmd, id := "", ""
	if len(words) > 0 {
		cmd = words[0]
	}
	if len(words) > 1 {
		id = words[1]
	}
	switch {
	case cmd == "help" && len(words) == 1:
		printHelp(stdout, fs)
		return exitOK
	case cmd == "version" && len(words) == 1:
		fmt.Fprintln(stdout, "hatchetflow", hatchetflow.Version)
		return exitOK
	case cmd == "completion" && len(words) == 2:
		script, err := completionScript(id, fs)
		if err != nil {
			fmt.Fprintln(stderr, "hatchetflow:", err)
			return exitUsage
		}
		fmt.Fprint(stdout, script)
		return exitOK
	case cmd == "ui":
		return runUI(ctx, subArgs, *redisURL, *prefix, stdout, stderr, connect)
	case cmd == "mcp":
		return runMCP(ctx, subArgs, *redisURL, *prefix, *timeout, stdout, stderr, connect)
	case (cmd == "ls" || cmd == "tasks") && len(words) == 1:
	case cmd != "" && cmd != "ls" && cmd != "tasks" && cmd != "help" && cmd != "version" && cmd != "completion" && len(words) == 2:
		if !redisstore.ValidID(id) {
			return fail(stderr, fmt.Errorf("%w: %q", hatchetflow.ErrInvalidSignatureID, id))
		}
	default:
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	var retryKwargs dsl.KW
	if cmd == "retry" && *kwargs != "" {
		if err := json.Unmarshal([]byte(*kwargs), &retryKwargs); err != nil || retryKwargs == nil {
			if err == nil {
				err = errors.New("null")
			}
			fmt.Fprintf(stderr, "hatchetflow: --kwargs %s: want a JSON object: %v\n", *kwargs, err)
			return exitUsage
		}
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
	case "cancel", "suspend", "resume", "retry":
		var more []hatchetflow.Option
		if hc, more, err = connect(); err != nil {
			fmt.Fprintln(stderr, "hatchetflow: connect to Hatchet (HATCHET_CLIENT_*):", err)
			return exitFailed
		}
		opts = append(opts, more...)
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
		return inspect(ctx, flow, id, *asJSON, stdout, stderr)
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
	case "retry":
		h, err := flow.Retry(ctx, id, &hatchetflow.RetryOptions{Kwargs: retryKwargs})
		if err != nil {
			code := fail(stderr, err)
			if errors.Is(err, hatchetflow.ErrNotRetryable) { // a done root whose flow failed further down?
				if st, serr := (inspectui.ClientBackend{Client: flow}).FlowStatus(ctx, id); serr == nil && st.Failed != nil && st.Failed.ID != id {
					fmt.Fprintf(stderr, "its flow %s at %s %s (task %s): hatchetflow retry %s\n",
						st.Failed.Status, st.Failed.Kind, st.Failed.ID, st.Failed.Task, st.Failed.ID)
				}
			}
			return code
		}
		return done(stdout, *asJSON, map[string]any{"retry": id, "signature": h.SignatureID(), "runId": h.RunID()},
			fmt.Sprintf("retry %s: running again (signature %s, run %s)", id, h.SignatureID(), h.RunID()))
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

// fail prints err and returns its exit code: 3 for an unknown id; 2 for a malformed
// id, list option or kwargs that do not fit the task; 1 otherwise (a refused
// transition or retry, Redis or the engine failing).
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, err)
	if errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		return exitNotFound
	}
	if errors.Is(err, hatchetflow.ErrInvalidSignatureID) || errors.Is(err, hatchetflow.ErrInvalidListOptions) ||
		errors.Is(err, inject.ErrValidation) || errors.Is(err, hatchetflow.ErrKwargsTooLarge) {
		return exitUsage
	}
	return exitFailed
}

// inspected is the JSON of inspect: the tree under the id, and the rolled-up status
// of the flow rooted there.
type inspected struct {
	*hatchetflow.Node
	// Flow is the flow's rolled-up status.
	Flow *inspectui.FlowSummary
}

// inspect prints the rolled-up status of the flow rooted at id, then the tree under id.
func inspect(ctx context.Context, flow *hatchetflow.Client, id string, asJSON bool, stdout, stderr io.Writer) int {
	st, err := inspectui.ClientBackend{Client: flow}.FlowStatus(ctx, id)
	if err != nil {
		return fail(stderr, err)
	}
	root := st.Tree
	if st.Root != id { // the id a parent lists for a chain callback: the flow is the chain's
		if root, err = flow.Tree(ctx, id); err != nil {
			return fail(stderr, err)
		}
	}
	sum := inspectui.NewFlowSummary(st)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(inspected{Node: root, Flow: sum})
		return exitOK
	}
	fmt.Fprintf(stdout, "flow %s: %s\n", st.Root, flowText(sum, st.Root))
	if f := sum.Failed; f != nil {
		line := fmt.Sprintf("first %s: %s %s (task %s)", f.Status, f.Kind, f.ID, f.Task)
		if f.Error != "" {
			line += ": " + clip(f.Error)
		}
		fmt.Fprintln(stdout, line)
	}
	printTree(stdout, root, "", "")
	return exitOK
}

// flowText is a flow's rolled-up status in a few words: the status and how many
// nodes are open, or the first node that failed when it is not root itself.
func flowText(f *inspectui.FlowSummary, root string) string {
	switch {
	case f == nil:
		return ""
	case f.Missing:
		return "missing"
	case f.Problem != "":
		return "unreadable: " + clip(f.Problem)
	case f.Open > 0 && f.Status != hatchetflow.StatusPending:
		return fmt.Sprintf("%s (%d open)", f.Status, f.Open)
	case f.Failed != nil && f.Failed.ID != root:
		return fmt.Sprintf("%s at %s (%s)", f.Status, f.Failed.ID, f.Failed.Task)
	}
	return string(f.Status)
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
	for _, s := range n.Finally {
		printTree(out, s, child, "finally: ")
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
