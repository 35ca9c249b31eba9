package hatchetflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/hatchetflow/go/redisstore"
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

var (
	notPendingText = regexp.MustCompile(`^hatchetflow: signature "([^"]+)" is not pending: it is ([a-z]+)(?: \(run ([^)]+)\))?`)
	notFoundText   = regexp.MustCompile(`^hatchetflow: (callback )?signature "([^"]+)" not found`)
)

// parseRefusal rebuilds the typed error of a run that hatchetflow refused from the
// error text the engine kept, or returns nil.
// suspendedText matches a [SuspendedError]'s text.
var suspendedText = regexp.MustCompile(`signature "([0-9a-f-]{36})" is suspended: run held for Resume`)

func parseRefusal(msg string) error {
	if m := notPendingText.FindStringSubmatch(msg); m != nil {
		return &NotPendingError{ID: m[1], Status: Status(m[2]), RunID: m[3]}
	}
	if m := suspendedText.FindStringSubmatch(msg); m != nil {
		return &SuspendedError{ID: m[1]}
	}
	if m := notFoundText.FindStringSubmatch(msg); m != nil {
		return &SignatureNotFoundError{ID: m[2], Callback: m[1] != "", Err: &redisstore.NotFoundError{ID: m[2]}}
	}
	return nil
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
