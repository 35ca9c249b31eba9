// Package mcpserver is the MCP (Model Context Protocol) server that `hatchetflow mcp`
// serves: tools an assistant calls to read hatchetflow's stored signatures, chains and
// swarms (MageFlow's six, and more), the engine's logs of their runs, and, only when
// the server is made with AllowActions, to retry, cancel, suspend and resume them.
//
// [New] builds an *mcp.Server (github.com/modelcontextprotocol/go-sdk) over a
// *hatchetflow.Client; run it on any of the SDK's transports (the command uses stdio,
// or streamable HTTP on a loopback address). Every tool has typed input and output
// (the SDK derives their JSON schemas from the types of this package); a failed call
// is a tool error (IsError) whose structured content is a [ToolError] with a stable
// Code. docs/inspector.md documents every tool.
//
// The read tools never scan the keyspace: list_signatures reads the store's indexes
// (hatchetflow.Client.List), the others read the records they name.
package mcpserver

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/hatchetflow"
)

// DefaultTimeout bounds each tool call when Options.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// ReadTools are the names of the read-only tools, always listed.
var ReadTools = []string{"get_signature", "get_flow", "list_signatures", "list_registered_tasks",
	"get_container_summary", "list_sub_tasks", "get_logs"}

// ActionTools are the names of the tools that change runs, listed only with
// Options.AllowActions.
var ActionTools = []string{"retry", "cancel", "suspend", "resume"}

// Options configure [New].
type Options struct {
	// AllowActions adds the retry, cancel, suspend and resume tools; without it they
	// are not listed at all. The client must then have an engine (not a read-only
	// dispatcher).
	AllowActions bool
	// Logs reads the engine's log lines of runs for get_logs (see [NewHatchetLogs]);
	// nil makes get_logs answer unavailable.
	Logs LogReader
	// Timeout bounds each tool call; 0 means [DefaultTimeout].
	Timeout time.Duration
	// Logger receives the SDK's log; nil logs nothing.
	Logger *slog.Logger
}

// server holds what the tools read.
type server struct {
	c       *hatchetflow.Client
	logs    LogReader
	timeout time.Duration
}

// New returns the MCP server of c.
func New(c *hatchetflow.Client, opts Options) *mcp.Server {
	s := &server{c: c, logs: opts.Logs, timeout: opts.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "hatchetflow", Title: "hatchetflow inspector", Version: hatchetflow.Version},
		&mcp.ServerOptions{Logger: opts.Logger, Instructions: instructions(opts.AllowActions)})
	srv.AddReceivingMiddleware(structuredErrors)

	read := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)}
	addTool(s, srv, &mcp.Tool{Name: "get_signature", Title: "Get a signature, chain or swarm", Annotations: read,
		Description: "Read one signature, chain or swarm by id: status, task, bound kwargs, result or error, owner run " +
			"and attempt, times, and its direct callbacks (success, error, finally) with their statuses; for a signature " +
			"also the chains it is a step of and the callbacks it dispatched with their runs; for a container how many " +
			"steps or items it has (list_sub_tasks lists them)."},
		func(in IDInput) string { return in.ID }, s.getSignature)
	addTool(s, srv, &mcp.Tool{Name: "get_flow", Title: "Get a whole flow", Annotations: read, OutputSchema: flowOutputSchema(),
		Description: "Read the whole flow rooted at id (every callback, chain step and swarm item under it, nested) and its " +
			"rolled-up status: active while anything that will run has not ended, then done, or failed/cancelled naming the " +
			"first node that failed (a done root whose callback failed is a failed flow). The id a parent lists for a chain " +
			"callback (its first step's) names the chain's flow. max_depth trims the tree."},
		func(in FlowInput) string { return in.ID }, s.getFlow)
	addTool(s, srv, &mcp.Tool{Name: "list_signatures", Title: "List signatures", Annotations: read, InputSchema: listInputSchema(),
		Description: "List stored signatures, chains and swarms, newest first, from the store's indexes (never a keyspace " +
			"scan): filter by status, task, roots only, creation time; page with limit and the next_cursor of the previous " +
			"page. Each root carries its flow's rolled-up status unless skip_flow."},
		func(ListInput) string { return "" }, s.list)
	addTool(s, srv, &mcp.Tool{Name: "list_registered_tasks", Title: "List registered tasks", Annotations: read,
		Description: "List the task registry that workers wrote: each task's input and output types, return and error " +
			"fields, retries, and how many stored records it has."},
		func(struct{}) string { return "" }, s.tasks)
	addTool(s, srv, &mcp.Tool{Name: "get_container_summary", Title: "Summarize a chain or swarm", Annotations: read,
		Description: "Summarize a chain or swarm: status, how many steps or items, counts by status (chain steps) or " +
			"state (swarm items: queued, running, done, failed), a chain's current step, a swarm's options, result or error."},
		func(in IDInput) string { return in.ID }, s.containerSummary)
	addTool(s, srv, &mcp.Tool{Name: "list_sub_tasks", Title: "List a chain's steps or a swarm's items", Annotations: read,
		InputSchema: subTasksInputSchema(),
		Description: "List a chain's steps (nested chains flattened, in run order) or a swarm's items (in order) with " +
			"their status or state, run id, result or error; filter by status and page with limit and next_cursor."},
		func(in SubTasksInput) string { return in.ID }, s.subTasks)
	addTool(s, srv, &mcp.Tool{Name: "get_logs", Title: "Get a run's logs", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true},
		Description: "Read the Hatchet log lines (hctx.Log) of a signature's run, by the run id stored on its record: " +
			"every task run of that workflow run, oldest first, optionally one attempt. For a chain or swarm, the runs " +
			"of its steps or items (up to 20). Needs the engine (HATCHET_CLIENT_*)."},
		func(in LogsInput) string { return in.ID }, s.getLogs)

	if opts.AllowActions {
		addTool(s, srv, &mcp.Tool{Name: "retry", Title: "Retry a failed node",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(true)},
			Description: "Run a failed or cancelled signature again with the input it ran with (kwargs merged over its " +
				"bound kwargs), then its success callbacks; a chain (or its first step id, or a step) resumes at the step " +
				"that failed; a failed swarm runs its failed items again. Refused (not_retryable) for what did not fail; " +
				"for a done root whose flow failed further down, the error's retry_id names the node to retry."},
			func(in RetryInput) string { return in.ID }, s.retry)
		addTool(s, srv, &mcp.Tool{Name: "cancel", Title: "Cancel a signature, chain or swarm",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: new(true), OpenWorldHint: new(true)},
			Description: "Cancel a signature, chain or swarm: its status becomes cancelled (final), its running engine runs " +
				"are cancelled, success callbacks never fire; error callbacks fire unless silent, finally callbacks fire."},
			func(in CancelInput) string { return in.ID }, s.cancel)
		addTool(s, srv, &mcp.Tool{Name: "suspend", Title: "Suspend a signature, chain or swarm",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), IdempotentHint: true, OpenWorldHint: new(true)},
			Description: "Suspend a signature, chain or swarm until resume: nothing new starts and a running signature's " +
				"callbacks are held; cancel_running cancels the running attempt and runs it again on resume."},
			func(in SuspendInput) string { return in.ID }, s.suspend)
		addTool(s, srv, &mcp.Tool{Name: "resume", Title: "Resume a suspended node",
			Annotations: &mcp.ToolAnnotations{DestructiveHint: new(false), OpenWorldHint: new(true)},
			Description: "Resume a suspended signature, chain or swarm: held runs and callbacks are dispatched once."},
			func(in IDInput) string { return in.ID }, s.resume)
	}
	return srv
}

