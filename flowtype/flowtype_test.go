package flowtype_test

import (
	"slices"
	"testing"

	"github.com/hatchetflow/go/flowtype"
)

func TestEndedAgreesWithEndedStatuses(t *testing.T) {
	for _, s := range append(flowtype.Statuses(), "unknown") {
		if got, want := s.Ended(), slices.Contains(flowtype.EndedStatuses(), s); got != want {
			t.Errorf("%q.Ended() = %v, EndedStatuses lists it: %v", s, got, want)
		}
	}
}
