package hatchetflow_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
)

// A run with StartAfter is a Hatchet schedule: the signature is pending at once, the
// run the schedule creates carries our metadata, starts the signature no sooner than
// the delay, and its success callback runs once; Wait follows it.
func TestEngineScheduledRun(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	const delay = 2 * time.Second
	asked := time.Now()
	h, err := e.c.RunWithOptions(ctx, e.orderSig(), Order{OrderID: "sched-1"},
		&hatchetflow.RunOptions{StartAfter: delay, Metadata: map[string]string{"tenant": "acme"}})
	must(t, err)
	if h.RunID() != "" || h.(*hatchetflow.Handle).ScheduleID() == "" {
		t.Fatalf("scheduled handle: run %q, schedule %q", h.RunID(), h.(*hatchetflow.Handle).ScheduleID())
	}
	sig, err := e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	if sig.Status != hatchetflow.StatusPending {
		t.Fatalf("signature right after Run: %s, want pending", sig.Status)
	}
	got, err := hatchetflow.WaitResult[Receipt](ctx, h)
	must(t, err)
	if got != (Receipt{OrderID: "sched-1", Total: 42}) {
		t.Fatalf("result %+v", got)
	}
	email := <-e.emails
	took := time.Since(asked)
	t.Logf("Run with StartAfter %v → success callback running: %v", delay, took)
	if took < delay-100*time.Millisecond {
		t.Fatalf("the success callback ran %v after Run, before the %v delay", took, delay)
	}
	if email.TaskResult.Value != got {
		t.Fatalf("email input %+v", email)
	}
	sig, err = e.c.Signature(ctx, h.SignatureID())
	must(t, err)
	e.settle(ctx, t, sig.RunID, h.SignatureID())
	det, err := e.hc.Runs().GetDetails(ctx, uuid.MustParse(sig.RunID))
	must(t, err)
	meta := map[string]any{}
	must(t, json.Unmarshal(det.AdditionalMetadata, &meta))
	if meta["tenant"] != "acme" || meta[hatchetflow.MetaSignature] != h.SignatureID() {
		t.Fatalf("the scheduled run's metadata %v", meta)
	}
	wantCalls(t, e.flow, map[string]int32{"process-order": 1, "send-success-email": 1, "log-completion": 1, "log-error": 0})
}

// A cancel before the schedule fires deletes the schedule: the run is never created,
// the error callback runs once, and Wait says cancelled.
func TestEngineScheduledRunCancelledBeforeItFires(t *testing.T) {
	e := newEngineFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	h, err := e.c.RunWithOptions(ctx, e.orderSig(), Order{OrderID: "sched-2"}, &hatchetflow.RunOptions{StartAfter: 2 * time.Second})
	must(t, err)
	must(t, e.c.Cancel(ctx, h.SignatureID(), nil))
	if _, err := e.hc.Schedules().Get(ctx, h.(*hatchetflow.Handle).ScheduleID()); err == nil {
		t.Fatal("the schedule still exists after the cancel")
	}
	if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrCancelled) {
		t.Fatalf("Wait = %v, want ErrCancelled", err)
	}
	if e := <-e.errs; e.OrderID != "sched-2" {
		t.Fatalf("error callback input %+v", e)
	}
	time.Sleep(4 * time.Second) // past the schedule's time
	wantCalls(t, e.flow, map[string]int32{"process-order": 0, "log-error": 1})
}

// newEngineStandingFlow starts a worker with "report" (a standing signature whose
// success callback is "mail", error callback "page"), triggered by event
// standingEvent too and, once a year, by a cron.
func newEngineStandingFlow(t *testing.T) (*engineFlow, *standingFlow) {
	t.Helper()
	f := &standingFlow{mails: make(chan MailIn, 10), pages: make(chan PageIn, 10)}
	e := newEngineFlow(t, func(c *hatchetflow.Client) {
		registerStanding(t, f, c, hatchetflow.WithHatchetWorkflowOptions(
			hatchet.WithWorkflowEvents(standingEvent), hatchet.WithWorkflowCron(standingCron)))
	})
	return e, f
}

const (
	standingEvent = "hf-standing:report"
	standingCron  = "0 0 1 1 *" // accepted, and never due during a test
)

