package dsl

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

type handle string

func (h handle) TaskName() string { return string(h) }

func TestSignTargets(t *testing.T) {
	if got := Sign("process-order").Task(); got != "process-order" {
		t.Fatalf("Sign(string).Task() = %q", got)
	}
	if got := Sign(handle("typed")).Task(); got != "typed" {
		t.Fatalf("Sign(Named).Task() = %q", got)
	}
	for _, bad := range []any{"", 42, nil, handle("")} {
		err := Sign(bad).Err()
		var ite *InvalidTargetError
		if !errors.Is(err, ErrInvalidTarget) || !errors.As(err, &ite) {
			t.Errorf("Sign(%#v).Err() = %v, want InvalidTargetError", bad, err)
		}
	}
}

func TestWithMergesLaterWins(t *testing.T) {
	b := Sign("t").With(KW{"a": 1, "b": 2}).With(KW{"b": 3, "c": 4})
	want := KW{"a": 1, "b": 3, "c": 4}
	if got := b.Kwargs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("kwargs = %v, want %v", got, want)
	}
}

func TestWithCopiesCallerValues(t *testing.T) {
	nested := map[string]any{"x": 1}
	list := []any{1, 2}
	kw := KW{"n": nested, "l": list}
	b := Sign("t").With(kw)
	nested["x"] = 99
	list[0] = 99
	kw["new"] = true
	got := b.Kwargs()
	if got["n"].(map[string]any)["x"] != 1 || got["l"].([]any)[0] != 1 || got["new"] != nil {
		t.Fatalf("builder saw caller's later changes: %v", got)
	}
	got["n"].(map[string]any)["x"] = 7 // changing the returned copy must not reach b
	if b.Kwargs()["n"].(map[string]any)["x"] != 1 {
		t.Fatal("Kwargs() returned shared state")
	}
}

func TestReusedPrefixDoesNotShareState(t *testing.T) {
	base := Sign("t").With(KW{"k": "v"}).OnSuccess(Sign("s1"))
	// Give base's slice spare capacity, the classic aliasing trap.
	base = base.OnSuccess(Sign("s2"))
	a := base.OnSuccess(Sign("a")).With(KW{"k": "a"})
	b := base.OnSuccess(Sign("b")).OnError(Ref("err-1"))

	names := func(specs []Spec) []string {
		var out []string
		for _, s := range specs {
			switch c := s.(type) {
			case Builder:
				out = append(out, c.Task())
			case Ref:
				out = append(out, "ref:"+string(c))
			}
		}
		return out
	}
	if got := names(a.SuccessCallbacks()); !reflect.DeepEqual(got, []string{"s1", "s2", "a"}) {
		t.Fatalf("a success = %v", got)
	}
	if got := names(b.SuccessCallbacks()); !reflect.DeepEqual(got, []string{"s1", "s2", "b"}) {
		t.Fatalf("b success = %v", got)
	}
	if len(a.ErrorCallbacks()) != 0 || len(base.ErrorCallbacks()) != 0 {
		t.Fatal("error callbacks leaked between builders")
	}
	if base.Kwargs()["k"] != "v" || len(base.SuccessCallbacks()) != 2 {
		t.Fatal("base changed")
	}
}

func TestErrFindsNestedProblems(t *testing.T) {
	if err := Sign("t").OnSuccess(Sign("ok").OnError(Sign(""))).Err(); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("nested invalid target: %v", err)
	}
	if err := Sign("t").OnError(nil).Err(); !errors.Is(err, ErrNilCallback) {
		t.Fatalf("nil callback: %v", err)
	}
	if err := Sign("t").OnError(Ref("")).Err(); !errors.Is(err, ErrNilCallback) {
		t.Fatalf("empty ref: %v", err)
	}
}

type recordingBackend struct {
	saved []Builder
	runs  []Spec
}

func (r *recordingBackend) SaveSignature(_ context.Context, s Spec) (Saved, error) {
	b, _ := s.(Builder)
	r.saved = append(r.saved, b)
	return Saved{ID: "id-1", Task: b.Task()}, nil
}

func (r *recordingBackend) RunSignature(_ context.Context, s Spec, _ any) (Handle, error) {
	r.runs = append(r.runs, s)
	return nil, nil
}

func TestTerminalCallsRefuseInvalidTreesWithoutIO(t *testing.T) {
	be := &recordingBackend{}
	if _, err := Sign(3).Save(context.Background(), be); err == nil {
		t.Fatal("Save accepted an invalid target")
	}
	if _, err := Sign("t").OnSuccess(Sign("")).Run(context.Background(), be, nil); err == nil {
		t.Fatal("Run accepted an invalid callback")
	}
	if len(be.saved)+len(be.runs) != 0 {
		t.Fatal("backend was called for an invalid tree")
	}
	s, err := Sign("t").Save(context.Background(), be)
	if err != nil || s.ID != "id-1" || s.Task != "t" {
		t.Fatalf("Save = %+v, %v", s, err)
	}
	if _, err := s.Run(context.Background(), be, nil); err != nil || be.runs[0] != Ref("id-1") {
		t.Fatalf("Saved.Run passed %v, %v", be.runs, err)
	}
}

