package poll_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hatchetflow/go/internal/poll"
)

func TestPauseDoublesUpToItsCeiling(t *testing.T) {
	p := poll.New(time.Millisecond, 3*time.Millisecond)
	var got []time.Duration
	for range 4 {
		got = append(got, p.Delay())
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
}

func TestPauseEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := poll.New(time.Hour, time.Hour).Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
}