// waitMail returns the next success callback's input, or fails the test.
func waitMail(t *testing.T, f *standingFlow) MailIn {
	t.Helper()
	select {
	case m := <-f.mails:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("the standing success callback did not run")
		return MailIn{}
	}
}

// An event starts a run with no hatchetflow metadata: the task's standing signature
// is saved for it, its success callback runs once, and it is listed. The cron the
// task declares is accepted by the engine.
func TestEngineStandingEventRun(t *testing.T) {
	e, f := newEngineStandingFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	// The engine may take the event before it maps it to the workflow a worker has just
	// registered (seen once in CI: no run at all). While no run of report exists, push
	// again; a run that exists is never pushed for twice.
	var mail MailIn
	var pushed time.Time
	for try := 1; ; try++ {
		pushed = time.Now()
		must(t, e.hc.Events().Push(ctx, standingEvent, map[string]any{"day": "sat", "format": "csv"}))
		select {
		case mail = <-f.mails:
		case <-time.After(10 * time.Second):
			if f.reports.Load() == 0 && try < 3 {
				t.Logf("no run of report 10 s after push %d: pushing again", try)
				continue
			}
			mail = waitMail(t, f)
		}
		break
	}
	t.Logf("event pushed → standing success callback running: %v", time.Since(pushed))
	if mail.Report.Value != (Report{Day: "sat", Format: "pdf"}) || mail.To != "ops@example.com" {
		t.Fatalf("success callback input %+v", mail)
	}
	page, err := e.c.List(ctx, &hatchetflow.ListOptions{RootsOnly: true, Task: "report"})
	must(t, err)
	if len(page.Entries) != 1 {
		t.Fatalf("listed roots of report: %+v, want the event run's standing signature", page.Entries)
	}
	sum := page.Entries[0]
	if sum.ID != hatchetflow.StandingSignatureID(sum.RunID) {
		t.Fatalf("listed %+v: its id is not the standing id of its run", sum)
	}
	e.settle(ctx, t, sum.RunID, sum.ID)
	time.Sleep(time.Second)
	if n := f.reports.Load(); n != 1 || len(f.mails) != 0 || len(f.pages) != 0 {
		t.Fatalf("report ran %d times; %d more mails, %d pages", n, len(f.mails), len(f.pages))
	}

	crons, err := e.hc.Crons().List(ctx, rest.CronWorkflowListParams{})
	must(t, err)
	found := false
	for _, c := range *crons.Rows {
		if strings.HasSuffix(c.WorkflowName, "report") && strings.HasPrefix(c.WorkflowName, enginetest.Namespace()) && c.Cron == standingCron {
			found = true
		}
	}
	if !found {
		t.Fatalf("the engine lists no cron %q for report", standingCron)
	}
}

// A plain Hatchet caller (RunNoWait with no hatchetflow metadata) gets the standing
// callbacks too, and still reads the task's own output.
func TestEngineStandingPlainCallerRun(t *testing.T) {
	e, f := newEngineStandingFlow(t)
	ctx := enginetest.Context(t, 90*time.Second)
	ref, err := e.hc.RunNoWait(ctx, "report", ReportIn{Day: "sun"})
	must(t, err)
	res, err := enginetest.Result(ctx, ref)
	must(t, err)
	var out Report
	must(t, res.TaskOutput("report").Into(&out))
	if out != (Report{Day: "sun", Format: "pdf"}) {
		t.Fatalf("the plain caller read %+v", out)
	}
	if mail := waitMail(t, f); mail.Report.Value != out {
		t.Fatalf("success callback input %+v", mail)
	}
	id := hatchetflow.StandingSignatureID(ref.RunId)
	e.settle(ctx, t, ref.RunId, id)
	sig, err := e.c.Signature(ctx, id)
	must(t, err)
	if sig.Status != hatchetflow.StatusDone || sig.RunID != ref.RunId {
		t.Fatalf("standing signature %+v", sig)
	}
	time.Sleep(time.Second)
	if n := f.reports.Load(); n != 1 || len(f.mails) != 0 {
		t.Fatalf("report ran %d times; %d more mails", n, len(f.mails))
	}
}
