package inject

import (
	"encoding/json"
	"fmt"
)

// marshal is json.Marshal that turns a panic in a custom MarshalJSON or
// MarshalText method into an error.
func marshal(v any) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("panic while encoding JSON: %v", r)
		}
	}()
	return json.Marshal(v)
}
