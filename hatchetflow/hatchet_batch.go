//lint:file-ignore SA1019 the engine's bulk trigger (BulkTriggerWorkflow) is reachable only through the SDK's v0 admin client in v0.104.7 and v0.105.0; the v1 SDK's RunMany makes one call per run.

package hatchetflow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	v0 "github.com/hatchet-dev/hatchet/pkg/client"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hatchetflow/go/internal/await"
	"github.com/hatchetflow/go/internal/engine"
)

// The Hatchet adapter's batched dispatch (see batch.go for the lifecycle's side).
var (
	_ engine.BatchDispatcher = (*hatchetBatchDispatcher)(nil)
	_ engine.RunFinder       = (*hatchetDispatcher)(nil)
)

// maxBatchBytes bounds the JSON of one batch's inputs and metadata: the engine's gRPC
// server takes messages of up to 4 MiB by default. A larger batch is refused before it
// is sent, and its runs go one by one.
const maxBatchBytes = 3 << 20

// hatchetBatchDispatcher is the Hatchet dispatcher with the engine's bulk trigger.
type hatchetBatchDispatcher struct {
	*hatchetDispatcher
	admin v0.AdminClient
}

// bulkAdmin returns the admin client batched dispatch uses: one built from opts when
// set ([WithBulkDispatch]); otherwise, when the environment configures a Hatchet
// client (HATCHET_CLIENT_TOKEN is set), one built from the environment, as
// hatchet.NewClient() without options is. It returns nil when batched dispatch is off
// or no client can be built (each run is then its own engine call).
func bulkAdmin(cfg *config) (v0.AdminClient, error) {
	if cfg.BulkOff {
		return nil, nil
	}
	if cfg.BulkOptions == nil && os.Getenv("HATCHET_CLIENT_TOKEN") == "" {
		return nil, nil
	}
	cl, err := v0.New(cfg.BulkOptions...)
	if err != nil {
		if cfg.BulkOptions != nil {
			return nil, fmt.Errorf("hatchetflow: bulk dispatch client: %w", err)
		}
		cfg.Logger.Info("hatchetflow: no bulk dispatch client from the environment; each run is its own engine call", "error", err)
		return nil, nil
	}
	return cl.Admin(), nil
}

// DispatchBatch implements [engine.BatchDispatcher] with the engine's
// BulkTriggerWorkflow: one call, the run ids in the order of runs. The SDK's call
// ignores ctx, so the wait for it honours ctx here (the outcome is then unknown).
func (d *hatchetBatchDispatcher) DispatchBatch(ctx context.Context, runs []engine.Run) ([]string, error) {
	wrs := make([]*v0.WorkflowRun, len(runs))
	size := 0
	for i, r := range runs {
		in, err := json.Marshal(r.Input)
		if err != nil {
			return nil, fmt.Errorf("%w: input of %q: %w", engine.ErrBatchRefused, r.Task, err)
		}
		meta, err := json.Marshal(r.Meta)
		if err != nil {
			return nil, fmt.Errorf("%w: metadata of %q: %w", engine.ErrBatchRefused, r.Task, err)
		}
		size += len(in) + len(meta)
		wrs[i] = &v0.WorkflowRun{Name: r.Task, Input: json.RawMessage(in),
			Options: []v0.RunOptFunc{v0.WithRunMetadata(json.RawMessage(meta))}}
	}
	if size > maxBatchBytes {
		return nil, fmt.Errorf("%w: %d bytes of input and metadata, above %d", engine.ErrBatchRefused, size, maxBatchBytes)
	}
	return await.Do(ctx, func() ([]string, error) {
		ids, err := d.admin.BulkRunWorkflow(wrs)
		if err != nil && refusedByEngine(err) {
			return nil, fmt.Errorf("%w: %w", engine.ErrBatchRefused, err)
		}
		return ids, err
	})
}

// refusedByEngine reports whether err is a gRPC status the engine answers before it
// ingests a batch (a bad request, an unknown workflow, no permission, a message too
// large): no run of the batch was created. Anything else (a timeout, an unavailable or
// lost connection, an internal error) leaves the outcome unknown.
func refusedByEngine(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.Unauthenticated, codes.ResourceExhausted, codes.FailedPrecondition, codes.OutOfRange,
		codes.Unimplemented:
		return true
	}
	return false
}

// RunsOf implements [engine.RunFinder] with the REST API's run list, filtered by the
// parent's metadata, 500 a page, without payloads.
func (d *hatchetDispatcher) RunsOf(ctx context.Context, since time.Time, parent string) (map[string]string, error) {
	noPayloads := false
	limit, offset := int64(500), int64(0)
	params := rest.V1WorkflowRunListParams{Since: since, IncludePayloads: &noPayloads, Limit: &limit, Offset: &offset,
		AdditionalMetadata: &[]string{engine.MetaParent + ":" + parent}}
	out := map[string]string{}
	for {
		page, err := d.h.Runs().List(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rows {
			if r.AdditionalMetadata == nil {
				continue
			}
			if sig, _ := (*r.AdditionalMetadata)[engine.MetaSignature].(string); sig != "" {
				out[sig] = r.WorkflowRunExternalId.String()
			}
		}
		if int64(len(page.Rows)) < limit {
			return out, nil
		}
		offset += limit
	}
}
