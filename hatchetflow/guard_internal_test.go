package hatchetflow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hatchetflow/go/internal/engine"
)

// statusScript is a RunChecker whose answers the test sets.
type statusScript struct {
	mu    sync.Mutex
	st    engine.RunStatus
	err   error
	calls int
}

func (s *statusScript) RunStatus(context.Context, string) (engine.RunStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.st, s.err
}

func (s *statusScript) set(st engine.RunStatus, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st, s.err = st, err
}

func (s *statusScript) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type ctxKey struct{}

func TestGuardWithoutSDKCancelAsksNothing(t *testing.T) {
	rc := &statusScript{}
	sdk, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	defer cancel()
	ctx, g := guardAttempt(sdk, rc, quiet, "run-1")
	g.settle()
	g.release()
	if ctx.Err() != nil || g.seen() != guardNone || rc.count() != 0 {
		t.Fatalf("ctx err %v, verdict %v, %d engine calls; want live, none, 0", ctx.Err(), g.seen(), rc.count())
	}
	if ctx.Value(ctxKey{}) != "v" || guardOf(ctx) != g {
		t.Fatal("the guarded context lost the SDK context's values or its guard")
	}
}

func TestGuardObeysACancelTheEngineConfirms(t *testing.T) {
	for name, answer := range map[string]struct {
		st  engine.RunStatus
		err error
	}{
		"cancelled":   {st: engine.RunStatus{Ended: true, Cancelled: true}},
		"failed":      {st: engine.RunStatus{Ended: true}},
		"unreachable": {err: errors.New("engine down")},
		"evicted":     {st: engine.RunStatus{Evicted: true}}, // a durable task the SDK evicted: restored later
	} {
		t.Run(name, func(t *testing.T) {
			rc := &statusScript{st: answer.st, err: answer.err}
			sdk, cancel := context.WithCancel(context.Background())
			ctx, g := guardAttempt(sdk, rc, quiet, "run-1")
			defer g.release()
			cancel()
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the guarded context did not end after a confirmed cancel")
			}
			g.settle()
			if !errors.Is(context.Cause(ctx), errCancelConfirmed) || g.seen() != guardMeant {
				t.Fatalf("cause %v, verdict %v; want errCancelConfirmed, meant", context.Cause(ctx), g.seen())
			}
		})
	}
}

func TestGuardKeepsAnAttemptAStaleCancelReached(t *testing.T) {
	rc := &statusScript{} // the run is running: the cancel was for an earlier attempt
	sdk, cancel := context.WithCancel(context.Background())
	ctx, g := guardAttempt(sdk, rc, quiet, "run-1")
	defer g.release()
	cancel()
	g.settle()
	if ctx.Err() != nil || g.seen() != guardStale {
		t.Fatalf("ctx err %v, verdict %v; want live, stale", ctx.Err(), g.seen())
	}
	if rc.count() < 2 {
		t.Fatalf("%d engine calls; settle must ask again before the attempt finishes", rc.count())
	}
}

func TestGuardEndsAShieldedAttemptCancelledLater(t *testing.T) {
	rc := &statusScript{}
	sdk, cancel := context.WithCancel(context.Background())
	ctx, g := guardAttempt(sdk, rc, quiet, "run-1")
	defer g.release()
	cancel()
	for g.seen() == guardNone {
		time.Sleep(time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("a stale cancel ended the attempt")
	}
	rc.set(engine.RunStatus{Ended: true, Cancelled: true}, nil) // now cancelled for real
	select {
	case <-ctx.Done():
	case <-time.After(3 * guardRecheck):
		t.Fatal("a cancel that came after a stale one was not seen by the recheck")
	}
}

func TestGuardSettleCatchesACancelBeforeTheNextRecheck(t *testing.T) {
	rc := &statusScript{}
	sdk, cancel := context.WithCancel(context.Background())
	ctx, g := guardAttempt(sdk, rc, quiet, "run-1")
	defer g.release()
	cancel()
	for g.seen() == guardNone {
		time.Sleep(time.Millisecond)
	}
	rc.set(engine.RunStatus{Ended: true, Cancelled: true}, nil)
	g.settle() // the attempt is about to finish: settle asks once more
	if ctx.Err() == nil || g.seen() != guardMeant {
		t.Fatalf("ctx err %v, verdict %v after settle; want ended, meant", ctx.Err(), g.seen())
	}
}

func TestGuardWithoutRunCheckerIsTheSDKContext(t *testing.T) {
	sdk, cancel := context.WithCancel(context.Background())
	ctx, g := guardAttempt(sdk, nil, quiet, "run-1")
	g.settle()
	g.release()
	cancel()
	if g != nil || ctx.Err() == nil {
		t.Fatal("with no run checker the attempt must follow the SDK's context")
	}
}
