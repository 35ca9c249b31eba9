package mcpserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// Error codes: the Code of every tool error, stable across releases.
const (
	// CodeNotFound: no stored signature, chain or swarm has the id (never saved,
	// expired or deleted).
	CodeNotFound = "not_found"
	// CodeInvalidArgument: a malformed id, filter, cursor, time or kwargs; kwargs that
	// do not fit the task; an id of the wrong kind (a signature's for a container tool);
	// arguments that do not match the tool's input schema.
	CodeInvalidArgument = "invalid_argument"
	// CodeNotRetryable: retry refused what did not fail (pending, running, done,
	// suspended), a swarm's item, or a cancelled swarm; RetryID may name the node to
	// retry instead.
	CodeNotRetryable = "not_retryable"
	// CodeConflict: a refused transition (cancel or suspend what ended, suspend a
	// plain task's run in flight); Status says what it is now.
	CodeConflict = "conflict"
	// CodeUnavailable: Redis or the engine could not be reached or failed, or the
	// engine is not configured (get_logs without HATCHET_CLIENT_*).
	CodeUnavailable = "unavailable"
	// CodeTimeout: the call took longer than the server's per-call timeout.
	CodeTimeout = "timeout"
	// CodeInternal: anything else.
	CodeInternal = "internal"
)

// ToolError is a tool call's error: the result has IsError set, its text content is
// "code: message", and its structured content is this value as JSON.
type ToolError struct {
	// Code is one of the Code constants.
	Code string `json:"code" jsonschema:"stable error code: not_found, invalid_argument, not_retryable, conflict, unavailable, timeout or internal"`
	// Message is the error text.
	Message string `json:"message"`
	// ID is the id the call was about, when there is one.
	ID string `json:"id,omitempty"`
	// Status is the node's status for conflict and not_retryable.
	Status string `json:"status,omitempty"`
	// RetryID names the node to retry when a retry of ID was refused because its
	// flow failed further down (a done root whose callback failed).
	RetryID string `json:"retry_id,omitempty"`

	err error
}

// Error implements error: "code: message".
func (e *ToolError) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the error the ToolError was made of.
func (e *ToolError) Unwrap() error { return e.err }

// invalid returns an invalid_argument error.
func invalid(format string, a ...any) *ToolError {
	return &ToolError{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, a...)}
}

// toolError maps err, from a call about id, to a [*ToolError].
func toolError(id string, err error) *ToolError {
	var te *ToolError
	if errors.As(err, &te) {
		if te.ID == "" {
			te.ID = id
		}
		return te
	}
	e := &ToolError{Code: codeOf(err), Message: err.Error(), ID: id, err: err}
	var np *hatchetflow.NotPendingError
	var nr *hatchetflow.NotRetryableError
	switch {
	case errors.As(err, &np):
		e.Status = string(np.Status)
	case errors.As(err, &nr):
		e.Status = string(nr.Status)
	}
	return e
}

// codeOf is the code of a hatchetflow error.
func codeOf(err error) string {
	var nf *hatchetflow.SignatureNotFoundError
	var ec *hatchetflow.EngineCancelError
	var de *hatchetflow.DispatchError
	switch {
	case errors.As(err, &nf), errors.Is(err, hatchetflow.ErrSignatureNotFound):
		return CodeNotFound
	case errors.Is(err, hatchetflow.ErrNotRetryable):
		return CodeNotRetryable
	case errors.Is(err, hatchetflow.ErrInvalidSignatureID), errors.Is(err, hatchetflow.ErrInvalidListOptions),
		errors.Is(err, inject.ErrValidation), errors.Is(err, hatchetflow.ErrKwargsTooLarge),
		errors.Is(err, hatchetflow.ErrUnsupportedOption), errors.Is(err, hatchetflow.ErrNotAChain),
		errors.Is(err, hatchetflow.ErrNotASwarm), errors.Is(err, hatchetflow.ErrNotASignature):
		return CodeInvalidArgument
	case errors.Is(err, hatchetflow.ErrNotPending), errors.Is(err, redisstore.ErrTransition),
		errors.Is(err, hatchetflow.ErrPlainRunInFlight), errors.Is(err, hatchetflow.ErrSwarmClosed):
		return CodeConflict
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case errors.Is(err, redisstore.ErrUnavailable), errors.As(err, &ec), errors.As(err, &de):
		return CodeUnavailable
	}
	return CodeInternal
}

// structuredErrors is the server's receiving middleware that gives every failed
// tools/call its structured content: the [*ToolError] the handler returned (the SDK
// keeps it on the result, see mcp.CallToolResult.GetError), or, for arguments the
// SDK refused against the input schema, an invalid_argument error.
func structuredErrors(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*mcp.CallToolResult)
		if err != nil || !ok || r == nil || !r.IsError || r.StructuredContent != nil {
			return res, err
		}
		var te *ToolError
		if !errors.As(r.GetError(), &te) {
			msg := "invalid arguments"
			if e := r.GetError(); e != nil {
				msg = e.Error()
			}
			te = &ToolError{Code: CodeInvalidArgument, Message: msg}
			r.Content = []mcp.Content{&mcp.TextContent{Text: te.Error()}}
		}
		r.StructuredContent = te
		return r, nil
	}
}
