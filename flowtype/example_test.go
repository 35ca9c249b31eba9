package flowtype_test

import (
	"fmt"

	"github.com/hatchetflow/go/flowtype"
)

func ExampleStatus_Ended() {
	for _, s := range []flowtype.Status{flowtype.StatusActive, flowtype.StatusCancelled} {
		fmt.Println(s, s.Ended())
	}
	// Output:
	// active false
	// cancelled true
}
