package faultsuite_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hatchet-dev/hatchet/pkg/client/rest"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/internal/enginetest"
	fs "github.com/hatchetflow/go/internal/faultsuite"
	"github.com/hatchetflow/go/redisstore"
)

// f. Bad input on the real engine and Redis, with the producer knowing the tasks only
// through the Redis task registry the worker wrote: each case gets a typed error (or
// the documented behaviour) and writes nothing; what reaches a worker is refused there
// without calling user code, and callbacks still run exactly once.
func TestBadInput(t *testing.T) {
	const limit = 1024
	s := newSuite(t, "f. bad input (typed errors, nothing half-written)",
		suiteOpt{client: []hatchetflow.Option{hatchetflow.WithMaxKwargsBytes(limit)}})
	ctx := enginetest.Context(t, 3*time.Minute)
	s.startWorker("w1", fs.ModeNormal)
	want := map[string]map[string]int{}
	runs := 0

	t.Run("refused before anything is written", func(t *testing.T) {
		missing := uuid.Must(uuid.NewV7()).String()
		type tc struct {
			name  string
			b     dsl.Builder
			input any
			want  error                         // nil: any error
			check func(t *testing.T, err error) // more checks, or nil
			save  bool                          // Save is refused too (a builder error)
		}
		cases := []tc{
			{"unknown task", dsl.Sign("no-such-task"), nil, hatchetflow.ErrUnknownTask, func(t *testing.T, err error) {
				var ute *hatchetflow.UnknownTaskError
				if !errors.As(err, &ute) || ute.Task != "no-such-task" {
					t.Errorf("%v does not name the task", err)
				}
			}, true},
			{"callback names an unknown task", sig(fs.TaskMain).OnError(dsl.Sign("no-such-callback")), fs.MainIn{ID: "x"},
				hatchetflow.ErrUnknownTask, nil, true},
			{"kwarg of the wrong type", dsl.Sign(fs.TaskMain).With(dsl.KW{"sleep_ms": "soon"}), fs.MainIn{ID: "x"},
				inject.ErrValidation, fieldNamed("sleep_ms"), true},
			{"unknown kwarg", dsl.Sign(fs.TaskMain).With(dsl.KW{"colour": "red"}), fs.MainIn{ID: "x"},
				inject.ErrValidation, fieldNamed("colour"), true},
			{"callback kwarg of the wrong type", sig(fs.TaskMain).OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": []int{1}})),
				fs.MainIn{ID: "x"}, inject.ErrValidation, fieldNamed("tag"), true},
			{"kwargs over the size limit", dsl.Sign(fs.TaskMain).With(dsl.KW{"id": strings.Repeat("x", 2*limit)}), nil,
				hatchetflow.ErrKwargsTooLarge, func(t *testing.T, err error) {
					var ke *hatchetflow.KwargsTooLargeError
					if !errors.As(err, &ke) || ke.Limit != limit || ke.Size <= limit || ke.Task != fs.TaskMain {
						t.Errorf("%v: want a *KwargsTooLargeError with size and limit", err)
					}
				}, true},
			{"missing callback signature", sig(fs.TaskMain).OnSuccess(dsl.Ref(missing)), fs.MainIn{ID: "x"},
				hatchetflow.ErrSignatureNotFound, nil, true},
			{"invalid sign target", dsl.Sign(42), nil, dsl.ErrInvalidTarget, nil, true},
			{"input of the wrong type", sig(fs.TaskMain), map[string]any{"id": 5}, inject.ErrValidation, fieldNamed("id"), false},
			{"unknown input field", sig(fs.TaskMain), map[string]any{"id": "x", "colour": 1}, inject.ErrValidation, fieldNamed("colour"), false},
			{"input is a JSON array", sig(fs.TaskMain), []int{1, 2}, hatchetflow.ErrNotObject, nil, false},
			{"input is a JSON string", sig(fs.TaskMain), "order", hatchetflow.ErrNotObject, nil, false},
			{"input JSON cannot encode", sig(fs.TaskMain), map[string]any{"id": func() {}}, inject.ErrValidation, nil, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := s.countKeys(ctx)
				errs := map[string]error{}
				if tc.save {
					_, errs["Save"] = tc.b.Save(ctx, s.c)
				}
				_, errs["Run"] = tc.b.Run(ctx, s.c, tc.input)
				for what, err := range errs {
					switch {
					case err == nil:
						t.Errorf("%s accepted it", what)
					case tc.want != nil && !errors.Is(err, tc.want):
						t.Errorf("%s error = %v, want %v", what, err, tc.want)
					case tc.check != nil:
						tc.check(t, err)
					}
				}
				t.Logf("%v", errs["Run"])
				if after := s.countKeys(ctx); after != before {
					t.Errorf("a refused call wrote %d keys", after-before)
				}
			})
		}
		// A refused input leaves no worker run: nothing ran.
		if n := sum(s.counts(ctx, fs.TaskMain)); n != 0 {
			t.Errorf("user code ran %d times for refused input", n)
		}
	})

	t.Run("refs that are malformed or missing", func(t *testing.T) {
		before := s.countKeys(ctx)
		if _, err := dsl.Ref("not-an-id").Run(ctx, s.c, nil); !errors.Is(err, hatchetflow.ErrInvalidSignatureID) {
			t.Errorf("malformed ref = %v", err)
		}
		if _, err := dsl.Ref(uuid.Must(uuid.NewV7()).String()).Run(ctx, s.c, nil); !errors.Is(err, hatchetflow.ErrSignatureNotFound) ||
			!errors.Is(err, redisstore.ErrNotFound) {
			t.Errorf("missing ref = %v", err)
		}
		if err := s.c.UpdateKwargs(ctx, "../x", dsl.KW{"tag": "y"}); !errors.Is(err, hatchetflow.ErrInvalidSignatureID) {
			t.Errorf("UpdateKwargs of a malformed id = %v", err)
		}
		if after := s.countKeys(ctx); after != before {
			t.Errorf("wrote %d keys", after-before)
		}
	})

	t.Run("malformed signature id in run metadata", func(t *testing.T) {
		before := s.countKeys(ctx)
		for _, tc := range []struct{ id, want string }{
			{"../../etc/passwd", "invalid signature id"},
			{uuid.Must(uuid.NewV7()).String(), "not found"},
		} {
			runID, err := s.m.Dispatcher.Dispatch(ctx, fs.TaskMainRetry, map[string]any{"id": "m-" + tc.id[:4]},
				map[string]string{engine.MetaSignature: tc.id})
			must(t, err)
			runs++
			_, err = s.m.Dispatcher.(engine.Waiter).Wait(ctx, runID, fs.TaskMainRetry)
			var re *hatchetflow.RunError
			if !errors.As(err, &re) || !strings.Contains(re.Message, tc.want) {
				t.Errorf("run with signature %q: %v; want a *RunError saying %q", tc.id, err, tc.want)
			}
			if st := s.runStatus(ctx, runID); st != rest.V1TaskStatusFAILED {
				t.Errorf("engine status %s", st)
			}
		}
		if n := sum(s.counts(ctx, fs.TaskMainRetry)); n != 0 {
			t.Errorf("user code ran %d times", n)
		}
		if after := s.countKeys(ctx); after != before {
			t.Errorf("wrote %d keys", after-before)
		}
	})

	t.Run("wrong-typed message reaching the worker", func(t *testing.T) {
		// A producer that bypasses validation: the worker refuses to decode it, does
		// not retry, calls no user code, and the error callbacks still run once.
		saved, err := dsl.Sign(fs.TaskMainRetry).OnSuccess(dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "s"})).
			OnError(dsl.Sign(fs.TaskOnErrorAny).With(dsl.KW{"tag": "any"})).Save(ctx, s.c)
		must(t, err)
		runID, err := s.m.Dispatcher.Dispatch(ctx, fs.TaskMainRetry, map[string]any{"id": "w1", "sleep_ms": "soon"},
			map[string]string{engine.MetaSignature: saved.ID})
		must(t, err)
		runs++
		if st := s.runStatus(ctx, runID); st != rest.V1TaskStatusFAILED {
			t.Errorf("engine status %s", st)
		}
		s.settle(ctx, saved.ID)
		rec, err := s.c.Signature(ctx, saved.ID)
		must(t, err)
		if rec.Status != flowtype.StatusFailed || !strings.Contains(rec.Error, "sleep_ms") || rec.Attempt != 1 {
			t.Errorf("signature %s after attempt %d, error %q; want failed on the first attempt naming sleep_ms", rec.Status, rec.Attempt, rec.Error)
		}
		want[fs.TaskOnErrorAny] = map[string]int{"w1/any": 1}
	})

	t.Run("missing or expired callback at run time", func(t *testing.T) {
		short, err := hatchetflow.New(s.hc, s.rdb, hatchetflow.WithKeyPrefix(s.prefix), hatchetflow.WithActiveTTL(time.Second))
		must(t, err)
		expired, err := dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "expired"}).Save(ctx, short)
		must(t, err)
		deleted, err := dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "deleted"}).Save(ctx, s.c)
		must(t, err)
		parent, err := dsl.Sign(fs.TaskMain).OnSuccess(expired, deleted, dsl.Sign(fs.TaskOnSuccess).With(dsl.KW{"tag": "alive"})).
			Save(ctx, s.c)
		must(t, err)
		must(t, s.m.Store.Delete(ctx, deleted.ID))
		for s.rdb.Exists(ctx, s.m.Store.SignatureKey(expired.ID)).Val() != 0 {
			if ctx.Err() != nil {
				t.Fatal("callback signature never expired")
			}
			time.Sleep(50 * time.Millisecond)
		}
		h, err := parent.Run(ctx, s.c, fs.MainIn{ID: "x1"})
		must(t, err)
		runs++
		if st := s.finish(ctx, h); st != rest.V1TaskStatusCOMPLETED {
			t.Errorf("engine status %s", st)
		}
		rec, err := s.c.Signature(ctx, h.SignatureID())
		must(t, err)
		// All three were dispatched; the runs of the two missing ones were refused
		// without user code (FAILED, with a not-found error), the third completed.
		if len(rec.Dispatched) != 3 {
			t.Errorf("dispatch markers %v, want 3", rec.Dispatched)
		}
		for cb, run := range rec.Dispatched {
			want := rest.V1TaskStatusCOMPLETED
			if strings.HasSuffix(cb, expired.ID) || strings.HasSuffix(cb, deleted.ID) {
				want = rest.V1TaskStatusFAILED
				_, err := s.m.Dispatcher.(engine.Waiter).Wait(ctx, run, fs.TaskOnSuccess)
				if !errors.Is(err, hatchetflow.ErrSignatureNotFound) {
					t.Errorf("callback run %s of a missing signature: Wait = %v, want ErrSignatureNotFound", run, err)
				}
			}
			if st := s.runStatus(ctx, run); st != want {
				t.Errorf("callback run %s (%s): %s, want %s", run, cb, st, want)
			}
		}
		for _, id := range []string{expired.ID, deleted.ID} {
			if n := s.rdb.Exists(ctx, s.m.Store.SignatureKey(id), s.m.Store.KwargsKey(id)).Val(); n != 0 {
				t.Errorf("a missing callback's keys were re-created (%d)", n)
			}
		}
		addWant(want, fs.TaskOnSuccess, "x1/alive")
	})

	t.Run("concurrent Save of one builder", func(t *testing.T) {
		b := sig(fs.TaskMain).With(dsl.KW{"sleep_ms": 1})
		before := s.countKeys(ctx)
		one, err := b.Save(ctx, s.c)
		must(t, err)
		perTree := s.countKeys(ctx) - before
		const n = 32
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				saved, err := b.Save(ctx, s.c)
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = saved.ID
			})
		}
		wg.Wait()
		if got := s.countKeys(ctx) - before - perTree; got != n*perTree {
			t.Errorf("%d concurrent saves wrote %d keys, want %d (%d per tree)", n, got, n*perTree, perTree)
		}
		seen := map[string]bool{one.ID: true}
		for _, id := range ids {
			rec, err := s.c.Signature(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range append([]string{id}, append(cbIDs(rec.OnSuccess), cbIDs(rec.OnError)...)...) {
				if seen[x] {
					t.Fatalf("signature id %s shared between trees", x)
				}
				seen[x] = true
			}
			if len(rec.OnSuccess) != 2 || len(rec.OnError) != 2 || rec.Kwargs["sleep_ms"] != 1.0 {
				t.Errorf("tree %s saved as %+v", id, rec)
			}
		}
	})

	t.Run("concurrent Run of one saved signature", func(t *testing.T) {
		// Eight concurrent Runs of one stored signature: each is either refused at Run
		// (the signature already started) or dispatched; of the dispatched runs one
		// owns the signature and completes, the others fail with a NotPendingError and
		// no user code. Callbacks run once.
		saved, err := sig(fs.TaskMain).Save(ctx, s.c)
		must(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var hs []dsl.Handle
		refused := 0
		for range 8 {
			wg.Go(func() {
				h, err := saved.Run(ctx, s.c, fs.MainIn{ID: "r1"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, hatchetflow.ErrNotPending):
					refused++
				case err != nil:
					t.Error(err)
				default:
					hs = append(hs, h)
				}
			})
		}
		wg.Wait()
		runs++
		completed := 0
		for _, h := range hs {
			switch st := s.finish(ctx, h); st {
			case rest.V1TaskStatusCOMPLETED:
				completed++
			case rest.V1TaskStatusFAILED:
				if _, err := h.Wait(ctx); !errors.Is(err, hatchetflow.ErrNotPending) {
					t.Errorf("duplicate run %s: Wait = %v, want ErrNotPending", h.RunID(), err)
				}
			default:
				t.Errorf("run %s: %s", h.RunID(), st)
			}
		}
		if completed != 1 || refused+len(hs) != 8 {
			t.Errorf("%d runs completed, %d dispatched, %d refused at Run; want 1 completed of 8", completed, len(hs), refused)
		}
		t.Logf("concurrent Runs: %d refused at Run, %d dispatched (1 owner)", refused, len(hs))
		s.expectMain(ctx, fs.TaskMain, "r1", 1)
		for task, m := range successOnly("r1") {
			for f := range m {
				addWant(want, task, f)
			}
		}
	})

	s.row.Runs = runs
	s.expect(ctx, want)
	s.checkTTLs(ctx)
	s.row.Note = "13 refusals with typed errors and no writes; metadata, decode, expired-callback, concurrency cases"
}

func addWant(want map[string]map[string]int, task, field string) {
	if want[task] == nil {
		want[task] = map[string]int{}
	}
	want[task][field]++
}

func cbIDs(refs []hatchetflow.Callback) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

// fieldNamed checks that a validation error lists the field.
func fieldNamed(field string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ve *inject.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%v is not a *inject.ValidationError", err)
			return
		}
		for _, f := range ve.Fields {
			if f.Path == field {
				return
			}
		}
		t.Errorf("validation error %v does not name %q", err, field)
	}
}
