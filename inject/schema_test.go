package inject_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hatchetflow/go/inject"
)

type (
	schemaLine struct {
		SKU string `json:"sku" jsonschema:"required"`
		Qty int    `json:"qty" jsonschema:"minimum=1"`
	}
	SchemaBase struct {
		TraceID string `json:"trace_id"`
	}
	schemaMsg struct {
		SchemaBase
		Result   inject.ReturnValue[[]schemaLine] `json:"task_result"`
		Priority string                           `json:"priority" jsonschema:"required,enum=low,enum=high"`
		Count    int                              `json:"count,omitempty"`
		Ratio    float64                          `json:"ratio"`
		Lines    []schemaLine                     `json:"lines"`
		Meta     map[string]string                `json:"meta"`
		Note     *string                          `json:"note"`
		When     time.Time                        `json:"when"`
		Anything any                              `json:"anything"`
		GoName   bool
		Skipped  string `json:"-"`
		//lint:ignore U1000 an unexported field: the schema must leave it out
		private int
	}
	schemaNoReturn struct {
		A int `json:"a"`
	}
	schemaOwnDefault struct {
		MageflowResults []string `json:"mageflow_results"`
	}
	schemaTree struct {
		Name     string        `json:"name" jsonschema:"required"`
		Children []*schemaTree `json:"children"`
	}
	schemaBadField struct {
		C chan int `json:"c"`
	}
)

// decodeSchema returns SchemaOf(typ) as generic JSON.
func decodeSchema(t *testing.T, typ reflect.Type) map[string]any {
	t.Helper()
	raw, err := inject.SchemaOf(typ)
	if err != nil {
		t.Fatalf("SchemaOf(%v): %v", typ, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("SchemaOf(%v) is not JSON: %v\n%s", typ, err, raw)
	}
	return doc
}

func at(t *testing.T, doc any, path ...string) any {
	t.Helper()
	cur := doc
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("schema path %v: %v is not an object", path, cur)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("schema path %v: no %q in %v", path, k, m)
		}
	}
	return cur
}

func assertJSON(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Fatalf("got %s, want %s", g, want)
	}
}

func TestSchemaOf(t *testing.T) {
	doc := decodeSchema(t, reflect.TypeFor[schemaMsg]())
	assertJSON(t, at(t, doc, "type"), `"object"`)
	assertJSON(t, at(t, doc, "additionalProperties"), `false`)
	assertJSON(t, at(t, doc, "required"), `["priority"]`)

	props := at(t, doc, "properties").(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"GoName", "anything", "count", "lines", "meta", "note", "priority", "ratio", "task_result", "trace_id", "when"}; !slices.Equal(names, want) {
		t.Fatalf("properties = %q, want %q", names, want)
	}

	// ReturnValue[[]schemaLine] has the schema of []schemaLine (nullable, as a slice).
	assertJSON(t, at(t, props, "task_result"), `{
		"type": ["array", "null"],
		"items": {
			"type": "object",
			"properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}},
			"required": ["sku"],
			"additionalProperties": false,
			"x-hatchetflow-needed": ["qty"]
		}}`)
	// Fields without omitempty or a default are needed; priority is already required.
	assertJSON(t, at(t, doc, "x-hatchetflow-needed"),
		`["trace_id", "task_result", "ratio", "lines", "meta", "note", "when", "anything", "GoName"]`)
	assertJSON(t, at(t, props, "priority"), `{"type": "string", "enum": ["low", "high"]}`)
	assertJSON(t, at(t, props, "count"), `{"type": "integer", "minimum": -9223372036854775808, "maximum": 9223372036854775807}`)
	assertJSON(t, at(t, props, "ratio"), `{"type": "number"}`)
	assertJSON(t, at(t, props, "meta"), `{"type": ["object", "null"], "additionalProperties": {"type": "string"}}`)
	assertJSON(t, at(t, props, "note"), `{"type": ["string", "null"]}`)
	assertJSON(t, at(t, props, "when"), `{"type": "string", "format": "date-time"}`)
	assertJSON(t, at(t, props, "anything"), `true`)
	assertJSON(t, at(t, props, "GoName"), `{"type": "boolean"}`)
	assertJSON(t, at(t, props, "trace_id"), `{"type": "string"}`)
	if _, ok := doc["$defs"]; ok {
		t.Fatal("a non-recursive type's schema has $defs")
	}
	if _, ok := props[inject.DefaultReturnField]; ok {
		t.Fatal("a type with a ReturnValue field got the default return property")
	}
}

