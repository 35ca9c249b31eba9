package hatchetflow

import (
	"context"
	"strconv"
	"sync"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
)

// TaskBackend is the [dsl.Backend] for Save and Run calls made inside a running task:
// on a retried attempt the same calls produce the same signature ids (created only if
// absent) and dispatch the same runs at most once. It is MageFlow's retry cache without
// its order-replay bug: a call is identified by its key, or by its position among the
// backend's keyless calls, and the ids derive from the run and that identity, never
// from a shared counter. Make one per handler call with [Client.InTask].
type TaskBackend struct {
	c    *Client
	hctx hatchet.Context
	mu   sync.Mutex
	n    int
}

var _ dsl.Backend = (*TaskBackend)(nil)

// InTask returns the backend for Save and Run calls made by the handler running under
// hctx. Use it for every such call of one handler call, in the same order on every
// attempt, or give calls keys with [TaskBackend.Key].
func (c *Client) InTask(hctx hatchet.Context) *TaskBackend {
	return &TaskBackend{c: c, hctx: hctx}
}

// Key returns a backend whose calls are identified by key instead of their position:
// use it when the calls a handler makes vary between attempts. A key must be unique
// within the handler.
func (b *TaskBackend) Key(key string) dsl.Backend { return &keyedBackend{b: b, key: "k:" + key} }

// SaveSignature implements [dsl.Backend] with deterministic ids.
func (b *TaskBackend) SaveSignature(ctx context.Context, spec dsl.Spec) (dsl.Saved, error) {
	return b.save(ctx, spec, b.next())
}

// RunSignature implements [dsl.Backend]: deterministic ids, and a child run of the
// task, de-duplicated by the engine across retries.
func (b *TaskBackend) RunSignature(ctx context.Context, spec dsl.Spec, input any) (dsl.Handle, error) {
	return b.run(ctx, spec, input, b.next())
}

func (b *TaskBackend) next() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	return "p:" + strconv.Itoa(b.n)
}

// seed identifies one call: the workflow run (the same on every attempt), the task of
// the run that makes it (a workflow of several tasks runs several handlers under one
// run id) and the call's key or position.
func (b *TaskBackend) seed(call string) string {
	return b.hctx.WorkflowRunId() + "/" + b.hctx.StepName() + "/" + call
}

func (b *TaskBackend) save(ctx context.Context, spec dsl.Spec, call string) (dsl.Saved, error) {
	p, err := b.c.compile(ctx, spec, b.seed(call))
	if err != nil {
		return dsl.Saved{}, err
	}
	if err := b.c.write(ctx, p); err != nil {
		return dsl.Saved{}, err
	}
	return p.saved(), nil
}

func (b *TaskBackend) run(ctx context.Context, spec dsl.Spec, input any, call string) (dsl.Handle, error) {
	return b.c.run(ctx, spec, input, runCall{hctx: b.hctx, seed: b.seed(call)})
}

// keyedBackend is a TaskBackend call identified by a key.
type keyedBackend struct {
	b   *TaskBackend
	key string
}

func (k *keyedBackend) SaveSignature(ctx context.Context, spec dsl.Spec) (dsl.Saved, error) {
	return k.b.save(ctx, spec, k.key)
}

func (k *keyedBackend) RunSignature(ctx context.Context, spec dsl.Spec, input any) (dsl.Handle, error) {
	return k.b.run(ctx, spec, input, k.key)
}
