package inspectui_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	"github.com/hatchetflow/go/internal/inspectui"
)

// EnvScreenshot names a file the browser test writes its screenshot to
// (`make screenshot` sets it to docs/inspector.png).
const EnvScreenshot = "HATCHETFLOW_SCREENSHOT"

type num struct {
	N int `json:"n"`
	R int `json:"mageflow_results,omitempty"`
}

// chromium returns the browser binary: $HATCHETFLOW_CHROMIUM, or Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HATCHETFLOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: install Debian's chromium package (apt-get install chromium; .ci/run and `make test` do) or set HATCHETFLOW_CHROMIUM")
	return ""
}

// TestPageInARealBrowser runs a flow on the local engine, opens the inspector page in
// headless Chromium, checks the list and the graph's final statuses, checks that the
// read-only page shows no action controls, cancels a running signature with the page's
// button, retries a failed callback from the page (its root is done, its flow failed:
// the list shows the flow failed, then done), and fails on any browser console error.
func TestPageInARealBrowser(t *testing.T) {
	hc := enginetest.Client(t)
	bin := chromium(t)
	prefix := "hfui-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	flow, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix), hatchetflow.WithSwarmWatchInterval(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(flow, "add-one", func(_ hatchet.Context, in num) (int, error) { return in.N + in.R + 1, nil }); err != nil {
		t.Fatal(err)
	}
	slowStopped := make(chan error, 1)
	if _, err := hatchetflow.NewTask(flow, "wait-forever", func(ctx hatchet.Context, _ num) (int, error) {
		<-ctx.Done()
		slowStopped <- ctx.Err()
		return 0, ctx.Err()
	}, hatchetflow.WithExecutionTimeout(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var failOnceCalls atomic.Int32
	if _, err := hatchetflow.NewTask(flow, "fail-once", func(_ hatchet.Context, in num) (int, error) {
		if failOnceCalls.Add(1) == 1 {
			return 0, hatchetflow.NonRetryable(errors.New("the first call fails"))
		}
		return in.N + in.R + 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx := enginetest.Context(t, 4*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return flow.NewWorker(ctx, "ui-test", nil) })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := enginetest.Wait(ctx, w.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })

	// The flow: a signature whose success callbacks are a chain of two steps and a swarm
	// of three items; all of it ends done.
	run, err := dsl.Sign("add-one").With(dsl.KW{"n": 1}).OnSuccess(
		dsl.Chain(dsl.Sign("add-one"), dsl.Sign("add-one")),
		dsl.Swarm(dsl.Sign("add-one"), dsl.Sign("add-one").With(dsl.KW{"n": 10}), dsl.Sign("add-one").With(dsl.KW{"n": 20})),
	).Run(ctx, flow, num{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	var walk func(n *hatchetflow.Node)
	if err := waitFor(ctx, func() error {
		tree, err := flow.Tree(ctx, run.SignatureID())
		if err != nil {
			return err
		}
		clear(want)
		walk = func(n *hatchetflow.Node) {
			want[n.ID] = string(n.Status)
			for _, l := range [][]*hatchetflow.Node{n.Steps, n.Items, n.OnSuccess, n.OnError} {
				for _, c := range l {
					walk(c)
				}
			}
		}
		walk(tree)
		for id, st := range want {
			if st != string(hatchetflow.StatusDone) {
				return fmt.Errorf("%s is %s", id, st)
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("the flow did not end done: %v", err)
	}
	if len(want) != 8 { // root, chain + 2 steps, swarm + 3 items
		t.Fatalf("tree has %d nodes, want 8: %v", len(want), want)
	}

	srv := httptest.NewServer(inspectui.New(inspectui.ClientBackend{Client: flow}, inspectui.Options{AllowActions: true, PollInterval: 200 * time.Millisecond}))
	t.Cleanup(srv.Close)
	readOnly := httptest.NewServer(inspectui.New(inspectui.ClientBackend{Client: flow}, inspectui.Options{PollInterval: 200 * time.Millisecond}))
	t.Cleanup(readOnly.Close)

	bctx, cancel := browser(t, ctx, bin)
	defer cancel()
	var mu sync.Mutex
	var consoleErrs []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				consoleErrs = append(consoleErrs, fmt.Sprintf("console.%s: %s", e.Type, args(e.Args)))
			}
		case *cdplog.EventEntryAdded: // network failures and browser-side errors
			if e.Entry.Level == cdplog.EntryLevelError {
				consoleErrs = append(consoleErrs, fmt.Sprintf("%s: %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			consoleErrs = append(consoleErrs, fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber))
		}
	}); err != nil {
		t.Fatal(err)
	}

	root := run.SignatureID()
	row := chromedp.CSS(fmt.Sprintf(`#list-body tr[data-id="%s"]`, root))
	rootNode := chromedp.CSS(fmt.Sprintf(`#graph g.node[data-id="%s"]`, root))
	logEnable := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdplog.Enable, cdp.Empty{})
		return err
	})
	err = chromedp.Do(bctx,
		logEnable,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(row),
		chromedp.Click(row),
		chromedp.WaitVisible(rootNode),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('#graph g.node[data-id]').length >= %d`, len(want)),
			chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("page did not show the flow: %v", err)
	}
	statuses, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('#graph g.node[data-id]')].map(g => [g.dataset.id, g.dataset.status]))`))
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range want {
		if statuses[id] != st {
			t.Errorf("graph shows %s as %q, want %q (graph: %v)", id, statuses[id], st, statuses)
		}
	}
	if path := os.Getenv(EnvScreenshot); path != "" {
		if err := chromedp.Do(bctx, chromedp.Click(rootNode), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Clean(path), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Read-only: the detail panel shows no action controls (not even disabled ones).
	err = chromedp.Do(bctx,
		chromedp.Navigate(readOnly.URL+"/#/tree/"+root),
		chromedp.WaitVisible(rootNode),
		chromedp.Click(rootNode),
		chromedp.WaitVisible(chromedp.CSS(`#detail`)),
	)
	if err != nil {
		t.Fatalf("read-only page: %v", err)
	}
	shown, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#detail button, #detail input')].filter(e => e.getClientRects().length > 0).map(e => e.id)`))
	if err != nil || len(shown) != 0 {
		t.Fatalf("read-only page shows action controls %v (%v)", shown, err)
	}

	// Cancel a running signature from the page.
	slow, err := dsl.Sign("wait-forever").Run(ctx, flow, num{})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, func() error {
		s, err := flow.Signature(ctx, slow.SignatureID())
		if err == nil && s.Status != hatchetflow.StatusActive {
			err = fmt.Errorf("status %s", s.Status)
		}
		return err
	}); err != nil {
		t.Fatalf("the slow signature never ran: %v", err)
	}
	node := fmt.Sprintf(`#graph g.node[data-id="%s"]`, slow.SignatureID())
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/#/tree/"+slow.SignatureID()),
		chromedp.WaitVisible(chromedp.CSS(node+`[data-status="active"]`)),
		chromedp.Click(chromedp.CSS(node)),
		chromedp.WaitVisible(chromedp.CSS(`#action-cancel`)),
		chromedp.Click(chromedp.CSS(`#action-cancel`)),
		chromedp.WaitVisible(chromedp.CSS(node+`[data-status="cancelled"]`)),
	)
	if err != nil {
		t.Fatalf("cancel from the page: %v", err)
	}
	select {
	case err := <-slowStopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the running task ended with %v, want context.Canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("the running task's context was never cancelled")
	}
	if s, err := flow.Signature(ctx, slow.SignatureID()); err != nil || s.Status != hatchetflow.StatusCancelled {
		t.Fatalf("after the page's cancel: %v %+v", err, s)
	}
	// A done root whose callback failed: the list shows the flow failed; the row opens
	// on the failed callback, whose Retry runs it again, and the flow ends done.
	failing, err := dsl.Sign("add-one").With(dsl.KW{"n": 5}).OnSuccess(dsl.Sign("fail-once")).Run(ctx, flow, num{})
	if err != nil {
		t.Fatal(err)
	}
	ff, err := flow.Flow(ctx, failing.SignatureID())
	if err != nil {
		t.Fatal(err)
	}
	st, err := ff.Wait(ctx)
	if !errors.Is(err, hatchetflow.ErrFlowFailed) || st == nil || st.Failed == nil || st.Tree.Status != hatchetflow.StatusDone {
		t.Fatalf("the flow with a failing callback: %v %+v", err, st)
	}
	cb := st.Failed.ID
	failRow := fmt.Sprintf(`#list-body tr[data-id="%s"]`, failing.SignatureID())
	cbNode := fmt.Sprintf(`#graph g.node[data-id="%s"]`, cb)
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(failRow+`[data-flow="failed"]`)),
		chromedp.Click(chromedp.CSS(failRow)),
		chromedp.WaitVisible(chromedp.CSS(cbNode+`[data-status="failed"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#detail[data-id="%s"]`, cb))),
		chromedp.WaitVisible(chromedp.CSS(`#tree-flow[data-flow="failed"]`)),
		chromedp.WaitEnabled(chromedp.CSS(`#action-retry`)),
		chromedp.Click(chromedp.CSS(`#action-retry`)),
		chromedp.WaitVisible(chromedp.CSS(cbNode+`[data-status="done"]`)),
		chromedp.WaitVisible(chromedp.CSS(failRow+`[data-flow="done"]`)),
	)
	if err != nil {
		t.Fatalf("retry from the page: %v", err)
	}
	if n := failOnceCalls.Load(); n != 2 {
		t.Fatalf("fail-once ran %d times, want 2", n)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrs) > 0 {
		t.Fatalf("browser console errors:\n%s", strings.Join(consoleErrs, "\n"))
	}
}

func args(a []*runtime.RemoteObject) string {
	var parts []string
	for _, o := range a {
		if o.Value != nil {
			parts = append(parts, string(o.Value))
		} else {
			parts = append(parts, o.Description)
		}
	}
	return strings.Join(parts, " ")
}

// browser starts headless Chromium with the flags this machine's closed network needs.
func browser(t *testing.T, ctx context.Context, bin string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1800, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		acancel()
		t.Fatalf("start Chromium %s: %v", bin, err)
	}
	return bctx, func() { bcancel(); acancel() }
}

func waitFor(ctx context.Context, f func() error) error {
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
