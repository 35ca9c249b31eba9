package hatchetflow

import (
	"encoding/json"
	"fmt"
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

// wrapped is an error with context in front of an inner error whose own
// "hatchetflow: " prefix is dropped from the text, so a message reads it once.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// wrap returns "hatchetflow: <context>: <err>" that unwraps to err.
func wrap(err error, format string, args ...any) error {
	inner := strings.TrimPrefix(err.Error(), "hatchetflow: ")
	return &wrapped{msg: "hatchetflow: " + fmt.Sprintf(format, args...) + ": " + inner, err: err}
}
