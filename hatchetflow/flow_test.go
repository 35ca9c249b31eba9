package hatchetflow_test

import (
	"context"
	"errors"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/testing/flowtest"
)

// flowTasks registers ok (returns its input), boom (fails) and slow-free helpers on a
// harness.
func flowTasks(t *testing.T) *flowtest.Harness {
	t.Helper()
	h := flowtest.New(t)
	h.Quiet()
	_, err := hatchetflow.NewTask(h.Client, "ok", func(_ hatchet.Context, in map[string]any) (map[string]any, error) { return in, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(h.Client, "boom", func(_ hatchet.Context, in map[string]any) (any, error) {
		return nil, hatchetflow.NonRetryable(errors.New("boom refuses"))
	})
	must(t, err)
	return h
}

// The new user's report: a root succeeds, its success callback (a chain) fails at its
// second step. The flow's rolled-up status is failed, naming that step, although the
// root is done; Wait returns when every branch that will run ended; the chain is
// addressable by the id the root lists for it.
func TestFlowHandleWhoseChainCallbackFails(t *testing.T) {
	h := flowTasks(t)
	h.ExpectFailure("boom")
	ctx := context.Background()
	cb := dsl.Chain(dsl.Sign("ok"), dsl.Sign("boom"), dsl.Sign("ok")).OnError(dsl.Sign("ok"))
	run, err := dsl.Sign("ok").OnSuccess(cb).Run(ctx, h.Client, map[string]any{"n": 1})
	must(t, err)
	if _, err := run.Wait(ctx); err != nil {
		t.Fatalf("the root's own Wait: %v (the root succeeded)", err)
	}
	fl := run.(*hatchetflow.Handle).Flow()
	st, err := fl.Wait(ctx)
	var fe *hatchetflow.FlowError
	if !errors.As(err, &fe) || !errors.Is(err, hatchetflow.ErrFlowFailed) || errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Flow.Wait = %v, want a *FlowError that fails", err)
	}
	if st.Status != hatchetflow.StatusFailed || st.Open != 0 || st.Tree.Status != hatchetflow.StatusDone {
		t.Fatalf("rolled-up status %s (open %d), root %s; want failed, 0, done", st.Status, st.Open, st.Tree.Status)
	}
	if fe.Task != "boom" || st.Failed == nil || st.Failed.ID != fe.NodeID || fe.Message == "" {
		t.Fatalf("flow error %+v, failed node %+v; want the boom step with its message", fe, st.Failed)
	}
	// The chain callback, by the id the root lists for it.
	root, err := h.Client.Tree(ctx, run.SignatureID())
	must(t, err)
	listed, err := h.Client.Signature(ctx, run.SignatureID())
	must(t, err)
	chain, err := h.Client.Chain(ctx, listed.OnSuccess[0].ID)
	must(t, err)
	if chain.Status != hatchetflow.StatusFailed || chain.Steps[chain.Current].Task != "boom" || len(root.OnSuccess) != 1 || root.OnSuccess[0].ID != chain.ID {
		t.Fatalf("Chain(%s) = %+v; tree shows %+v", listed.OnSuccess[0], chain, root.OnSuccess)
	}
	// Flow rebuilds the same status from the root id, and from the listed id the chain's.
	again, err := h.Client.Flow(ctx, run.SignatureID())
	must(t, err)
	if st2, err := again.Status(ctx); err != nil || st2.Status != hatchetflow.StatusFailed || st2.Failed.ID != fe.NodeID {
		t.Fatalf("rebuilt flow status %+v, %v", st2, err)
	}
	sub, err := h.Client.Flow(ctx, listed.OnSuccess[0].ID)
	must(t, err)
	if sub.ID() != chain.ID {
		t.Fatalf("Flow(listed id) is rooted at %s, want the chain %s", sub.ID(), chain.ID)
	}
}

// A flow whose every node succeeded is done; one whose root was cancelled is cancelled
// (ErrCancelled), once its error callbacks ran; a failed root with a successful error
// callback is failed, naming the root.
func TestFlowRolledUpStatus(t *testing.T) {
	h := flowTasks(t)
	h.ExpectFailure("boom")
	ctx := context.Background()
	good, err := dsl.Sign("ok").OnSuccess(dsl.Sign("ok"), dsl.Chain(dsl.Sign("ok"), dsl.Sign("ok"))).OnError(dsl.Sign("boom")).
		Run(ctx, h.Client, map[string]any{})
	must(t, err)
	st, err := good.(*hatchetflow.Handle).Flow().Wait(ctx)
	if err != nil || st.Status != hatchetflow.StatusDone || st.Failed != nil {
		t.Fatalf("all-good flow: %+v, %v; want done (the error callback boom never runs)", st, err)
	}
	bad, err := dsl.Sign("boom").OnError(dsl.Sign("ok")).Run(ctx, h.Client, map[string]any{})
	must(t, err)
	st, err = bad.(*hatchetflow.Handle).Flow().Wait(ctx)
	var fe *hatchetflow.FlowError
	if !errors.As(err, &fe) || fe.NodeID != bad.SignatureID() || st.Status != hatchetflow.StatusFailed {
		t.Fatalf("failed root: %+v, %v; want failed naming the root", st, err)
	}
	saved, err := dsl.Sign("ok").OnError(dsl.Sign("ok")).Save(ctx, h.Client)
	must(t, err)
	fl, err := h.Client.Flow(ctx, saved.ID)
	must(t, err)
	if st, err := fl.Status(ctx); err != nil || st.Status != hatchetflow.StatusPending {
		t.Fatalf("never-run flow: %+v, %v; want pending", st, err)
	}
	if err := h.Client.Cancel(ctx, saved.ID, nil); err != nil {
		t.Fatal(err)
	}
	st, err = fl.Wait(ctx)
	if !errors.Is(err, hatchetflow.ErrCancelled) || st.Status != hatchetflow.StatusCancelled {
		t.Fatalf("cancelled flow: %+v, %v; want cancelled", st, err)
	}
	if _, err := h.Client.Flow(ctx, "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"); !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
		t.Fatalf("Flow of an unknown id = %v, want ErrSignatureNotFound", err)
	}
}
