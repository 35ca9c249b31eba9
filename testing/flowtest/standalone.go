package flowtest

import (
	"fmt"
	"sync"

	"github.com/alicebob/miniredis/v2"

	"github.com/hatchetflow/go/hatchetflow"
)

// Start returns a harness on a miniredis of its own for code that has no testing.TB:
// runnable examples, demos, benchmarks' set-up. It logs nothing. Call stop when done;
// it reports a failure the harness met (such as a Drain that never ended), if any.
// Tests should use [New].
func Start(opts ...hatchetflow.Option) (h *Harness, stop func() error, err error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, err
	}
	t := &standaloneT{}
	h = newHarness(t, mr, opts...)
	if t.failed != nil {
		t.cleanup()
		mr.Close()
		return nil, nil, t.failed
	}
	h.Quiet()
	return h, func() error {
		t.cleanup()
		mr.Close()
		return t.err()
	}, nil
}

// standaloneT is the testingT of a harness made by Start: it keeps failures as errors.
type standaloneT struct {
	mu       sync.Mutex
	failed   error
	cleanups []func()
}

func (t *standaloneT) Helper()             {}
func (t *standaloneT) Logf(string, ...any) {}
func (t *standaloneT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *standaloneT) Errorf(format string, args ...any) { t.fail(format, args...) }
func (t *standaloneT) Fatalf(format string, args ...any) { t.fail(format, args...) }

func (t *standaloneT) fail(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed == nil {
		t.failed = fmt.Errorf(format, args...)
	}
}

func (t *standaloneT) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *standaloneT) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
