package hatchetflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/testing/flowtest"
)

// Drain returns at once with no step running, waits for a running step to return,
// and, when its context ends first, says how many steps still run.
func TestDrainWaitsForRunningSteps(t *testing.T) {
	h := flowtest.New(t)
	c := h.Client
	ctx := context.Background()
	if err := c.Drain(ctx); err != nil {
		t.Fatalf("Drain with nothing running: %v", err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	step := c.ForHatchet(func(hatchet.Context, map[string]any) (json.RawMessage, error) {
		close(started)
		<-release
		return json.RawMessage(`{}`), nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := step(flowtest.NewContext(ctx, nil), map[string]any{})
		done <- err
	}()
	<-started
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := c.Drain(short)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 steps still running") {
		t.Fatalf("Drain while a step runs = %v, want the deadline and the count", err)
	}
	drained := make(chan error, 1)
	go func() { drained <- c.Drain(ctx) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v while the step runs", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-drained; err != nil {
		t.Fatalf("Drain after the step returned: %v", err)
	}
}
