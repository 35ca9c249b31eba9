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
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/enginetest"
	"github.com/hatchetflow/go/internal/inspectui"
	"github.com/hatchetflow/go/redisstore"
)

// EnvScreenshot names the screenshots the browser test writes: for NAME.png, the
// page at 1280×800 to NAME-1280.png and at 1920×1080 to NAME-1920.png (`make
// screenshot` sets it to docs/inspector.png).
const EnvScreenshot = "HATCHETFLOW_SCREENSHOT"

type num struct {
	N int `json:"n"`
	R int `json:"mageflow_results,omitempty"`
}

// anyIn is the input of a step after a swarm, whose result (a list) it receives.
type anyIn struct {
	N int `json:"n"`
	R any `json:"mageflow_results,omitempty"`
}

// screens are the sizes the page is checked and photographed at.
var screens = []struct{ w, h int64 }{{1280, 800}, {1920, 1080}}

// screenshotPath is where the screenshot at width w goes: base NAME.png gives
// NAME-<w>.png.
func screenshotPath(base string, w int64) string {
	ext := filepath.Ext(base)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(filepath.Clean(base), ext), w, ext)
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

// TestPageInARealBrowser runs flows on the local engine and opens the inspector page
// in headless Chromium, as a person would see it. On a 15-node flow (a root whose
// callbacks are a chain holding a swarm of five, another chain, a signature and a
// finally callback) at 1280×800 and 1920×1080 it checks the list (input and result
// previews, the full id), the graph (every node's final status; chains and swarms drawn
// as containers holding their steps left to right and their items 1..5 top down; node
// labels that tell nodes apart by the end of their ids), that the detail panel sits
// beside the graph without covering it and folds away, zoom, the run's Hatchet logs
// and dashboard link in the panel. Then: the read-only page shows no action controls;
// it cancels a running signature with the page's button; it retries a failed callback
// from the page (its root is done, its flow failed: the list shows the flow failed,
// then done); and it fails on any browser console error.
func TestPageInARealBrowser(t *testing.T) {
	hc := enginetest.Client(t)
	bin := chromium(t)
	prefix := "hfui-" + enginetest.Namespace()
	rdb := enginetest.Redis(t, prefix)
	flow, err := hatchetflow.New(hc, rdb, hatchetflow.WithKeyPrefix(prefix), hatchetflow.WithSwarmWatchInterval(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	addOne := func(_ hatchet.Context, in num) (int, error) { return in.N + in.R + 1, nil }
	for _, name := range []string{"add-one", "fetch-page", "resize-image", "archive", "audit", "notify", "cleanup"} {
		if _, err := hatchetflow.NewTask(flow, name, addOne); err != nil {
			t.Fatal(err)
		}
	}
	const logLine = "ingest: 7 pages to fetch"
	if _, err := hatchetflow.NewTask(flow, "ingest", func(hctx hatchet.Context, in num) (int, error) {
		hctx.Log(logLine)
		return in.N + 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := hatchetflow.NewTask(flow, "publish", func(_ hatchet.Context, in anyIn) (int, error) {
		list, _ := in.R.([]any)
		return len(list), nil
	}); err != nil {
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
	ctx := enginetest.Context(t, 5*time.Minute)
	w, err := enginetest.Wait(ctx, func() (*hatchet.Worker, error) { return flow.NewWorker(ctx, "ui-test", nil) })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := enginetest.Wait(ctx, w.Start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })

	// Two roots of the same task made in the same second, told apart by their input.
	for _, n := range []int{11, 12} {
		h, err := dsl.Sign("add-one").Run(ctx, flow, num{N: n})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The flow: 15 nodes, all of which end done.
	resize := make([]dsl.Spec, 5)
	for i := range resize {
		resize[i] = dsl.Sign("resize-image").With(dsl.KW{"n": i + 1})
	}
	run, err := dsl.Sign("ingest").With(dsl.KW{"n": 7}).OnSuccess(
		dsl.Chain(dsl.Sign("fetch-page"), dsl.Swarm(resize...), dsl.Sign("publish")),
		dsl.Chain(dsl.Sign("archive"), dsl.Sign("audit")),
		dsl.Sign("notify").With(dsl.KW{"n": 100}),
	).Finally(dsl.Sign("cleanup")).Run(ctx, flow, num{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	var tree *hatchetflow.Node
	var walk func(n *hatchetflow.Node)
	if err := waitFor(ctx, func() error {
		var err error
		if tree, err = flow.Tree(ctx, run.SignatureID()); err != nil {
			return err
		}
		clear(want)
		walk = func(n *hatchetflow.Node) {
			want[n.ID] = string(n.Status)
			for _, l := range [][]*hatchetflow.Node{n.Steps, n.Items, n.OnSuccess, n.OnError, n.Finally} {
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
	if len(want) != 15 { // root, chain + step + swarm + 5 items + step, chain + 2 steps, notify, cleanup
		t.Fatalf("tree has %d nodes, want 15: %v", len(want), want)
	}
	chain1, chain2 := tree.OnSuccess[0], tree.OnSuccess[1]
	swarm := chain1.Steps[1]

	backend := inspectui.NewClientBackend(flow, redisstore.New(rdb, redisstore.WithPrefix(prefix)), hc)
	runURL, err := inspectui.RunURLFromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(inspectui.New(backend, inspectui.Options{AllowActions: true, PollInterval: 200 * time.Millisecond, RunURL: runURL}))
	t.Cleanup(srv.Close)
	readOnly := httptest.NewServer(inspectui.New(backend, inspectui.Options{PollInterval: 200 * time.Millisecond}))
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
		chromedp.EmulateViewport(screens[0].w, screens[0].h),
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
	checkList(t, bctx, root)
	checkContainers(t, bctx, tree, chain1, chain2, swarm)
	checkLabels(t, bctx, want)
	runLink := checkLogsAndRunLink(t, bctx, tree, logLine)
	if !strings.HasPrefix(runLink, runURL) || !strings.HasSuffix(runLink, "/"+tree.RunID) {
		t.Errorf("run link %q, want %s + the root's run %s", runLink, runURL, tree.RunID)
	}
	for _, sc := range screens {
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(sc.w, sc.h), chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		checkNoOverlap(t, bctx, sc.w)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#zoom-fit`)), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if path := os.Getenv(EnvScreenshot); path != "" {
			png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(screenshotPath(path, sc.w), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkPanelAndZoom(t, bctx)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(screens[0].w, screens[0].h)); err != nil {
		t.Fatal(err)
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
		`[...document.querySelectorAll('#detail [id^="action-"], #actions button, #actions input')].filter(e => e.getClientRects().length > 0).map(e => e.id)`))
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

// box is an element's client rectangle.
type box struct{ X, Y, W, H float64 }

func (b box) right() float64  { return b.X + b.W }
func (b box) bottom() float64 { return b.Y + b.H }

// inside reports whether b lies within o.
func (b box) inside(o box) bool {
	return b.X >= o.X-0.5 && b.Y >= o.Y-0.5 && b.right() <= o.right()+0.5 && b.bottom() <= o.bottom()+0.5
}

// checkList: the root's row shows what it ran with and gave and its whole id, with a
// copy button; rows of the same task made together differ by their input.
func checkList(t *testing.T, bctx context.Context, root string) {
	t.Helper()
	type row struct {
		ID, Task, Input, Result, ShownID string
		IDCut, Copy                      bool
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]row](`[...document.querySelectorAll('#list-body tr')].map(tr => {
		const id = tr.querySelector('.id-full');
		return {ID: tr.dataset.id, Task: tr.dataset.task, Input: tr.querySelector('.row-2 .input').textContent,
			Result: (tr.querySelector('.row-2 .result') || {}).textContent || '', ShownID: id.textContent,
			IDCut: id.scrollWidth > id.clientWidth + 1, Copy: !!tr.querySelector('button.copy')};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]bool{}
	for _, r := range rows {
		if r.ShownID != r.ID || r.IDCut || !r.Copy {
			t.Errorf("list row %s shows the id %q (cut: %v, copy button: %v)", r.ID, r.ShownID, r.IDCut, r.Copy)
		}
		if r.ID == root && (r.Input != "n=7" || r.Result != "8") {
			t.Errorf("root row: input %q, result %q; want n=7 and 8", r.Input, r.Result)
		}
		if r.Task == "add-one" {
			inputs[r.Input] = true
		}
	}
	if !inputs["n=11"] || !inputs["n=12"] {
		t.Errorf("the two add-one roots show the inputs %v, want n=11 and n=12", inputs)
	}
}

// rects returns the client rectangles of the graph's container frames (key "c:" + id)
// and node boxes (key id; a chain's title band under "t:" + id).
func rects(t *testing.T, bctx context.Context) map[string]box {
	t.Helper()
	m, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]box](`(() => {
		const r = e => { const b = e.getBoundingClientRect(); return {X: b.x, Y: b.y, W: b.width, H: b.height}; };
		const out = {};
		for (const c of document.querySelectorAll('#graph g.container')) out['c:' + c.dataset.id] = r(c.querySelector('rect.frame'));
		for (const n of document.querySelectorAll('#graph g.node[data-id]')) {
			if (n.dataset.box === 'title') out['t:' + n.dataset.id] = r(n.querySelector('rect.band'));
			else out[n.dataset.id] = r(n.querySelector('rect.box'));
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkContainers: chains and swarms are frames holding their steps and items, steps
// left to right, items 1..n top down, with no edges into the items and no edge labels.
func checkContainers(t *testing.T, bctx context.Context, tree, chain1, chain2, swarm *hatchetflow.Node) {
	t.Helper()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#zoom-fit`)), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	r := rects(t, bctx)
	kinds, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]int](`(() => {
		const q = s => document.querySelectorAll(s).length;
		return {chains: q('#graph g.container[data-kind="chain"]'), swarms: q('#graph g.container[data-kind="swarm"]'),
			edgeLabels: q('#graph .edge text'), itemEdges: [...document.querySelectorAll('#graph .edge')]
				.filter(e => e.dataset.from === '`+swarm.ID+`').length};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if kinds["chains"] != 2 || kinds["swarms"] != 1 || kinds["edgeLabels"] != 0 {
		t.Errorf("graph has %v, want 2 chain and 1 swarm containers and no edge labels", kinds)
	}
	if kinds["itemEdges"] != 1 { // swarm → publish, nothing into the items
		t.Errorf("%d edges leave the swarm, want 1 (to the next step)", kinds["itemEdges"])
	}
	frame := func(n *hatchetflow.Node) box {
		b, ok := r["c:"+n.ID]
		if !ok {
			t.Fatalf("no container for %s %s", n.Kind, n.ID)
		}
		return b
	}
	node := func(id string) box {
		b, ok := r[id]
		if !ok {
			t.Fatalf("no node %s", id)
		}
		return b
	}
	c1, c2, sw := frame(chain1), frame(chain2), frame(swarm)
	fetch, publish := node(chain1.Steps[0].ID), node(chain1.Steps[2].ID)
	if !fetch.inside(c1) || !sw.inside(c1) || !publish.inside(c1) || !node(swarm.ID).inside(sw) {
		t.Errorf("chain %v does not hold its steps %v, %v, %v", c1, fetch, sw, publish)
	}
	if !(fetch.right() < sw.X && sw.right() < publish.X) {
		t.Errorf("chain steps not left to right: %v, %v, %v", fetch, sw, publish)
	}
	if t1, ok := r["t:"+chain1.ID]; !ok || !t1.inside(c1) || t1.Y > fetch.Y || t1.Y > sw.Y {
		t.Errorf("chain title %v (found %v) is not along the top of %v", t1, ok, c1)
	}
	a, b := node(chain2.Steps[0].ID), node(chain2.Steps[1].ID)
	if !a.inside(c2) || !b.inside(c2) || !(a.right() < b.X) {
		t.Errorf("second chain %v: steps %v, %v", c2, a, b)
	}
	head := node(swarm.ID)
	prev := head
	for i, it := range swarm.Items {
		b := node(it.ID)
		if !b.inside(sw) || b.Y <= prev.Y || b.X != head.X {
			t.Errorf("swarm item %d %v is not below item %d %v in the swarm's column %v", i+1, b, i, prev, sw)
		}
		prev = b
	}
	for _, id := range []string{tree.ID, tree.OnSuccess[2].ID, tree.Finally[0].ID} {
		if b := node(id); b.inside(c1) || b.inside(c2) {
			t.Errorf("node %s %v is drawn inside a chain", id, b)
		}
	}
	// No two boxes overlap.
	var ids []string
	for id := range r {
		if !strings.HasPrefix(id, "c:") && !strings.HasPrefix(id, "t:") {
			ids = append(ids, id)
		}
	}
	for i, x := range ids {
		for _, y := range ids[i+1:] {
			p, q := r[x], r[y]
			if p.X < q.right()-1 && q.X < p.right()-1 && p.Y < q.bottom()-1 && q.Y < p.bottom()-1 {
				t.Errorf("nodes %s %v and %s %v overlap", x, p, y, q)
			}
		}
	}
}

// checkLabels: every node's label is its own, and carries the end of its id (UUIDv7
// ids made together share their start).
func checkLabels(t *testing.T, bctx context.Context, want map[string]string) {
	t.Helper()
	labels, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll(
		'#graph g.node[data-id]')].map(g => [g.dataset.id, [...g.querySelectorAll(':scope > text')].map(x => x.textContent).join(' | ')]))`))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for id := range want {
		l, ok := labels[id]
		tail := strings.ReplaceAll(id, "-", "")[26:]
		if !ok || !strings.Contains(l, tail) || strings.Contains(l, id[:8]) {
			t.Errorf("node %s is labelled %q, want its id's end %s and not its start", id, l, tail)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("nodes %s and %s are both labelled %q", id, other, l)
		}
		seen[l] = id
	}
}

// checkLogsAndRunLink selects the root and waits for its run's log line in the
// detail panel (reading again with the panel's refresh button: the engine files logs
// a little later); it returns the dashboard link's address.
func checkLogsAndRunLink(t *testing.T, bctx context.Context, tree *hatchetflow.Node, line string) string {
	t.Helper()
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#graph g.node[data-id="%s"]`, tree.ID))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#detail[data-id="%s"]`, tree.ID))),
	); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
	defer cancel()
	if err := waitFor(ctx, func() error {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#logs-body').textContent + ' / ' + document.querySelector('#logs-note').textContent`))
		if err != nil || strings.Contains(got, line) {
			return err
		}
		_ = chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#logs-refresh`)), chromedp.Sleep(800*time.Millisecond))
		return fmt.Errorf("the panel's logs show %q", got)
	}); err != nil {
		t.Errorf("the run's log line %q never showed: %v", line, err)
	}
	input, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#detail [data-field="input"]').textContent`))
	if err != nil || !strings.Contains(input, `"n": 0`) {
		t.Errorf("the panel shows the input %q (%v), want the run's {\"n\": 0}", input, err)
	}
	href, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { const a = document.querySelector('#run-link');
		return a.getClientRects().length ? a.href : ''; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return href
}

// checkNoOverlap: at width w the list, the graph and the open detail panel sit side by
// side, none covering another, the graph keeping a good part of the width.
func checkNoOverlap(t *testing.T, bctx context.Context, w int64) {
	t.Helper()
	type layout struct {
		List, Graph, Detail box
		DetailShown         bool
		PageW, ViewW        float64
	}
	l, err := chromedp.Run(bctx, chromedp.Evaluate[layout](`(() => {
		const r = s => { const b = document.querySelector(s).getBoundingClientRect(); return {X: b.x, Y: b.y, W: b.width, H: b.height}; };
		return {List: r('#list-pane'), Graph: r('#graph'), Detail: r('#detail'),
			DetailShown: getComputedStyle(document.querySelector('#detail')).display !== 'none',
			PageW: document.documentElement.scrollWidth, ViewW: window.innerWidth};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !l.DetailShown || l.ViewW != float64(w) || l.PageW > l.ViewW {
		t.Fatalf("at %d px: detail shown %v, window %v, page %v wide", w, l.DetailShown, l.ViewW, l.PageW)
	}
	if l.List.right() > l.Graph.X+0.5 || l.Graph.right() > l.Detail.X+0.5 || l.Detail.right() > float64(w)+0.5 {
		t.Errorf("at %d px the panes overlap: list %v, graph %v, detail %v", w, l.List, l.Graph, l.Detail)
	}
	if l.Graph.W < 0.4*float64(w) || l.Graph.H < 500 || l.Detail.W < 280 {
		t.Errorf("at %d px: graph %v, detail %v: too small", w, l.Graph, l.Detail)
	}
}

// checkPanelAndZoom: the panel folds away and the graph takes its room; zoom buttons
// zoom; dragging the background pans.
func checkPanelAndZoom(t *testing.T, bctx context.Context) {
	t.Helper()
	width := func() float64 {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.querySelector('#graph').getBoundingClientRect().width`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	open := width()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#panel-toggle`)), chromedp.WaitNotVisible(chromedp.CSS(`#detail`))); err != nil {
		t.Fatal(err)
	}
	if closed := width(); closed < open+250 {
		t.Errorf("graph %v px wide with the panel folded, %v with it open", closed, open)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#panel-toggle`)), chromedp.WaitVisible(chromedp.CSS(`#detail`))); err != nil {
		t.Fatal(err)
	}
	zoom := func() float64 {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`Number(document.querySelector('#graph').dataset.zoom)`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	z0 := zoom()
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#zoom-in`))); err != nil {
		t.Fatal(err)
	}
	if z1 := zoom(); z1 < z0*1.2 {
		t.Errorf("zoom in: %v, then %v", z0, z1)
	}
	type pt struct{ X, Y float64 }
	transform := func() string {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#graph g.viewport').getAttribute('transform')`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// A point of the graph's background, not on a node.
	p, err := chromedp.Run(bctx, chromedp.Evaluate[pt](`(() => {
		const g = document.querySelector('#graph').getBoundingClientRect();
		for (let y = g.bottom - 6; y > g.top; y -= 20) for (let x = g.left + 6; x < g.right; x += 20) {
			const e = document.elementFromPoint(x, y);
			if (e && (e.id === 'graph' || e.tagName === 'svg')) return {X: x, Y: y};
		}
		return {X: -1, Y: -1};
	})()`))
	if err != nil || p.X < 0 {
		t.Fatalf("no background to drag: %v", err)
	}
	before := transform()
	held := func(q *input.DispatchMouseEventParams) { q.Button = input.MouseButtonLeft; q.Buttons = 1 }
	if err := chromedp.Do(bctx,
		chromedp.MouseEvent(chromedp.MousePressed, p.X, p.Y, held, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, p.X+30, p.Y-20, held),
		chromedp.MouseEvent(chromedp.MouseMoved, p.X+60, p.Y-40, held),
		chromedp.MouseEvent(chromedp.MouseReleased, p.X+60, p.Y-40, held, chromedp.ClickCount(1)),
	); err != nil {
		t.Fatal(err)
	}
	if after := transform(); after == before {
		t.Errorf("dragging the background did not pan: %s", after)
	}
}
