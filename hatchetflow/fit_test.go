package hatchetflow_test

import (
	"context"
	"errors"
	"testing"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/testing/flowtest"
)

type (
	wantsInt struct {
		Value inject.ReturnValue[int] `json:"value"`
	}
	wantsReceipt struct {
		Value inject.ReturnValue[Receipt] `json:"value"`
	}
	// needsReason requires a field that an Order message does not have.
	needsReason struct {
		OrderID string `json:"order_id"`
		Reason  string `json:"reason" jsonschema:"required"`
	}
	// orderIDAsInt declares the parent's order_id with another type.
	orderIDAsInt struct {
		OrderID int `json:"order_id"`
	}
)

// fitFlow registers a task returning a Receipt from an Order, and callbacks of
// several shapes.
func fitFlow(t *testing.T) *flowtest.Harness {
	t.Helper()
	h := flowtest.New(t)
	h.Quiet()
	c := h.Client
	_, err := hatchetflow.NewTask(c, "total", func(_ hatchet.Context, in Order) (Receipt, error) { return Receipt{OrderID: in.OrderID, Total: 1}, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "count", func(_ hatchet.Context, in Order) (int, error) { return 3, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "anything", func(_ hatchet.Context, in Order) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "wants-int", func(_ hatchet.Context, in wantsInt) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "wants-receipt", func(_ hatchet.Context, in wantsReceipt) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "needs-reason", func(_ hatchet.Context, in needsReason) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "order-id-int", func(_ hatchet.Context, in orderIDAsInt) (any, error) { return nil, nil })
	must(t, err)
	return h
}

func TestSaveRefusesCallbacksThatCannotFit(t *testing.T) {
	h := fitFlow(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sig  dsl.Builder
		want hatchetflow.CallbackMismatchError
	}{
		{"return value of another type", dsl.Sign("total").OnSuccess(dsl.Sign("wants-int")),
			hatchetflow.CallbackMismatchError{Parent: "total", Callback: "wants-int", Outcome: "success",
				Field: "value", Want: "integer", Got: "object (hatchetflow_test.Receipt)"}},
		{"scalar into a struct", dsl.Sign("count").OnSuccess(dsl.Sign("wants-receipt")),
			hatchetflow.CallbackMismatchError{Parent: "count", Callback: "wants-receipt", Outcome: "success",
				Field: "value", Want: "object", Got: "integer (int)"}},
		{"required field nobody provides (error)", dsl.Sign("total").OnError(dsl.Sign("needs-reason")),
			hatchetflow.CallbackMismatchError{Parent: "total", Callback: "needs-reason", Outcome: "error",
				Field: "reason", Want: "string"}},
		{"required field nobody provides (success)", dsl.Sign("total").OnSuccess(dsl.Sign("needs-reason")),
			hatchetflow.CallbackMismatchError{Parent: "total", Callback: "needs-reason", Outcome: "success",
				Field: "reason", Want: "string"}},
		{"parent's field of another type", dsl.Sign("total").OnError(dsl.Sign("order-id-int")),
			hatchetflow.CallbackMismatchError{Parent: "total", Callback: "order-id-int", Outcome: "error",
				Field: "order_id", Want: "integer", Got: "string"}},
		{"deep in the tree", dsl.Sign("anything").OnSuccess(dsl.Sign("total").OnSuccess(dsl.Sign("wants-int"))),
			hatchetflow.CallbackMismatchError{Parent: "total", Callback: "wants-int", Outcome: "success",
				Field: "value", Want: "integer", Got: "object (hatchetflow_test.Receipt)"}},
	} {
		before := len(h.Redis.Keys())
		_, err := tc.sig.Save(ctx, h.Client)
		var me *hatchetflow.CallbackMismatchError
		if !errors.Is(err, hatchetflow.ErrCallbackMismatch) || !errors.As(err, &me) || *me != tc.want {
			t.Errorf("%s: Save = %v\n got %+v\nwant %+v", tc.name, err, me, tc.want)
		}
		if _, err := tc.sig.Run(ctx, h.Client, Order{OrderID: "x"}); !errors.Is(err, hatchetflow.ErrCallbackMismatch) {
			t.Errorf("%s: Run = %v, want ErrCallbackMismatch", tc.name, err)
		}
		if after := len(h.Redis.Keys()); after != before {
			t.Errorf("%s: a refused Save wrote %d keys", tc.name, after-before)
		}
	}
}

func TestSaveAcceptsCallbacksThatFitOrAreUnknown(t *testing.T) {
	h := fitFlow(t)
	ctx := context.Background()
	saved, err := dsl.Sign("needs-reason").With(dsl.KW{"reason": "saved earlier"}).Save(ctx, h.Client)
	must(t, err)
	for name, sig := range map[string]dsl.Builder{
		"matching return type":               dsl.Sign("count").OnSuccess(dsl.Sign("wants-int")),
		"matching struct":                    dsl.Sign("total").OnSuccess(dsl.Sign("wants-receipt")),
		"bound kwargs provide the field":     dsl.Sign("total").OnError(dsl.Sign("needs-reason").With(dsl.KW{"reason": "refund"})),
		"bound kwargs override the return":   dsl.Sign("total").OnSuccess(dsl.Sign("wants-int").With(dsl.KW{"value": 7})),
		"parent's kwargs provide it":         dsl.Sign("total").With(dsl.KW{"order_id": "k"}).OnError(dsl.Sign("needs-reason").With(dsl.KW{"reason": "r"})),
		"an any-typed output":                dsl.Sign("anything").OnSuccess(dsl.Sign("wants-int")),
		"a saved callback that fits":         dsl.Sign("total").OnError(saved),
		"a Validate-only callback that fits": dsl.Sign("total").OnSuccess(dsl.Sign("elsewhere").Validate(wantsReceipt{})),
		"a Validate-only parent":             dsl.Sign("elsewhere").Validate(Order{}).OnSuccess(dsl.Sign("wants-int")),
	} {
		if _, err := sig.Save(ctx, h.Client); err != nil {
			t.Errorf("%s: Save = %v", name, err)
		}
	}
}

func TestSaveChecksReferencedCallbacks(t *testing.T) {
	h := fitFlow(t)
	ctx := context.Background()
	saved, err := dsl.Sign("wants-int").Save(ctx, h.Client)
	must(t, err)
	_, err = dsl.Sign("total").OnSuccess(saved.Ref()).Save(ctx, h.Client)
	var me *hatchetflow.CallbackMismatchError
	if !errors.As(err, &me) || me.Callback != "wants-int" || me.Field != "value" {
		t.Fatalf("Save with a referenced callback that cannot fit = %v", err)
	}
}

type (
	// fitVideo is what the "video task" returns.
	fitVideo struct {
		ID     string `json:"id"`
		Height int    `json:"height"`
	}
	// fitPublished is what the "publish task" wants as its parent's return value:
	// watch_url is a field a fitVideo does not have.
	fitPublished struct {
		WatchURL string `json:"watch_url"`
		ID       string `json:"id"`
	}
	fitPublishMsg struct {
		Video inject.ReturnValue[fitPublished] `json:"video"`
	}
	// fitVideoID wants a subset of a fitVideo.
	fitVideoID struct {
		Video inject.ReturnValue[struct {
			ID string `json:"id"`
		}] `json:"video"`
	}
	// fitMaybePublished wants watch_url only if the parent has it (omitempty), and
	// a title with a default.
	fitMaybePublished struct {
		Video inject.ReturnValue[struct {
			ID       string `json:"id"`
			WatchURL string `json:"watch_url,omitempty"`
			Title    string `json:"title" jsonschema:"default=untitled"`
		}] `json:"video"`
	}
	fitAnyVideo struct {
		Video inject.ReturnValue[any] `json:"video"`
	}
	fitMapVideo struct {
		Video inject.ReturnValue[map[string]any] `json:"video"`
	}
	// fitNested wants a video inside the parent's return value.
	fitNested struct {
		Post inject.ReturnValue[struct {
			Video fitPublished `json:"video"`
		}] `json:"post"`
	}
	fitPost struct {
		Video fitVideo `json:"video"`
	}
	// fitHeightText declares the height with another type.
	fitHeightText struct {
		Video inject.ReturnValue[struct {
			Height string `json:"height"`
		}] `json:"video"`
	}
)

// videoFlow registers a task returning a fitVideo and success callbacks wanting
// objects of several shapes.
func videoFlow(t *testing.T) *flowtest.Harness {
	t.Helper()
	h := flowtest.New(t)
	h.Quiet()
	c := h.Client
	_, err := hatchetflow.NewTask(c, "video task", func(_ hatchet.Context, in Order) (fitVideo, error) { return fitVideo{ID: "v", Height: 720}, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "post task", func(_ hatchet.Context, in Order) (fitPost, error) { return fitPost{}, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "map task", func(_ hatchet.Context, in Order) (map[string]any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "publish task", func(_ hatchet.Context, in fitPublishMsg) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "video id task", func(_ hatchet.Context, in fitVideoID) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "maybe published task", func(_ hatchet.Context, in fitMaybePublished) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "any video task", func(_ hatchet.Context, in fitAnyVideo) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "map video task", func(_ hatchet.Context, in fitMapVideo) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "nested task", func(_ hatchet.Context, in fitNested) (any, error) { return nil, nil })
	must(t, err)
	_, err = hatchetflow.NewTask(c, "height text task", func(_ hatchet.Context, in fitHeightText) (any, error) { return nil, nil })
	must(t, err)
	return h
}

func TestSaveRefusesObjectCallbackMissingAField(t *testing.T) {
	h := videoFlow(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sig  dsl.Builder
		want hatchetflow.CallbackMismatchError
	}{
		{"a field the return type lacks", dsl.Sign("video task").OnSuccess(dsl.Sign("publish task")),
			hatchetflow.CallbackMismatchError{Parent: "video task", Callback: "publish task", Outcome: "success",
				Field: "video.watch_url", Want: "string"}},
		{"a field the return type lacks, one level down", dsl.Sign("post task").OnSuccess(dsl.Sign("nested task")),
			hatchetflow.CallbackMismatchError{Parent: "post task", Callback: "nested task", Outcome: "success",
				Field: "post.video.watch_url", Want: "string"}},
		{"a field both have, of another type", dsl.Sign("video task").OnSuccess(dsl.Sign("height text task")),
			hatchetflow.CallbackMismatchError{Parent: "video task", Callback: "height text task", Outcome: "success",
				Field: "video.height", Want: "string", Got: "integer"}},
	} {
		before := len(h.Redis.Keys())
		_, err := tc.sig.Save(ctx, h.Client)
		var me *hatchetflow.CallbackMismatchError
		if !errors.As(err, &me) || !errors.Is(err, hatchetflow.ErrCallbackMismatch) || *me != tc.want {
			t.Errorf("%s: Save = %v\n got %+v\nwant %+v", tc.name, err, me, tc.want)
		}
		if after := len(h.Redis.Keys()); after != before {
			t.Errorf("%s: a refused Save wrote %d keys", tc.name, after-before)
		}
	}
}

func TestSaveAcceptsObjectCallbacksThatFitOrAreUnknown(t *testing.T) {
	h := videoFlow(t)
	ctx := context.Background()
	for name, sig := range map[string]dsl.Builder{
		"a superset output":                 dsl.Sign("video task").OnSuccess(dsl.Sign("video id task")),
		"omitempty and defaulted fields":    dsl.Sign("video task").OnSuccess(dsl.Sign("maybe published task")),
		"an any-typed return field":         dsl.Sign("video task").OnSuccess(dsl.Sign("any video task")),
		"a map return field":                dsl.Sign("video task").OnSuccess(dsl.Sign("map video task")),
		"a map output":                      dsl.Sign("map task").OnSuccess(dsl.Sign("publish task")),
		"bound kwargs set the return field": dsl.Sign("video task").OnSuccess(dsl.Sign("publish task").With(dsl.KW{"video": map[string]any{"watch_url": "u", "id": "i"}})),
		"a Validate-only parent":            dsl.Sign("elsewhere").Validate(Order{}).OnSuccess(dsl.Sign("publish task")),
	} {
		if _, err := sig.Save(ctx, h.Client); err != nil {
			t.Errorf("%s: Save = %v", name, err)
		}
	}
}

// The client remembers its schema checks: the same mismatch is refused the same way
// every time, and a fitting tree keeps fitting.
func TestSaveChecksAreTheSameWhenRemembered(t *testing.T) {
	h := fitFlow(t)
	ctx := context.Background()
	want := hatchetflow.CallbackMismatchError{Parent: "total", Callback: "wants-int", Outcome: "success",
		Field: "value", Want: "integer", Got: "object (hatchetflow_test.Receipt)"}
	for i := range 3 {
		_, err := dsl.Sign("total").OnSuccess(dsl.Sign("wants-int")).Save(ctx, h.Client)
		var me *hatchetflow.CallbackMismatchError
		if !errors.As(err, &me) || *me != want {
			t.Fatalf("Save %d = %v, want %+v", i+1, err, want)
		}
		if _, err := dsl.Sign("count").OnSuccess(dsl.Sign("wants-int")).Save(ctx, h.Client); err != nil {
			t.Fatalf("Save %d of a fitting tree: %v", i+1, err)
		}
	}
}
