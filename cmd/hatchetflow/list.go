package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/inspectui"
)

const usage = `usage: hatchetflow [flags] ls | tasks | inspect|cancel|suspend|resume|retry|delete ID [flags] | ui [ui flags] | mcp [mcp flags] | help | completion bash|zsh | version
flags go before the command or after its id; see hatchetflow -h`

// listFlags are the filters of ls.
type listFlags struct {
	status, task, since, until, cursor string
	roots, flow                        bool
	limit                              int
}

func (l *listFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.status, "status", "", "ls: only this status (pending, active, done, failed, cancelled, suspended)")
	fs.StringVar(&l.task, "task", "", "ls: only this task")
	fs.BoolVar(&l.roots, "roots", false, "ls: only tops of trees (no callbacks, chain steps or swarm items)")
	fs.StringVar(&l.since, "since", "", "ls: created at or after: a duration ago (1h) or an RFC 3339 time")
	fs.StringVar(&l.until, "until", "", "ls: created before: a duration ago or an RFC 3339 time")
	fs.IntVar(&l.limit, "limit", hatchetflow.DefaultListLimit, fmt.Sprintf("ls: page size, at most %d", hatchetflow.MaxListLimit))
	fs.StringVar(&l.cursor, "cursor", "", "ls: continue from the cursor a previous page printed")
	fs.BoolVar(&l.flow, "flow", true, "ls: roll up each listed root's flow (one tree read per root; --flow=false skips it)")
}

// when reads a --since/--until value: a duration before now, or an RFC 3339 time.
func when(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --%s %q is neither a duration nor an RFC 3339 time", hatchetflow.ErrInvalidListOptions, name, v)
	}
	return t, nil
}

func list(ctx context.Context, flow *hatchetflow.Client, lf listFlags, asJSON bool, stdout, stderr io.Writer) int {
	now := time.Now()
	since, err := when("since", lf.since, now)
	if err != nil {
		return fail(stderr, err)
	}
	until, err := when("until", lf.until, now)
	if err != nil {
		return fail(stderr, err)
	}
	page, err := flow.List(ctx, &hatchetflow.ListOptions{Status: hatchetflow.Status(lf.status), Task: lf.task,
		RootsOnly: lf.roots, Since: since, Until: until, Limit: lf.limit, Cursor: lf.cursor})
	if err != nil {
		return fail(stderr, err)
	}
	if !lf.flow {
		if asJSON {
			_ = json.NewEncoder(stdout).Encode(page)
			return exitOK
		}
		return printList(stdout, &inspectui.Page{Entries: entries(page.Entries), Next: page.Next})
	}
	withFlows, err := inspectui.WithFlows(ctx, page, inspectui.ClientBackend{Client: flow}.FlowStatus)
	if err != nil {
		return fail(stderr, err)
	}
	if asJSON {
		_ = json.NewEncoder(stdout).Encode(withFlows)
		return exitOK
	}
	return printList(stdout, withFlows)
}

// entries are summaries without flows.
func entries(s []hatchetflow.Summary) []inspectui.Entry {
	out := make([]inspectui.Entry, len(s))
	for i, e := range s {
		out[i].Summary = e
	}
	return out
}

// printList prints page as a table; FLOW is the rolled-up status of a root's flow.
func printList(stdout io.Writer, page *inspectui.Page) int {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTASK\tSTATUS\tROOT\tFLOW\tCREATED\tRUN\tERROR")
	for _, e := range page.Entries {
		root := ""
		if e.Root {
			root = "root"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Kind, e.Task, e.Status, root, flowText(e.Flow, e.ID),
			e.CreatedAt.Local().Format("2006-01-02 15:04:05.000"), e.RunID, clip(e.Error))
	}
	_ = tw.Flush()
	if page.Next != "" {
		fmt.Fprintf(stdout, "more: add --cursor %s\n", page.Next)
	}
	return exitOK
}

func tasks(ctx context.Context, flow *hatchetflow.Client, asJSON bool, stdout, stderr io.Writer) int {
	ts, err := flow.Tasks(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	if asJSON {
		_ = json.NewEncoder(stdout).Encode(ts)
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tINPUT\tOUTPUT\tRETURN FIELD\tERROR FIELD\tRETRIES\tRECORDS")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", t.Name, t.InputType, t.OutputType, t.ReturnField, t.ErrorField, t.Retries, t.Signatures)
	}
	_ = tw.Flush()
	return exitOK
}
