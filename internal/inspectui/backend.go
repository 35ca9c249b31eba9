package inspectui

import (
	"context"

	"github.com/hatchetflow/go/hatchetflow"
)

// Backend is what the inspector reads and controls. *hatchetflow.Client implements it.
type Backend interface {
	// Tree reads the whole tree under id.
	Tree(ctx context.Context, id string) (*hatchetflow.Node, error)
	// List reads one page of records.
	List(ctx context.Context, opts *hatchetflow.ListOptions) (*hatchetflow.ListPage, error)
	// Tasks reads the task registry.
	Tasks(ctx context.Context) ([]hatchetflow.TaskInfo, error)
	// Cancel, Suspend and Resume change the lifecycle of id.
	Cancel(ctx context.Context, id string, opts *hatchetflow.CancelOptions) error
	Suspend(ctx context.Context, id string, opts *hatchetflow.SuspendOptions) error
	Resume(ctx context.Context, id string) error
}

var _ Backend = (*hatchetflow.Client)(nil)
