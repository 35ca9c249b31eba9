package hatchetflow_test

import (
	"context"
	"fmt"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type NightlyReport struct {
	Day    string `json:"day"`
	Format string `json:"format"`
}

type MailReport struct {
	Report inject.ReturnValue[string] `json:"report"`
	To     string                     `json:"to"`
}

// Every run of "nightly-report" that carries no signature of its own (a cron's, an
// event's, a plain Hatchet caller's) gets its standing signature: bound kwargs and
// callbacks, as if it had been signed. On a real engine the cron is
// hatchetflow.WithHatchetWorkflowOptions(hatchet.WithWorkflowCron("0 2 * * *")); here
// the harness dispatches a run with no hatchetflow metadata, as the cron would.
func ExampleWithStandingSignature() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client

	_, err := hatchetflow.NewTask(flow, "nightly-report",
		func(_ hatchet.Context, in NightlyReport) (string, error) {
			return in.Day + "." + in.Format, nil
		},
		hatchetflow.WithStandingSignature(dsl.Sign("nightly-report").With(dsl.KW{"format": "pdf"}).
			OnSuccess(dsl.Sign("mail-report").With(dsl.KW{"to": "ops@example.com"}))),
		hatchetflow.WithHatchetWorkflowOptions(hatchet.WithWorkflowCron("0 2 * * *")))
	if err != nil {
		fmt.Println(err)
		return
	}
	hatchetflow.NewTask(flow, "mail-report", func(_ hatchet.Context, in MailReport) (any, error) {
		fmt.Printf("mail %s to %s\n", in.Report.Value, in.To)
		return nil, nil
	})

	ctx := context.Background()
	runID, _ := h.Dispatch(ctx, "nightly-report", map[string]any{"day": "2024-05-01"}, nil)
	h.Drain(ctx)
	sig, _ := flow.Signature(ctx, hatchetflow.StandingSignatureID(runID))
	fmt.Println("standing signature:", sig.Status)
	// Output:
	// mail 2024-05-01.pdf to ops@example.com
	// standing signature: done
}

// RunOptions.StartAfter schedules the run: the signature is saved, pending, at once;
// the run starts once the delay has passed. The harness keeps its own clock: Wait (or
// Drain) skips it to the scheduled run.
func ExampleRunOptions_startAfter() {
	h, stop, _ := flowtest.Start()
	defer stop()
	flow := h.Client
	report, _ := hatchetflow.NewTask(flow, "report", func(_ hatchet.Context, in NightlyReport) (string, error) {
		return in.Day, nil
	})

	ctx := context.Background()
	start := h.Now()
	run, err := report.RunWith(ctx, NightlyReport{Day: "monday"}, &hatchetflow.RunOptions{StartAfter: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	sig, _ := flow.Signature(ctx, run.SignatureID())
	fmt.Println("before:", sig.Status, "run id:", run.RunID() == "", "schedule:", run.ScheduleID() != "")
	got, err := run.Wait(ctx)
	fmt.Println("after:", got, err, h.Now().Sub(start))
	// Output:
	// before: pending run id: true schedule: true
	// after: monday <nil> 1h0m0s
}