// instructions are the server's instructions to the client.
func instructions(actions bool) string {
	text := "hatchetflow stores task signatures (a task, bound kwargs, success/error/finally callbacks), chains and " +
		"swarms in Redis and runs them on the Hatchet engine. Ids are UUIDs. Start with list_signatures (roots: true) " +
		"or get_flow on a root; get_logs reads a run's log lines. Errors carry a code (not_found, invalid_argument, " +
		"not_retryable, conflict, unavailable, timeout, internal) in their structured content."
	if actions {
		text += " Actions are enabled: retry, cancel, suspend and resume change runs."
	} else {
		text += " Read-only: the server was started without --allow-actions."
	}
	return text
}

// addTool adds a typed tool whose handler's errors become [*ToolError]s about the id
// idOf finds in the input, and bounds each call by the server's timeout.
func addTool[In, Out any](s *server, srv *mcp.Server, t *mcp.Tool, idOf func(In) string, h func(context.Context, In) (Out, error)) {
	mcp.AddTool(srv, t, func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		out, err := h(ctx, in)
		if err != nil {
			var zero Out
			return nil, zero, toolError(idOf(in), err)
		}
		return nil, out, nil
	})
}

// flowOutputSchema is get_flow's output schema: [FlowOutput], whose tree is
// recursive, which the SDK's schema inference refuses; its nodes are "#/$defs/node".
func flowOutputSchema() *jsonschema.Schema {
	ref := &jsonschema.Schema{Ref: "#/$defs/node"}
	node, err := jsonschema.For[FlowNode](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[[]*FlowNode](): {Type: "array", Items: ref}}})
	if err != nil {
		panic(err)
	}
	out, err := jsonschema.For[FlowOutput](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[FlowNode](): ref}})
	if err != nil {
		panic(err)
	}
	out.Defs = map[string]*jsonschema.Schema{"node": node}
	return out
}

// statuses are the statuses of signatures, chains and swarms.
var statuses = []any{"pending", "active", "done", "failed", "cancelled", "suspended"}

// listInputSchema is [ListInput]'s schema with the statuses enumerated.
func listInputSchema() *jsonschema.Schema {
	s, err := jsonschema.For[ListInput](nil)
	if err != nil {
		panic(err)
	}
	s.Properties["status"].Enum = statuses
	minimum, maximum := 0.0, float64(hatchetflow.MaxListLimit)
	s.Properties["limit"].Minimum, s.Properties["limit"].Maximum = &minimum, &maximum
	return s
}

// subTasksInputSchema is [SubTasksInput]'s schema with the statuses and item states
// enumerated.
func subTasksInputSchema() *jsonschema.Schema {
	s, err := jsonschema.For[SubTasksInput](nil)
	if err != nil {
		panic(err)
	}
	s.Properties["status"].Enum = append(append([]any{}, statuses...), "queued", "running")
	minimum, maximum := 0.0, float64(maxSubTasks)
	s.Properties["limit"].Minimum, s.Properties["limit"].Maximum = &minimum, &maximum
	return s
}
