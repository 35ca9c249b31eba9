package hatchetflow

import (
	"encoding/json"
	"strings"
)

// cleanError turns the error text the engine reports for a failed step into the
// message users see: SDK-made errors arrive JSON-quoted, panics recovered by the SDK
// carry a stack trace, engine-made ones (timeouts) are plain text.
func cleanError(s string) string {
	s = strings.TrimSpace(s)
	var unq string
	if strings.HasPrefix(s, `"`) && json.Unmarshal([]byte(s), &unq) == nil {
		s = unq
	}
	if i := strings.Index(s, ". Stack trace:"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
