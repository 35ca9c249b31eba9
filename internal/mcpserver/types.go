package mcpserver

import (
	"encoding/json"
	"time"
)

// The tools' inputs and outputs. The SDK derives each tool's JSON schemas from these
// types (json tags name the properties; fields without omitempty are required;
// jsonschema tags are the descriptions).

// IDInput is the input of the tools that read or act on one id.
type IDInput struct {
	ID string `json:"id" jsonschema:"a signature, chain or swarm id (a UUID)"`
}

// NodeInfo is one signature, chain or swarm.
type NodeInfo struct {
	ID string `json:"id"`
	// Kind is "signature", "chain" or "swarm"; "" for a missing node.
	Kind string `json:"kind,omitempty" jsonschema:"signature, chain or swarm"`
	Task string `json:"task,omitempty" jsonschema:"the task it runs (a chain's is chain, a swarm's hatchetflow-swarm)"`
	// Status is pending, active, done, failed, cancelled or suspended.
	Status string         `json:"status,omitempty" jsonschema:"pending, active, done, failed, cancelled or suspended"`
	Kwargs map[string]any `json:"kwargs,omitempty" jsonschema:"the bound kwargs"`
	Result any            `json:"result,omitempty" jsonschema:"the return value once done (a swarm's: its items' results)"`
	Error  string         `json:"error,omitempty" jsonschema:"the error once failed or cancelled"`
	RunID  string         `json:"run_id,omitempty" jsonschema:"the Hatchet workflow run that owns it once started"`
	// Attempt is the owner run's latest attempt (1-based).
	Attempt   int        `json:"attempt,omitempty" jsonschema:"the owner run's latest attempt (1-based)"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// Missing is true for a node that is referenced but gone (expired or deleted).
	Missing bool `json:"missing,omitempty" jsonschema:"referenced but gone (expired or deleted)"`
}

// NodeRef is a callback, step or item in a few fields.
type NodeRef struct {
	ID      string `json:"id"`
	Kind    string `json:"kind,omitempty"`
	Task    string `json:"task,omitempty"`
	Status  string `json:"status,omitempty"`
	Missing bool   `json:"missing,omitempty"`
}

// Dispatched is a callback a signature dispatched, and the run it got.
type Dispatched struct {
	Outcome    string `json:"outcome" jsonschema:"success, error or finally"`
	CallbackID string `json:"callback_id"`
	RunID      string `json:"run_id"`
}

// SignatureOutput is get_signature's output: the node and its direct callbacks.
type SignatureOutput struct {
	NodeInfo
	OnSuccess []NodeRef `json:"on_success,omitempty" jsonschema:"success callbacks (a chain step's next step is not one: see its chain)"`
	OnError   []NodeRef `json:"on_error,omitempty" jsonschema:"error callbacks"`
	Finally   []NodeRef `json:"finally,omitempty" jsonschema:"finally callbacks"`
	// SubTasks counts a chain's direct steps or a swarm's items (list_sub_tasks lists them).
	SubTasks int `json:"sub_tasks,omitempty" jsonschema:"a chain's direct steps or a swarm's items: list them with list_sub_tasks"`
	// Chains are the chains a signature is a step of, innermost first.
	Chains      []string `json:"chains,omitempty" jsonschema:"the chains this signature is a step of, innermost first"`
	ReturnField string   `json:"return_field,omitempty" jsonschema:"the input field that receives a parent's return value"`
	ErrorField  string   `json:"error_field,omitempty" jsonschema:"the input field that receives error details"`
	ScheduleID  string   `json:"schedule_id,omitempty" jsonschema:"the engine schedule that creates its run, if scheduled"`
	// Dispatched are the callbacks it dispatched, with their runs.
	Dispatched []Dispatched `json:"dispatched,omitempty" jsonschema:"the callbacks it dispatched and the run each got"`
}

// FlowInput is get_flow's input.
type FlowInput struct {
	ID       string `json:"id" jsonschema:"the flow's root: a signature, chain or swarm id (a chain's first step id names the chain)"`
	MaxDepth int    `json:"max_depth,omitempty" jsonschema:"levels of the tree to return below the root (0: all); deeper children are counted in omitted"`
}

// FlowNode is a node of get_flow's tree, with what hangs under it.
type FlowNode struct {
	NodeInfo
	Steps     []*FlowNode `json:"steps,omitempty" jsonschema:"a chain's steps in order"`
	Items     []*FlowNode `json:"items,omitempty" jsonschema:"a swarm's items in order"`
	OnSuccess []*FlowNode `json:"on_success,omitempty"`
	OnError   []*FlowNode `json:"on_error,omitempty"`
	Finally   []*FlowNode `json:"finally,omitempty"`
	// Omitted counts the children left out below max_depth.
	Omitted int `json:"omitted,omitempty" jsonschema:"children left out below max_depth"`
}

// FailedNode names the first node of a flow that failed or was cancelled.
type FailedNode struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Task   string `json:"task"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// FlowOutput is get_flow's output: the rolled-up status and the tree.
type FlowOutput struct {
	Root string `json:"root" jsonschema:"the flow's root id"`
	// Status is the rolled-up status (see docs/inspector.md).
	Status string `json:"status" jsonschema:"rolled-up status: active while anything that will run has not ended, suspended, pending for a root never run, then done, failed or cancelled"`
	Open   int    `json:"open" jsonschema:"nodes that will run and have not ended"`
	// Failed is the first node that failed or was cancelled.
	Failed *FailedNode `json:"failed,omitempty" jsonschema:"the first node that failed or was cancelled"`
	Tree   FlowNode    `json:"tree"`
}

// ListInput is list_signatures' input.
type ListInput struct {
	Status   string `json:"status,omitempty" jsonschema:"only records with this status"`
	Task     string `json:"task,omitempty" jsonschema:"only records of this task (a chain's task is chain, a swarm's hatchetflow-swarm)"`
	Roots    bool   `json:"roots,omitempty" jsonschema:"only tops of trees (no callbacks, chain steps or swarm items)"`
	Since    string `json:"since,omitempty" jsonschema:"created at or after: a duration ago (90m) or an RFC 3339 time"`
	Until    string `json:"until,omitempty" jsonschema:"created before: a duration ago or an RFC 3339 time"`
	Limit    int    `json:"limit,omitempty" jsonschema:"page size, default 50, at most 1000"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"the next_cursor of the previous page"`
	SkipFlow bool   `json:"skip_flow,omitempty" jsonschema:"do not roll up each root's flow (one tree read per root)"`
}

// FlowSummary is a listed root's rolled-up flow status.
type FlowSummary struct {
	Status  string      `json:"status,omitempty"`
	Open    int         `json:"open,omitempty"`
	Failed  *FailedNode `json:"failed,omitempty"`
	Missing bool        `json:"missing,omitempty" jsonschema:"the root was gone when its tree was read"`
	Problem string      `json:"problem,omitempty" jsonschema:"why its tree could not be read"`
}

// ListEntry is a listed record.
type ListEntry struct {
	NodeInfo
	Root bool `json:"root,omitempty" jsonschema:"the top of a tree"`
	// Flow is the rolled-up status of a root's flow (not with skip_flow).
	Flow *FlowSummary `json:"flow,omitempty" jsonschema:"a root's rolled-up flow status"`
}

// ListOutput is list_signatures' output.
type ListOutput struct {
	Entries    []ListEntry `json:"entries" jsonschema:"matching records, newest first"`
	NextCursor string      `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
}

// TaskInfo is a registered task.
type TaskInfo struct {
	Name        string `json:"name"`
	InputType   string `json:"input_type,omitempty" jsonschema:"the Go type of its input"`
	OutputType  string `json:"output_type,omitempty" jsonschema:"the Go type of its return value"`
	ReturnField string `json:"return_field,omitempty" jsonschema:"the input field that receives a parent's return value"`
	ErrorField  string `json:"error_field,omitempty" jsonschema:"the input field that receives error details"`
	Retries     int    `json:"retries"`
	Signatures  int64  `json:"signatures" jsonschema:"stored records of this task"`
}

// TasksOutput is list_registered_tasks' output.
type TasksOutput struct {
	Tasks []TaskInfo `json:"tasks" jsonschema:"the task registry, by name"`
}

// SubTask is a chain's step or a swarm's item.
type SubTask struct {
	Index int    `json:"index"`
	ID    string `json:"id" jsonschema:"the step's or item's signature id (a chain item's first step)"`
	Task  string `json:"task"`
	// Status is a step's status, or an item's state (queued, running, done, failed).
	Status  string `json:"status" jsonschema:"a chain step's status, or a swarm item's state: queued, running, done or failed"`
	RunID   string `json:"run_id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Result  any    `json:"result,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ContainerOutput is get_container_summary's output.
type ContainerOutput struct {
	ID     string `json:"id" jsonschema:"the chain or swarm id"`
	Kind   string `json:"kind" jsonschema:"chain or swarm"`
	Status string `json:"status"`
	Total  int    `json:"total" jsonschema:"steps (nested chains flattened) or items"`
	// Counts count steps by status, or items by state.
	Counts map[string]int `json:"counts" jsonschema:"steps by status, or items by state (queued, running, done, failed)"`
	// Current is a chain's step that runs, failed, or runs next (the last once done).
	Current        *SubTask `json:"current,omitempty" jsonschema:"a chain's step that runs, failed or runs next (the last once done)"`
	Closed         bool     `json:"closed,omitempty" jsonschema:"a swarm that takes no more items"`
	MaxConcurrency int      `json:"max_concurrency,omitempty"`
	StopAfter      int      `json:"stop_after,omitempty" jsonschema:"a swarm stops after this many failed items"`
	MaxItems       int      `json:"max_items,omitempty"`
	Result         any      `json:"result,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// SubTasksInput is list_sub_tasks' input.
type SubTasksInput struct {
	ID     string `json:"id" jsonschema:"a chain or swarm id (a chain's first step id names the chain)"`
	Status string `json:"status,omitempty" jsonschema:"only steps with this status, or items in this state"`
	Limit  int    `json:"limit,omitempty" jsonschema:"page size, default 50, at most 1000"`
	Cursor string `json:"cursor,omitempty" jsonschema:"the next_cursor of the previous page"`
}

// SubTasksOutput is list_sub_tasks' output.
type SubTasksOutput struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind" jsonschema:"chain or swarm"`
	Total      int       `json:"total" jsonschema:"steps or items matching the filter"`
	Items      []SubTask `json:"items" jsonschema:"this page, in order"`
	NextCursor string    `json:"next_cursor,omitempty" jsonschema:"pass as cursor for the next page; absent on the last page"`
}

// LogsInput is get_logs' input.
type LogsInput struct {
	ID      string `json:"id" jsonschema:"a signature id (a chain's or swarm's: the logs of its steps' or items' runs)"`
	Attempt int    `json:"attempt,omitempty" jsonschema:"only this attempt (1-based; 0: all)"`
	Limit   int    `json:"limit,omitempty" jsonschema:"lines per run, oldest first, default 100, at most 1000"`
	Since   string `json:"since,omitempty" jsonschema:"only lines at or after: a duration ago (10m) or an RFC 3339 time"`
}

// LogLine is one line a task run logged (hctx.Log).
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level,omitempty" jsonschema:"DEBUG, INFO, WARN or ERROR"`
	Message string    `json:"message"`
	Attempt int       `json:"attempt,omitempty"`
	// TaskRunID is the Hatchet task run that logged it, TaskName its task in the run.
	TaskRunID string `json:"task_run_id,omitempty" jsonschema:"the Hatchet task run that logged it"`
	TaskName  string `json:"task_name,omitempty" jsonschema:"its task in the workflow run"`
}

// RunLogs are the log lines of one run.
type RunLogs struct {
	SignatureID string    `json:"signature_id"`
	Task        string    `json:"task"`
	RunID       string    `json:"run_id" jsonschema:"the Hatchet workflow run the record names"`
	Lines       []LogLine `json:"lines"`
	Truncated   bool      `json:"truncated,omitempty" jsonschema:"more lines exist: raise limit or pass since"`
}

// LogsOutput is get_logs' output.
type LogsOutput struct {
	ID   string    `json:"id"`
	Kind string    `json:"kind"`
	Runs []RunLogs `json:"runs" jsonschema:"one per run: the signature's, or a chain's steps' and a swarm's items' in order"`
	// Note says why runs is empty or short.
	Note string `json:"note,omitempty"`
}

// CancelInput is cancel's input.
type CancelInput struct {
	ID     string `json:"id" jsonschema:"a signature, chain or swarm id"`
	Silent bool   `json:"silent,omitempty" jsonschema:"fire no error callbacks (finally callbacks fire either way)"`
	Reason string `json:"reason,omitempty" jsonschema:"kept as the error of what was cancelled (default: cancelled)"`
}

// SuspendInput is suspend's input.
type SuspendInput struct {
	ID            string `json:"id" jsonschema:"a signature, chain or swarm id"`
	CancelRunning bool   `json:"cancel_running,omitempty" jsonschema:"cancel the running attempt and run it again on resume (not for a swarm)"`
}

// RetryInput is retry's input.
type RetryInput struct {
	ID     string         `json:"id" jsonschema:"a failed or cancelled signature, chain (or its first step id), chain step or swarm"`
	Kwargs map[string]any `json:"kwargs,omitempty" jsonschema:"merged over the retried signature's bound kwargs (checked against its task)"`
}

// ActionOutput is the output of cancel, suspend and resume.
type ActionOutput struct {
	ID     string `json:"id"`
	Action string `json:"action" jsonschema:"cancel, suspend or resume"`
	Status string `json:"status" jsonschema:"its status after the action"`
}

// RetryOutput is retry's output.
type RetryOutput struct {
	ID          string `json:"id"`
	SignatureID string `json:"signature_id" jsonschema:"the signature that runs again (a chain's failed step)"`
	RunID       string `json:"run_id" jsonschema:"its new Hatchet run"`
}

// decoded is a stored JSON value as a Go value for the structured output (nil for
// none).
func decoded(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return v
}
