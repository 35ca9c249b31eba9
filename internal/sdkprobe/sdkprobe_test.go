package sdkprobe_test

import (
	"testing"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/internal/sdkprobe"
)

func TestTaskReadsWhatOptionsSet(t *testing.T) {
	got := sdkprobe.Task([]hatchet.TaskOption{hatchet.WithRetries(3), hatchet.WithExecutionTimeout(5 * time.Second)})
	if got.Retries == nil || *got.Retries != 3 {
		t.Fatalf("Retries = %v, want 3", got.Retries)
	}
	if got.ExecutionTimeout == nil || *got.ExecutionTimeout != 5*time.Second {
		t.Fatalf("ExecutionTimeout = %v, want 5s", got.ExecutionTimeout)
	}
	if got.ScheduleTimeout != nil {
		t.Fatalf("ScheduleTimeout = %v, want unset", *got.ScheduleTimeout)
	}
	// Zero is a value too: an explicit WithRetries(0) is seen.
	if z := sdkprobe.Task([]hatchet.TaskOption{hatchet.WithRetries(0)}); z.Retries == nil || *z.Retries != 0 {
		t.Fatalf("WithRetries(0): Retries = %v", z.Retries)
	}
	if none := sdkprobe.Task([]hatchet.TaskOption{hatchet.WithDescription("x")}); none.Retries != nil || none.ExecutionTimeout != nil {
		t.Fatalf("unrelated option: %+v", none)
	}
}

func TestWorkerSetsWorkflows(t *testing.T) {
	// A nil element stands in for a workflow: one needs an engine client to build.
	if !sdkprobe.WorkerSetsWorkflows([]hatchet.WorkerOption{hatchet.WithSlots(3), hatchet.WithWorkflows(nil)}) {
		t.Fatal("WithWorkflows(wf) not seen")
	}
	if sdkprobe.WorkerSetsWorkflows([]hatchet.WorkerOption{hatchet.WithWorkflows()}) {
		t.Fatal("an empty WithWorkflows() drops nothing and is not reported")
	}
	if sdkprobe.WorkerSetsWorkflows([]hatchet.WorkerOption{hatchet.WithSlots(3)}) {
		t.Fatal("WithSlots seen as WithWorkflows")
	}
}
