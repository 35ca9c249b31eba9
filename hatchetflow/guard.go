package hatchetflow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hatchetflow/go/internal/engine"
)

// The attempt guard stands between the Hatchet SDK's cancel and an attempt's user
// code.
//
// The SDK keys its cancel functions by step run id, which every attempt of a run
// shares (docs/reliability.md, "the SDK's cancel reaches the wrong attempt"): the
// engine's cancel for an attempt that timed out can reach the retry that the same
// worker runs next. Obeyed blindly, that cancel throws away a retry that would have
// succeeded, and the run fails although no attempt of it failed on its own.
//
// So the SDK's cancel is checked with the engine, whose run status is the authority:
//   - the run ended (cancelled from anywhere, or failed: its timeout with no retry
//     left), or its durable task was evicted (the SDK cancels an attempt it evicts; the
//     engine restores the task later, replaying it): the cancel is meant for this
//     attempt and its context ends;
//   - the run is still queued or running: the cancel belonged to an earlier attempt.
//     This attempt runs on (bounded, as always, by its own execution timeout, which the
//     main step enforces whatever the SDK does), the engine is asked again every
//     guardRecheck while it runs and once more before it finishes, and the SDK is given
//     a live context so it reports the attempt's result, which the engine accepts for
//     the attempt it considers current (events carry the retry count);
//   - the engine cannot be asked: the cancel is obeyed, as the SDK meant.
//
// A stale attempt never finishes a signature behind a later one: its own deadline
// ends its user context, and an attempt past its deadline never finishes (mainStep).

// guardRecheck is how often a shielded attempt asks the engine again whether its run
// was cancelled while it runs on.
const guardRecheck = time.Second

// guardAsk bounds one question to the engine about the run's status.
const guardAsk = 2 * time.Second

// guardVerdict is what the engine said of the SDK's cancel.
type guardVerdict int

const (
	guardNone  guardVerdict = iota // the SDK never cancelled the attempt
	guardStale                     // the SDK cancelled, but the run goes on: not meant for this attempt
	guardMeant                     // the run ended, or the engine could not be asked: the cancel stands
)

// attemptGuard is the guard of one attempt (see above). The zero guard (nil) obeys
// the SDK directly.
type attemptGuard struct {
	rc     engine.RunChecker
	log    *slog.Logger
	runID  string
	sdk    context.Context // the SDK's context of the attempt
	cancel context.CancelCauseFunc
	stop   chan struct{}

	mu      sync.Mutex
	verdict guardVerdict
	decided chan struct{} // closed once the SDK's cancel has a verdict
}

// errCancelConfirmed is the cause of a guarded context ended by a cancel the engine
// confirmed.
var errCancelConfirmed = errors.New("hatchetflow: the engine cancelled or ended this run")

type attemptGuardKey struct{}

// guardAttempt returns the context the attempt of run runID runs under instead of
// sdk, the SDK's context: it keeps sdk's values and ends only when the SDK's cancel is
// confirmed (see above); a stale cancel is logged to log at Info. With no run checker
// it returns sdk and a nil guard. release stops the guard; after it the guarded
// context no longer follows the SDK.
func guardAttempt(sdk context.Context, rc engine.RunChecker, log *slog.Logger, runID string) (ctx context.Context, g *attemptGuard) {
	if rc == nil || runID == "" {
		return sdk, nil
	}
	g = &attemptGuard{rc: rc, log: log, runID: runID, sdk: sdk, stop: make(chan struct{}), decided: make(chan struct{})}
	var gctx context.Context
	gctx, g.cancel = context.WithCancelCause(context.WithoutCancel(sdk))
	gctx = context.WithValue(gctx, attemptGuardKey{}, g)
	go g.watch()
	return gctx, g
}

// guardOf returns the guard of the attempt ctx belongs to, or nil.
func guardOf(ctx context.Context) *attemptGuard {
	g, _ := ctx.Value(attemptGuardKey{}).(*attemptGuard)
	return g
}

func (g *attemptGuard) watch() {
	select {
	case <-g.stop:
		return
	case <-g.sdk.Done():
	}
	meant := g.ask()
	g.mu.Lock()
	g.verdict = guardStale
	if meant {
		g.verdict = guardMeant
	}
	g.mu.Unlock()
	close(g.decided)
	if meant {
		g.cancel(errCancelConfirmed)
		return
	}
	g.log.Info("hatchetflow: the SDK cancelled an attempt whose run goes on; the cancel was for an earlier attempt, this one runs on",
		"run", g.runID)
	t := time.NewTicker(guardRecheck)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			if g.ask() {
				g.confirm()
				return
			}
		}
	}
}

// ask reports whether the engine says the run ended or its durable task was evicted,
// or cannot say.
func (g *attemptGuard) ask() (meant bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(g.sdk), guardAsk)
	defer cancel()
	st, err := g.rc.RunStatus(ctx, g.runID)
	return err != nil || st.Ended || st.Evicted
}

func (g *attemptGuard) confirm() {
	g.mu.Lock()
	g.verdict = guardMeant
	g.mu.Unlock()
	g.cancel(errCancelConfirmed)
}

// settle waits for the verdict on an SDK cancel, if there was one, and asks the engine
// once more when the cancel was judged stale, so a cancel meant for this attempt that
// came after a stale one (the SDK's context cannot end twice) is not missed. After it,
// the guarded context is ended if and only if the attempt must not finish. A nil
// guard does nothing.
func (g *attemptGuard) settle() {
	if g == nil || g.sdk.Err() == nil {
		return
	}
	<-g.decided
	if g.seen() == guardStale && g.ask() {
		g.confirm()
	}
}

// seen returns what the engine said of the SDK's cancel so far.
func (g *attemptGuard) seen() guardVerdict {
	if g == nil {
		return guardNone
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.verdict
}

// release stops the guard.
func (g *attemptGuard) release() {
	if g != nil {
		close(g.stop)
	}
}