func TestSchemaOfDefaultReturnField(t *testing.T) {
	doc := decodeSchema(t, reflect.TypeFor[schemaNoReturn]())
	p := at(t, doc, "properties", inject.DefaultReturnField).(map[string]any)
	if len(p) != 1 || p["description"] == nil {
		t.Fatalf("default return property = %v, want an unconstrained schema", p)
	}
	if _, ok := doc["required"]; ok {
		t.Fatalf("schema requires fields: %v", doc["required"])
	}

	own := decodeSchema(t, reflect.TypeFor[schemaOwnDefault]())
	assertJSON(t, at(t, own, "properties", inject.DefaultReturnField), `{"type": ["array", "null"], "items": {"type": "string"}}`)
}

func TestSchemaOfPointerAndMap(t *testing.T) {
	a, err := inject.SchemaOf(reflect.TypeFor[*schemaNoReturn]())
	if err != nil {
		t.Fatal(err)
	}
	b, err := inject.SchemaOf(reflect.TypeFor[schemaNoReturn]())
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatalf("SchemaOf(*T) = %s, SchemaOf(T) = %s", a, b)
	}
	m := decodeSchema(t, reflect.TypeFor[map[string]int]())
	assertJSON(t, m, `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": {"type": "integer", "minimum": -9223372036854775808, "maximum": 9223372036854775807}}`)
}

func TestSchemaOfRecursive(t *testing.T) {
	raw, err := inject.SchemaOf(reflect.TypeFor[schemaTree]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inject.CompileSchema(raw)
	if err != nil {
		t.Fatalf("CompileSchema(%s): %v", raw, err)
	}
	ok := map[string]any{"name": "root", "children": []any{map[string]any{"name": "kid", "children": nil}, nil}}
	if err := s.Validate(ok); err != nil {
		t.Fatalf("Validate(valid tree): %v", err)
	}
	bad := map[string]any{"name": "root", "children": []any{map[string]any{"children": []any{map[string]any{"name": 1}}}}}
	assertFields(t, s.Validate(bad), []inject.FieldError{
		{Path: "children/0/children/0/name", Message: "got number, want string"},
		{Path: "children/0/name", Message: "missing required field"},
	})
}

type (
	schemaOptional struct {
		Must    string        `json:"must"`
		Empty   string        `json:"empty,omitempty"`
		Zero    int           `json:"zero,omitzero"`
		Default string        `json:"default" jsonschema:"default=none"`
		Req     string        `json:"req,omitempty" jsonschema:"required"`
		Inner   *schemaLine   `json:"inner"`
		Ptrs    []*schemaLine `json:"ptrs,omitempty"`
	}
)

func TestSchemaOfNeededFields(t *testing.T) {
	doc := decodeSchema(t, reflect.TypeFor[schemaOptional]())
	assertJSON(t, at(t, doc, "x-hatchetflow-needed"), `["must", "inner"]`)
	assertJSON(t, at(t, doc, "required"), `["req"]`)
	// A nullable struct (a pointer) and list items keep their own annotation.
	assertJSON(t, at(t, doc, "properties", "inner", "x-hatchetflow-needed"), `["qty"]`)
	assertJSON(t, at(t, doc, "properties", "ptrs", "items", "x-hatchetflow-needed"), `["qty"]`)
	// Recursive types: the annotation is in $defs.
	tree := decodeSchema(t, reflect.TypeFor[schemaTree]())
	assertJSON(t, at(t, tree, "$defs", "schemaTree", "x-hatchetflow-needed"), `["children"]`)
	// Validation does not read it: a value without the needed fields is valid.
	raw, _ := inject.SchemaOf(reflect.TypeFor[schemaOptional]())
	s, err := inject.CompileSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(map[string]any{"req": "r"}); err != nil {
		t.Fatalf("Validate without the needed fields: %v", err)
	}
}

func TestSchemaOfUnsupported(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[schemaBadField](), reflect.TypeFor[func()](), nil} {
		if _, err := inject.SchemaOf(typ); !errors.Is(err, inject.ErrUnsupportedType) {
			t.Errorf("SchemaOf(%v) error = %v, want ErrUnsupportedType", typ, err)
		}
	}
}

func TestSchemaOfCachedCopy(t *testing.T) {
	typ := reflect.TypeFor[schemaMsg]()
	a, _ := inject.SchemaOf(typ)
	want := string(a)
	a[0] = 'X'
	b, _ := inject.SchemaOf(typ)
	if string(b) != want {
		t.Fatal("SchemaOf returned the cached bytes themselves")
	}
}

type selfAlias struct{}

func (selfAlias) JSONSchemaAlias() any { return &selfAlias{} }

type nilAlias struct{}

func (nilAlias) JSONSchemaAlias() any { return nil }

func TestSchemaOfBrokenAliases(t *testing.T) {
	type holder struct {
		S selfAlias `json:"s"`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[selfAlias](), reflect.TypeFor[holder](), reflect.TypeFor[nilAlias]()} {
		if _, err := inject.SchemaOf(typ); !errors.Is(err, inject.ErrUnsupportedType) {
			t.Errorf("SchemaOf(%v) error = %v, want ErrUnsupportedType", typ, err)
		}
	}
}
