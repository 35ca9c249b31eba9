package inspectui

import (
	"context"
	"errors"
	"sync"

	"github.com/hatchetflow/go/hatchetflow"
)

// FlowReads is how many flows [WithFlows] reads at once.
const FlowReads = 8

// FlowSummary is a flow's rolled-up status as the list, `hatchetflow ls` and
// `hatchetflow inspect` show it: a [hatchetflow.FlowStatus] without its tree.
type FlowSummary struct {
	// Status is the rolled-up status (see hatchetflow.FlowStatus); "" when Missing or
	// Problem.
	Status hatchetflow.Status `json:",omitempty"`
	// Open counts the nodes that will run and have not ended.
	Open int `json:",omitempty"`
	// Failed is the first node that failed or was cancelled, nil when none did.
	Failed *FailedNode `json:",omitempty"`
	// Missing is true when the root was gone (expired or deleted) when it was read.
	Missing bool `json:",omitempty"`
	// Problem is why the flow could not be read, other than Missing.
	Problem string `json:",omitempty"`
}

// FailedNode names the first node of a flow that failed or was cancelled.
type FailedNode struct {
	// ID, Kind and Task name the node; Status is failed or cancelled; Error its error.
	ID, Kind, Task string
	Status         hatchetflow.Status
	Error          string `json:",omitempty"`
}

// NewFlowSummary returns the summary of st (nil for a nil st).
func NewFlowSummary(st *hatchetflow.FlowStatus) *FlowSummary {
	if st == nil {
		return nil
	}
	s := &FlowSummary{Status: st.Status, Open: st.Open}
	if f := st.Failed; f != nil {
		s.Failed = &FailedNode{ID: f.ID, Kind: f.Kind, Task: f.Task, Status: f.Status, Error: f.Error}
	}
	return s
}

// Entry is a listed record and, for a root, the rolled-up status of its flow.
type Entry struct {
	hatchetflow.Summary
	// Flow is the rolled-up status of the flow rooted here; nil for a record that is
	// not a root.
	Flow *FlowSummary `json:",omitempty"`
	// Input and Result preview what the record ran with and gave
	// ([Record.InputPreview], [Record.ResultPreview]); the inspector's list sets them,
	// "" otherwise.
	Input  string `json:",omitempty"`
	Result string `json:",omitempty"`
}

// Page is a [hatchetflow.ListPage] whose roots carry their flow's status. Its JSON is
// a ListPage's with a Flow field on the roots' entries.
type Page struct {
	// Entries are the listed records, newest first.
	Entries []Entry
	// Next continues the listing; "" on the last page.
	Next string `json:",omitempty"`
}

// FlowStatusFunc reads the rolled-up status of the flow rooted at id
// ([Backend.FlowStatus]).
type FlowStatusFunc func(ctx context.Context, id string) (*hatchetflow.FlowStatus, error)

// WithFlows returns page with the rolled-up status of every root's flow, read with
// status, [FlowReads] at a time: one tree read per root, no scan. A root gone by the
// time it is read is marked Missing, and one whose tree cannot be read carries the
// Problem; it fails only when ctx ends.
func WithFlows(ctx context.Context, page *hatchetflow.ListPage, status FlowStatusFunc) (*Page, error) {
	out := &Page{Entries: make([]Entry, len(page.Entries)), Next: page.Next}
	sem := make(chan struct{}, FlowReads)
	var wg sync.WaitGroup
	for i, e := range page.Entries {
		out.Entries[i].Summary = e
		if !e.Root {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(en *Entry) {
			defer func() { <-sem; wg.Done() }()
			en.Flow = flowSummary(ctx, status, en.ID)
		}(&out.Entries[i])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// flowSummary reads the summary of the flow rooted at id, a read error included.
func flowSummary(ctx context.Context, status FlowStatusFunc, id string) *FlowSummary {
	st, err := status(ctx, id)
	var nf *hatchetflow.SignatureNotFoundError
	switch {
	case err == nil:
		return NewFlowSummary(st)
	case errors.As(err, &nf), errors.Is(err, hatchetflow.ErrSignatureNotFound):
		return &FlowSummary{Missing: true}
	default:
		return &FlowSummary{Problem: err.Error()}
	}
}
