package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

var (
	// ErrNotFound is matched by [*NotFoundError]: the signature does not exist (never
	// saved, expired or deleted). It is flowtype.ErrSignatureNotFound.
	ErrNotFound = flowtype.ErrSignatureNotFound
	// ErrTransition is matched by every refused status change ([*TransitionError],
	// [*NotPendingError], [*ContainedError]). It is flowtype.ErrTransition.
	ErrTransition = flowtype.ErrTransition
	// ErrSwarmClosed is returned when adding items to a closed swarm.
	ErrSwarmClosed = flowtype.ErrSwarmClosed
	// ErrUnavailable is matched by errors from an operation that could not reach
	// Redis (connection refused or lost, pool timeout, closed client). Nothing was
	// changed, or a transition may or may not have applied: retrying is safe, every
	// operation of the store is idempotent for its caller.
	ErrUnavailable = errors.New("redisstore: redis unavailable")
)

// NotFoundError names the signature that was not found (flowtype's type: the user
// API returns it as it is).
type NotFoundError = flowtype.SignatureNotFoundError

// TransitionError reports a refused status change.
type TransitionError struct {
	// ID is the signature id.
	ID string
	// From is the status the signature had.
	From flowtype.Status
	// To is the status that was asked for.
	To flowtype.Status
	// RunID is the run that asked; OwnerRunID is the run the signature belongs to.
	RunID, OwnerRunID string
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("redisstore: signature %q: %s→%s refused for run %q (owner run %q)",
		e.ID, e.From, e.To, e.RunID, e.OwnerRunID)
}

// Is reports whether target is [ErrTransition].
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// NotPendingError reports a change refused because the signature is no longer
// pending (flowtype's type). It matches [ErrTransition].
type NotPendingError = flowtype.NotPendingError

// ContainedError reports a signature that is already a step of a chain: a signature
// belongs to one chain (flowtype's type). It matches [ErrTransition].
type ContainedError = flowtype.AlreadyInChainError

// ErrTooLarge is matched by [*SizeError].
var ErrTooLarge = errors.New("redisstore: value too large")

// SizeError reports kwargs that would grow past a size limit.
type SizeError struct {
	// ID is the signature id; Size and Limit are in bytes.
	ID          string
	Size, Limit int
}

// Error implements error.
func (e *SizeError) Error() string {
	return fmt.Sprintf("redisstore: kwargs of %q would be %d bytes, over the %d-byte limit", e.ID, e.Size, e.Limit)
}

// Is reports whether target is [ErrTooLarge].
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// OpError is the error of a store operation that Redis refused or could not serve.
type OpError struct {
	// Op names the operation, e.g. `start "0190..."`.
	Op string
	// Err is go-redis's error.
	Err error
}

// Error implements error.
func (e *OpError) Error() string { return "redisstore: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrUnavailable] and the cause is a connection
// problem rather than an error Redis answered with.
func (e *OpError) Is(target error) bool {
	if target != ErrUnavailable {
		return false
	}
	var ne net.Error
	return errors.As(e.Err, &ne) || errors.Is(e.Err, io.EOF) || errors.Is(e.Err, io.ErrUnexpectedEOF) ||
		errors.Is(e.Err, redis.ErrClosed) || errors.Is(e.Err, redis.ErrPoolTimeout) ||
		errors.Is(e.Err, context.DeadlineExceeded)
}

func opError(op string, err error) error { return &OpError{Op: op, Err: err} }

// SwarmFullError is returned when adding items would take a swarm past its MaxItems
// (flowtype's type).
type SwarmFullError = flowtype.SwarmFullError

// SwarmMovedError is returned by [Store.SwarmAdd] when the swarm holds another number
// of items than the caller compiled its items for (a concurrent add).
type SwarmMovedError struct {
	ID          string
	Items, Want int
}

// Error implements error.
func (e *SwarmMovedError) Error() string {
	return fmt.Sprintf("redisstore: swarm %q holds %d items, not %d", e.ID, e.Items, e.Want)
}

// ErrReplication is matched by [*ReplicationError]: with [WithReplicaAcks], a write
// applied on the master but fewer replicas than wanted acknowledged it in time.
var ErrReplication = errors.New("redisstore: write not acknowledged by enough replicas")

// ReplicationError reports a write that the master applied but that fewer replicas
// than [WithReplicaAcks] asks for acknowledged within its timeout: a failover now
// could promote a replica without it, and the write would be lost. Its outcome is
// unknown in the way a lost reply's is: every transition of the store is safe to
// retry (a retry that finds its work done waits for the replicas again).
type ReplicationError struct {
	// Wanted and Acked are replica counts; Timeout is how long the write waited.
	Wanted, Acked int
	Timeout       time.Duration
}

// Error implements error.
func (e *ReplicationError) Error() string {
	return fmt.Sprintf("the write reached %d of %d replicas within %v: a failover now could lose it", e.Acked, e.Wanted, e.Timeout)
}

// Is reports whether target is [ErrReplication].
func (e *ReplicationError) Is(target error) bool { return target == ErrReplication }
