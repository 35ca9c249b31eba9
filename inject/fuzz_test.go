package inject_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hatchetflow/go/inject"
)

// Types a producer validates against and a worker decodes into.
type (
	vLine struct {
		SKU string   `json:"sku"`
		Qty int      `json:"qty"`
		Tag *string  `json:"tag,omitempty"`
		Alt []uint16 `json:"alt"`
	}
	vOrder struct {
		ID       string                    `json:"id"`
		Lines    []vLine                   `json:"lines"`
		ByName   map[string]*vLine         `json:"by_name"`
		Price    float64                   `json:"price"`
		Small    int8                      `json:"small"`
		Big      int64                     `json:"big"`
		Flags    [2]bool                   `json:"flags"`
		When     time.Time                 `json:"when"`
		Any      any                       `json:"any"`
		Result   inject.ReturnValue[vLine] `json:"result"`
		Failure  *inject.TaskError         `json:"failure" hatchetflow:"task_error"`
		Embedded                           // fields promoted, as encoding/json does
	}
	Embedded struct {
		Note  string `json:"note,omitempty"`
		Count uint   `json:"count"`
	}
	vLoose struct {
		Data map[string]any `json:"data"`
		List []any          `json:"list"`
		Text string         `json:"text"`
	}
)

var validateTargets = []struct {
	schema *inject.Schema
	decode func(map[string]any) error
}{
	{mustSchema[vOrder](), func(m map[string]any) error { _, err := inject.Decode[vOrder](m); return err }},
	{mustSchema[vLine](), func(m map[string]any) error { _, err := inject.Decode[vLine](m); return err }},
	{mustSchema[vLoose](), func(m map[string]any) error { _, err := inject.Decode[vLoose](m); return err }},
}

func mustSchema[T any]() *inject.Schema {
	raw, err := inject.SchemaOf(reflect.TypeFor[T]())
	if err != nil {
		panic(err)
	}
	s, err := inject.CompileSchema(raw)
	if err != nil {
		panic(err)
	}
	return s
}

// FuzzValidate checks the producer-side validation against the worker-side decoding,
// on messages as the wire delivers them (encoding/json's float64 numbers):
//
//   - Validate and ValidatePartial fail only with a non-empty *ValidationError, and
//     never panic;
//   - ValidatePartial accepts whatever Validate accepts (it only drops "required");
//   - a message Validate accepts decodes into the Go type: what a producer let
//     through, a worker can read.
func FuzzValidate(f *testing.F) {
	f.Add(uint8(0), []byte(`{"id":"o-1","lines":[{"sku":"a","qty":2,"alt":[1,2]}],"by_name":{"a":null},"price":1.5,"small":-3,"flags":[true,false],"when":"2024-01-02T03:04:05Z","any":[1,"x"],"result":{"sku":"r","qty":1},"failure":{"task":"t","attempt":2},"count":3}`))
	f.Add(uint8(0), []byte(`{"small":127,"big":9007199254740991,"count":0,"note":"n"}`))
	f.Add(uint8(1), []byte(`{"sku":"x","qty":-1,"tag":null,"alt":null}`))
	f.Add(uint8(2), []byte(`{"data":{"k":[{}]},"list":[null,1.25,"s"],"text":""}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		var msg map[string]any
		if json.Unmarshal(data, &msg) != nil || msg == nil {
			t.Skip()
		}
		target := validateTargets[int(which)%len(validateTargets)]
		full, partial := target.schema.Validate(msg), target.schema.ValidatePartial(msg)
		for _, err := range []error{full, partial} {
			var ve *inject.ValidationError
			if err != nil && (!errors.As(err, &ve) || len(ve.Fields) == 0 || !errors.Is(err, inject.ErrValidation)) {
				t.Fatalf("validation error %v is not a non-empty *ValidationError", err)
			}
		}
		if full == nil && partial != nil {
			t.Fatalf("Validate accepts %s but ValidatePartial refuses it: %v", data, partial)
		}
		if full != nil {
			return
		}
		if err := target.decode(msg); err != nil {
			var de *inject.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error %v is not a *DecodeError", err)
			}
			t.Fatalf("Validate accepts %s but the worker cannot decode it: %v", compact(data), err)
		}
	})
}

func compact(data []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		return string(data)
	}
	return b.String()
}
