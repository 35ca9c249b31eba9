package hatchetflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hatchetflow/go/redisstore"
)

// Defaults and limits of [ListOptions].
const (
	// DefaultListLimit is the page size when ListOptions.Limit is 0.
	DefaultListLimit = 50
	// MaxListLimit is the largest page size List accepts.
	MaxListLimit = 1000
)

// ErrInvalidListOptions is wrapped by the error of a [Client.List] call whose options
// cannot be served as given (a negative or too large limit, an unknown status, a
// malformed cursor, an empty time range).
var ErrInvalidListOptions = errors.New("hatchetflow: invalid list options")

// ListOptions filter and page [Client.List]. A nil *ListOptions lists every signature,
// newest first, [DefaultListLimit] per page. Filters combine (AND).
type ListOptions struct {
	// Status keeps records with this status ("": any).
	Status Status
	// Task keeps records of this task ("": any). A chain's task is "chain",
	// a swarm's "hatchetflow-swarm".
	Task string
	// RootsOnly keeps the records that were saved as the top of a tree (not callbacks,
	// chain steps or swarm items).
	RootsOnly bool
	// Since and Until bound the creation time (Since inclusive, Until exclusive); zero
	// values leave that side open.
	Since, Until time.Time
	// Limit is the page size: 0 means [DefaultListLimit]; at most [MaxListLimit].
	Limit int
	// Cursor continues a listing: the Next of the previous page ("" for the first).
	Cursor string
}

// Summary is one listed record.
type Summary struct {
	// ID is the record id; Kind "signature", "chain" or "swarm"; Task its task.
	ID, Kind, Task string
	// Status is the record's status.
	Status Status
	// Root is true for the top of a tree.
	Root bool
	// RunID is the engine run that owns it once it started; Attempt its latest attempt.
	RunID   string `json:",omitempty"`
	Attempt int    `json:",omitempty"`
	// Error is the failure message of a failed or cancelled record.
	Error string `json:",omitempty"`
	// CreatedAt is when it was saved; StartedAt and EndedAt when its run first
	// started and when it ended (nil until then).
	CreatedAt          time.Time
	StartedAt, EndedAt *time.Time `json:",omitempty"`
}

// ListPage is one page of [Client.List].
type ListPage struct {
	// Entries are the matching records, newest first.
	Entries []Summary
	// Next continues the listing (pass it as ListOptions.Cursor); "" on the last page.
	Next string `json:",omitempty"`
}

// List reads one page of records matching opts, newest first, from the store's
// indexes: it never scans the keyspace. See docs/inspector.md for its cost.
func (c *Client) List(ctx context.Context, opts *ListOptions) (*ListPage, error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	q, err := listQuery(o)
	if err != nil {
		return nil, err
	}
	page, err := c.store.List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &ListPage{Entries: make([]Summary, 0, len(page.Records)), Next: page.Next}
	for _, r := range page.Records {
		out.Entries = append(out.Entries, Summary{ID: r.ID, Kind: kindName(r.Kind), Task: r.Task, Status: r.Status,
			Root: page.Roots[r.ID], RunID: r.RunID, Attempt: r.Attempt, Error: r.Error, CreatedAt: r.CreatedAt,
			StartedAt: timePtr(r.StartedAt), EndedAt: timePtr(r.EndedAt)})
	}
	return out, nil
}

func listQuery(o ListOptions) (redisstore.ListQuery, error) {
	bad := func(format string, a ...any) (redisstore.ListQuery, error) {
		return redisstore.ListQuery{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidListOptions}, a...)...)
	}
	switch {
	case o.Limit < 0 || o.Limit > MaxListLimit:
		return bad("limit %d is outside 0..%d", o.Limit, MaxListLimit)
	case o.Status != "" && !redisstore.KnownStatus(o.Status):
		return bad("unknown status %q", o.Status)
	case !o.Since.IsZero() && !o.Until.IsZero() && !o.Until.After(o.Since):
		return bad("until %s is not after since %s", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	case o.Cursor != "" && redisstore.ParseCursor(o.Cursor) != nil:
		return bad("malformed cursor %q", o.Cursor)
	}
	limit := o.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	return redisstore.ListQuery{Status: o.Status, Task: o.Task, RootsOnly: o.RootsOnly,
		Since: o.Since, Until: o.Until, Limit: limit, After: o.Cursor}, nil
}

// TaskInfo is one task of the registry, as [Client.Tasks] reports it.
type TaskInfo struct {
	// Name is the task name; ReturnField and ErrorField the input fields that receive
	// a parent's return value and error details; Retries the engine's retries.
	Name        string
	ReturnField string
	ErrorField  string `json:",omitempty"`
	Retries     int
	// InputType and OutputType are the Go types of its input and return value.
	InputType  string `json:",omitempty"`
	OutputType string `json:",omitempty"`
	// Signatures counts the stored records of this task.
	Signatures int64
}

// Tasks reads the task registry (what workers registered), sorted by name, with how
// many stored records each task has: two round trips.
func (c *Client) Tasks(ctx context.Context) ([]TaskInfo, error) {
	defs, counts, err := c.store.Tasks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TaskInfo, 0, len(defs))
	for _, d := range defs {
		out = append(out, TaskInfo{Name: d.Name, ReturnField: d.ReturnField, ErrorField: d.ErrorField, Retries: d.Retries,
			InputType: d.InputType, OutputType: d.OutputType, Signatures: counts[d.Name]})
	}
	return out, nil
}
