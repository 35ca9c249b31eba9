package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hatchetflow/go/testing/flowtest"
)

// TestScenariosInFlowtest runs the example's scenarios in the in-memory harness: the
// showcase of testing a flow without an engine.
func TestScenariosInFlowtest(t *testing.T) {
	h := flowtest.New(t)
	h.ExpectFailure("external-api-call") // scenario 3 fails on purpose
	h.Quiet()
	rec := newRecorder()
	tk, err := register(h.Client, h.Hatchet(), rec)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	d := &demo{c: h.Client, t: tk, rec: rec, out: &out, settle: h.Drain}
	if err := d.run(context.Background()); err != nil {
		t.Fatalf("%v\noutput so far:\n%s", err, out.String())
	}
	for _, want := range []string{
		`send-success-email   received {"task_result":{"order_id":"ord-1001","total":30},"template":"order_confirmed"}`,
		`log-completion       received {"mageflow_results":{"order_id":"ord-1001","total":30},"field_int":7}`,
		`process-user-data    received {"user_id":"12345","preferences":{"notifications":true,"theme":"dark"},"processing_mode":"batch"}`,
		`"endpoint":"https://api.example.com/charge","attempt":1,"additional_field1":12345,"additional_field2":"test"`,
		`alert-administrator  received {"endpoint":"https://api.example.com/charge","attempt":1}`,
		`retry_count`,
		`unknown task "no-such-task"`,
		`reserve-stock        received {"receipt":{"order_id":"ord-2002","total":10},"warehouse":"north"}`,
		`ship-order           received {"reservation":{"order_id":"ord-2002","warehouse":"north"},"carrier":"ups"}`,
		`notify-shipped       received {"shipment":{"order_id":"ord-2002","tracking":"ups-north-1"}}`,
		`chain done after 3 steps`,
		`confirm-reservations received {"reservations":[{"order_id":"ord-3003","warehouse":"north"},{"order_id":"ord-3003","warehouse":"south"},{"order_id":"ord-3003","warehouse":"east"}]}`,
		`announce-fulfilment  received {"fulfilment":{"pack":{"order_id":"ord-4004","items":2,"box":"box-2"},"label":{"carrier":"ups","priority":"express"}},"channel":"email"}`,
		`"mageflow_results":{"order_id":"ord-4005","total":10}`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s\n--- output:\n%s", want, out.String())
		}
	}
	h.RequireReceived(t, "schedule-retry", &flowtest.Match{Input: map[string]any{
		"endpoint": "https://api.example.com/charge", "delay_seconds": 30}})
	h.RequireNotDispatched(t, "send-notification", nil)
	t.Log("\n" + out.String())
}
