package inspectui

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/redisstore"
)

// ClientBackend is the [Backend] of a *hatchetflow.Client: its own methods,
// FlowStatus through Client.Flow, Records through the client's Redis store and Logs
// through the Hatchet SDK. Make one with [NewClientBackend].
type ClientBackend struct {
	*hatchetflow.Client
	// Store is the Redis store the client uses (the same Redis and key prefix), which
	// Records reads; nil makes Records answer ErrNoStore (the list then has no
	// previews and the detail panel no input).
	Store *redisstore.Store
	// Hatchet is the SDK client Logs reads through; nil makes Logs answer
	// [ErrLogsUnavailable].
	Hatchet *hatchet.Client
}

// NewClientBackend returns the backend of flow, reading records through store and
// logs through hc (either may be nil: see [ClientBackend]). It makes the SDK's run and
// log clients now, as the SDK makes them on first use without a lock.
func NewClientBackend(flow *hatchetflow.Client, store *redisstore.Store, hc *hatchet.Client) ClientBackend {
	if hc != nil {
		_, _ = hc.Runs(), hc.Logs()
	}
	return ClientBackend{Client: flow, Store: store, Hatchet: hc}
}

// ErrNoStore is [ClientBackend.Records]'s error when it has no Store.
var ErrNoStore = errors.New("inspectui: ClientBackend has no Store")

// FlowStatus reads the rolled-up status of the flow rooted at id
// (Client.Flow(ctx, id).Status).
func (b ClientBackend) FlowStatus(ctx context.Context, id string) (*hatchetflow.FlowStatus, error) {
	f, err := b.Flow(ctx, id)
	if err != nil {
		return nil, err
	}
	return f.Status(ctx)
}

// Records reads the records of ids in one pipelined round trip.
func (b ClientBackend) Records(ctx context.Context, ids []string) (map[string]*Record, error) {
	if b.Store == nil {
		return nil, ErrNoStore
	}
	valid := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !redisstore.ValidID(id) })
	recs, err := b.Store.GetMany(ctx, valid)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Record, len(recs))
	for id, r := range recs {
		kind := r.Kind
		if kind == redisstore.KindSignature {
			kind = "signature"
		}
		out[id] = &Record{ID: r.ID, Kind: kind, Input: r.Input, Kwargs: r.Kwargs, Result: r.Result, Error: r.Error,
			RunID: r.RunID, Attempt: r.Attempt}
	}
	return out, nil
}

// Logs reads the log lines of run runID through the Hatchet SDK: the run's task runs
// (Runs().Get), then each one's lines (Logs().List), merged oldest first. A run id
// that is not a workflow run's is read as a task run's.
func (b ClientBackend) Logs(ctx context.Context, runID string) (*RunLogs, error) {
	if b.Hatchet == nil {
		return nil, ErrLogsUnavailable
	}
	id, err := uuid.Parse(runID)
	if err != nil {
		return nil, &LogsError{RunID: runID, Err: err}
	}
	type task struct {
		id   uuid.UUID
		name string
	}
	tasks := []task{{id: id}}
	if details, err := b.Hatchet.Runs().Get(ctx, id.String()); err == nil && len(details.Tasks) > 0 {
		tasks = tasks[:0]
		for _, t := range details.Tasks {
			tasks = append(tasks, task{id: t.TaskExternalId, name: t.DisplayName})
		}
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	limit := int64(LogLimit)
	desc := rest.V1LogLineOrderByDirectionDESC // the latest lines when there are too many
	out := &RunLogs{RunID: runID}
	for _, t := range tasks {
		list, err := b.Hatchet.Logs().List(ctx, t.id, &rest.V1LogLineListParams{Limit: &limit, OrderByDirection: &desc})
		if err != nil {
			return nil, &LogsError{RunID: runID, Err: err}
		}
		if list == nil || list.Rows == nil {
			continue
		}
		if len(*list.Rows) >= LogLimit {
			out.Truncated = true
		}
		for _, l := range *list.Rows {
			line := LogLine{Time: l.CreatedAt, Message: l.Message, Task: t.name}
			if l.Level != nil {
				line.Level = string(*l.Level)
			}
			if l.Attempt != nil {
				line.Attempt = *l.Attempt
			}
			if l.TaskDisplayName != nil && *l.TaskDisplayName != "" {
				line.Task = *l.TaskDisplayName
			}
			out.Lines = append(out.Lines, line)
		}
	}
	sort.SliceStable(out.Lines, func(i, j int) bool { return out.Lines[i].Time.Before(out.Lines[j].Time) })
	if len(out.Lines) > LogLimit {
		out.Lines, out.Truncated = out.Lines[len(out.Lines)-LogLimit:], true
	}
	return out, nil
}

var _ Backend = ClientBackend{}
