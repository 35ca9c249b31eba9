package inject_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/inject"
)

type (
	fitReceipt struct {
		OrderID string `json:"order_id"`
		Total   int    `json:"total"`
	}
	fitReceiptText struct {
		OrderID string `json:"order_id"`
		Total   string `json:"total"`
	}
	fitNeedsTax struct {
		OrderID string  `json:"order_id"`
		Tax     float64 `json:"tax" jsonschema:"required"`
	}
	fitLines struct {
		Lines []fitReceipt `json:"lines"`
	}
	fitLinesText struct {
		Lines []fitReceiptText `json:"lines"`
	}
	// fitVideo and fitPublished: a fitPublished needs watch_url, which a
	// fitVideo lacks.
	fitVideo struct {
		ID     string `json:"id"`
		Height int    `json:"height"`
	}
	fitPublished struct {
		WatchURL string `json:"watch_url"`
		ID       string `json:"id"`
	}
	fitMaybePublished struct {
		WatchURL string `json:"watch_url,omitempty"`
		Title    string `json:"title" jsonschema:"default=untitled"`
		ID       string `json:"id"`
	}
	fitVideoID struct {
		ID string `json:"id"`
	}
	fitPost struct {
		Video fitVideo `json:"video"`
	}
	fitPostPublished struct {
		Video *fitPublished `json:"video"`
	}
	fitPosts struct {
		Posts []fitPost `json:"posts"`
	}
	fitPostsPublished struct {
		Posts []fitPostPublished `json:"posts"`
	}
)

func schemaFor[T any](t *testing.T) json.RawMessage {
	t.Helper()
	s, err := inject.SchemaOf(reflect.TypeFor[T]())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFits(t *testing.T) {
	tests := []struct {
		name     string
		from, to json.RawMessage
		want     inject.Mismatch
		ok       bool
	}{
		{"int into int", schemaFor[int](t), schemaFor[int64](t), inject.Mismatch{}, true},
		{"int into float", schemaFor[int](t), schemaFor[float64](t), inject.Mismatch{}, true},
		{"float into int", schemaFor[float64](t), schemaFor[int](t), inject.Mismatch{Want: "integer", Got: "number"}, false},
		{"struct into int", schemaFor[fitReceipt](t), schemaFor[int](t), inject.Mismatch{Want: "integer", Got: "object"}, false},
		{"struct into same struct", schemaFor[fitReceipt](t), schemaFor[fitReceipt](t), inject.Mismatch{}, true},
		{"nil-able pointer into struct", schemaFor[*fitReceipt](t), schemaFor[fitReceipt](t), inject.Mismatch{}, true},
		{"struct into map", schemaFor[fitReceipt](t), schemaFor[map[string]any](t), inject.Mismatch{}, true},
		{"property of another type", schemaFor[fitReceipt](t), schemaFor[fitReceiptText](t),
			inject.Mismatch{Path: ".total", Want: "string", Got: "integer"}, false},
		{"required property missing", schemaFor[fitReceipt](t), schemaFor[fitNeedsTax](t),
			inject.Mismatch{Path: ".tax", Want: "number"}, false},
		{"needed property missing", schemaFor[fitVideo](t), schemaFor[fitPublished](t),
			inject.Mismatch{Path: ".watch_url", Want: "string"}, false},
		{"unrelated objects", schemaFor[fitPublished](t), schemaFor[fitReceipt](t),
			inject.Mismatch{Path: ".order_id", Want: "string"}, false},
		{"superset producer", schemaFor[fitVideo](t), schemaFor[fitVideoID](t), inject.Mismatch{}, true},
		{"omitempty and defaulted properties are not needed", schemaFor[fitVideo](t), schemaFor[fitMaybePublished](t), inject.Mismatch{}, true},
		{"needed property missing, nested and nullable", schemaFor[fitPost](t), schemaFor[fitPostPublished](t),
			inject.Mismatch{Path: ".video.watch_url", Want: "string"}, false},
		{"needed property missing, in list items", schemaFor[fitPosts](t), schemaFor[fitPostsPublished](t),
			inject.Mismatch{Path: ".posts[].video.watch_url", Want: "string"}, false},
		{"map producer", schemaFor[map[string]string](t), schemaFor[fitPublished](t), inject.Mismatch{}, true},
		{"foreign receiver without annotation", schemaFor[fitVideo](t),
			json.RawMessage(`{"type": "object", "properties": {"watch_url": {"type": "string"}}}`), inject.Mismatch{}, true},
		{"list items", schemaFor[[]int](t), schemaFor[[]string](t), inject.Mismatch{Path: "[]", Want: "string", Got: "integer"}, false},
		{"nested list of structs", schemaFor[fitLines](t), schemaFor[fitLinesText](t),
			inject.Mismatch{Path: ".lines[].total", Want: "string", Got: "integer"}, false},
		{"list into struct", schemaFor[[]int](t), schemaFor[fitReceipt](t), inject.Mismatch{Want: "object", Got: "array"}, false},
		{"any producer", schemaFor[any](t), schemaFor[int](t), inject.Mismatch{}, true},
		{"any receiver", schemaFor[fitReceipt](t), schemaFor[any](t), inject.Mismatch{}, true},
		{"unknown producer", nil, schemaFor[int](t), inject.Mismatch{}, true},
		{"invalid receiver", schemaFor[int](t), json.RawMessage(`{`), inject.Mismatch{}, true},
	}
	for _, tt := range tests {
		got, ok := inject.Fits(tt.from, tt.to)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: Fits = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProperties(t *testing.T) {
	props, req, ok := inject.Properties(schemaFor[fitNeedsTax](t))
	if !ok || len(req) != 1 || req[0] != "tax" || props["order_id"] == nil || inject.Kinds(props["tax"]) != "number" {
		t.Fatalf("Properties = %v, %v, %v", props, req, ok)
	}
	if _, _, ok := inject.Properties(schemaFor[map[string]any](t)); ok {
		t.Fatal("a map schema has no known properties")
	}
	if k := inject.Kinds(schemaFor[*string](t)); k != "string" {
		t.Fatalf("Kinds(*string) = %q", k)
	}
}
