package inspectui

import (
	"context"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

// Backend is what the inspector reads and controls. [ClientBackend] makes one of a
// *hatchetflow.Client (with its Redis store and Hatchet client).
type Backend interface {
	// Tree reads the whole tree under id.
	Tree(ctx context.Context, id string) (*hatchetflow.Node, error)
	// FlowStatus reads the rolled-up status of the flow rooted at id.
	FlowStatus(ctx context.Context, id string) (*hatchetflow.FlowStatus, error)
	// List reads one page of records.
	List(ctx context.Context, opts *hatchetflow.ListOptions) (*hatchetflow.ListPage, error)
	// Records reads the stored records of ids in one round trip: what the list and the
	// detail panel show beyond a Summary and a Node (the input a run was dispatched
	// with). Ids that are gone are absent from the map.
	Records(ctx context.Context, ids []string) (map[string]*Record, error)
	// Logs reads the log lines of the engine run runID (every task run of it), oldest
	// first, at most [LogLimit] of the latest. It returns an error matching
	// [ErrLogsUnavailable] when the backend cannot reach the engine's logs.
	Logs(ctx context.Context, runID string) (*RunLogs, error)
	// Tasks reads the task registry.
	Tasks(ctx context.Context) ([]hatchetflow.TaskInfo, error)
	// Cancel, Suspend and Resume change the lifecycle of id.
	Cancel(ctx context.Context, id string, opts *hatchetflow.CancelOptions) error
	Suspend(ctx context.Context, id string, opts *hatchetflow.SuspendOptions) error
	Resume(ctx context.Context, id string) error
	// Retry runs a failed or cancelled signature or chain again from the failed step.
	Retry(ctx context.Context, id string, opts *hatchetflow.RetryOptions) (dsl.Handle, error)
}