func TestValidate(t *testing.T) {
	type In struct{ A int }
	b := Sign("t").Validate(In{})
	if b.ValidatorType() != reflect.TypeOf(In{}) {
		t.Fatalf("ValidatorType = %v", b.ValidatorType())
	}
	if Sign("t").ValidatorType() != nil || b.Validate(nil).ValidatorType() != nil {
		t.Fatal("Validate(nil) should clear")
	}
}

// TestPropertyBuildersNeverShare applies random operation sequences to a shared prefix
// and checks that each branch equals the same operations applied to a fresh copy.
func TestPropertyBuildersNeverShare(t *testing.T) {
	type op struct {
		kind int
		key  string
		val  int
		task string
	}
	genOp := rapid.Custom(func(t *rapid.T) op {
		return op{
			kind: rapid.IntRange(0, 2).Draw(t, "kind"),
			key:  rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "key"),
			val:  rapid.IntRange(0, 9).Draw(t, "val"),
			task: rapid.SampledFrom([]string{"x", "y", "z"}).Draw(t, "task"),
		}
	})
	apply := func(b Builder, ops []op) Builder {
		for _, o := range ops {
			switch o.kind {
			case 0:
				b = b.With(KW{o.key: o.val})
			case 1:
				b = b.OnSuccess(Sign(o.task).With(KW{o.key: o.val}))
			case 2:
				b = b.OnError(Ref(o.task))
			}
		}
		return b
	}
	describe := func(b Builder) string {
		var walk func(Builder) string
		walk = func(b Builder) string {
			s := b.Task() + "|kw=" + fmtKW(b.Kwargs())
			for _, c := range b.SuccessCallbacks() {
				if cb, ok := c.(Builder); ok {
					s += " +" + walk(cb)
				}
			}
			for _, c := range b.ErrorCallbacks() {
				if r, ok := c.(Ref); ok {
					s += " !" + string(r)
				}
			}
			return s
		}
		return walk(b)
	}
	rapid.Check(t, func(t *rapid.T) {
		prefix := rapid.SliceOf(genOp).Draw(t, "prefix")
		left := rapid.SliceOf(genOp).Draw(t, "left")
		right := rapid.SliceOf(genOp).Draw(t, "right")
		shared := apply(Sign("root"), prefix)
		before := describe(shared)
		l := apply(shared, left)
		r := apply(shared, right)
		if describe(shared) != before {
			t.Fatalf("prefix changed by its branches")
		}
		if describe(l) != describe(apply(apply(Sign("root"), prefix), left)) {
			t.Fatalf("left branch differs from a fresh build")
		}
		if describe(r) != describe(apply(apply(Sign("root"), prefix), right)) {
			t.Fatalf("right branch differs from a fresh build")
		}
	})
}

func fmtKW(kw KW) string {
	keys := []string{"a", "b", "c"}
	s := ""
	for _, k := range keys {
		if v, ok := kw[k]; ok {
			s += fmt.Sprintf("%s=%v;", k, v)
		}
	}
	return s
}

func TestChainIsImmutableAndChecksItsSteps(t *testing.T) {
	base := Chain(Sign("a"), Sign("b")).With(KW{"k": 1})
	c1 := base.With(KW{"k": 2}).OnSuccess(Sign("s"))
	c2 := base.OnError(Sign("e"))
	if base.Kwargs()["k"] != 1 || c1.Kwargs()["k"] != 2 || len(base.SuccessCallbacks()) != 0 ||
		len(c1.SuccessCallbacks()) != 1 || len(c2.ErrorCallbacks()) != 1 || len(c2.SuccessCallbacks()) != 0 {
		t.Fatalf("chain builders share state: base %+v c1 %+v c2 %+v", base, c1, c2)
	}
	var short *ChainTooShortError
	if err := Chain(Sign("a")).Err(); !errors.Is(err, ErrChainTooShort) || !errors.As(err, &short) || short.Steps != 1 {
		t.Fatalf("one-step chain: %v", err)
	}
	if err := Chain(Sign("a"), Sign("")).Err(); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("chain with an invalid step: %v", err)
	}
	if err := Chain(Sign("a"), Chain(Sign("b"))).Err(); !errors.Is(err, ErrChainTooShort) {
		t.Fatalf("nested short chain: %v", err)
	}
	if err := Sign("x").OnSuccess(Chain(Sign("a"), nil)).Err(); !errors.Is(err, ErrNilCallback) {
		t.Fatalf("callback chain with a nil step: %v", err)
	}
	be := &recordingBackend{}
	if _, err := Chain(Sign("a")).Save(context.Background(), be); !errors.Is(err, ErrChainTooShort) || len(be.saved) != 0 {
		t.Fatalf("Save of a short chain reached the backend: %v", err)
	}
}
