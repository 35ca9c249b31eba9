package dsl

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultEventTimeout is how long a signature waits for its event ([Builder.After])
// when [EventWait.Timeout] is not called. A timeout must stay under half the client's
// active TTL (hatchetflow.WithActiveTTL, 24 h by default): the signature and its
// callbacks must outlive the wait and the run.
const DefaultEventTimeout = time.Hour

// maxEventPart bounds the length in bytes of an event's name and of its key.
const maxEventPart = 255

// EventWait names an outside event: a signature given it with [Builder.After] (or a
// chain, [ChainBuilder.After]) does not run when it is run, but waits until the event
// named name is signalled for key (hatchetflow.Client.Signal, or any Hatchet event
// push of name with scope key), then runs with the signal's payload in its message.
// If no signal comes within the timeout, the signature fails through its error path.
// Start one with [Event]. It is a value: Timeout returns a copy.
type EventWait struct {
	name, key  string
	timeout    time.Duration
	timeoutSet bool
}

// Event names the event name signalled for key: for example
// dsl.Event("order-approved", orderID). Both must be non-empty; see [EventWait.Err].
func Event(name, key string) EventWait {
	return EventWait{name: name, key: key}
}

// Timeout sets how long to wait for the signal, counted from the moment the wait
// starts (when the signature is run, or, for a callback or a later chain step, when it
// is dispatched). Default [DefaultEventTimeout]; d must be positive.
func (e EventWait) Timeout(d time.Duration) EventWait {
	e.timeout, e.timeoutSet = d, true
	return e
}

// Name returns the event's name.
func (e EventWait) Name() string { return e.name }

// Key returns the key that tells apart the waits on one event name (an order id, an
// approval request id).
func (e EventWait) Key() string { return e.key }

// TimeoutDuration returns the timeout set with Timeout, or [DefaultEventTimeout].
func (e EventWait) TimeoutDuration() time.Duration {
	if !e.timeoutSet {
		return DefaultEventTimeout
	}
	return e.timeout
}

// Err reports an event that cannot be waited for: an empty name or key, one longer
// than 255 bytes, not valid UTF-8 or holding control characters, or a timeout that is
// not positive. It is an [*EventError].
func (e EventWait) Err() error {
	for _, part := range []struct{ field, v string }{{"name", e.name}, {"key", e.key}} {
		if reason := badEventPart(part.v); reason != "" {
			return &EventError{Name: e.name, Key: e.key, Field: part.field, Reason: reason}
		}
	}
	if e.timeoutSet && e.timeout <= 0 {
		return &EventError{Name: e.name, Key: e.key, Field: "timeout", Reason: "must be positive, got " + e.timeout.String()}
	}
	return nil
}

// badEventPart says what is wrong with an event's name or key, or "".
func badEventPart(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > maxEventPart:
		return "is longer than 255 bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "holds a control character"
		}
	}
	return ""
}
