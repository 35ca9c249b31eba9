package inject_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hatchetflow/go/inject"
)

// TestSchemaMatchesDecode: what the schema accepts, Decode can decode. Sized and
// unsigned integers carry their range, and date-time formats are asserted.
func TestSchemaMatchesDecode(t *testing.T) {
	type msg struct {
		Small int8      `json:"small,omitempty"`
		Count uint      `json:"count,omitempty"`
		Port  uint16    `json:"port,omitempty"`
		When  time.Time `json:"when,omitempty"`
	}
	doc, err := inject.SchemaOf(reflect.TypeFor[msg]())
	if err != nil {
		t.Fatal(err)
	}
	s, err := inject.CompileSchema(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []map[string]any{
		{"small": 170}, {"small": -129}, {"count": -1}, {"port": 70000}, {"when": ""}, {"when": "yesterday"},
	} {
		if err := s.Validate(bad); !errors.Is(err, inject.ErrValidation) {
			t.Errorf("Validate(%v) = %v, want a validation error", bad, err)
		}
		if _, err := inject.Decode[msg](bad); err == nil {
			t.Errorf("Decode(%v) succeeded; the schema and the decoder disagree", bad)
		}
	}
	good := map[string]any{"small": -128, "count": 0, "port": 65535, "when": "2024-01-02T03:04:05Z"}
	if err := s.Validate(good); err != nil {
		t.Fatalf("Validate(%v) = %v", good, err)
	}
	if _, err := inject.Decode[msg](good); err != nil {
		t.Fatalf("Decode(%v) = %v", good, err)
	}
}
