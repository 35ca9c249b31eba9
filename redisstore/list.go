package redisstore

import (
	"context"
	"errors"
	"time"
)

// ListQuery selects records for [Store.List]. Filters combine (AND).
type ListQuery struct {
	// Status, Task: "" for any. RootsOnly keeps tops of trees.
	Status    Status
	Task      string
	RootsOnly bool
	// Since (inclusive) and Until (exclusive) bound the creation time; zero is open.
	Since, Until time.Time
	// Limit is the page size (> 0).
	Limit int
	// After continues a listing: only ids older than After.
	After string
}

// ListPage is one page of [Store.List].
type ListPage struct {
	// Records are the matching records, newest first.
	Records []*Record
	// Roots says which of them are tops of trees.
	Roots map[string]bool
	// Next is the cursor of the next page, "" on the last.
	Next string
}

// KnownStatus reports whether s is one of the statuses a record can have.
func KnownStatus(s Status) bool {
	switch s {
	case StatusPending, StatusActive, StatusDone, StatusFailed, StatusCancelled, StatusSuspended:
		return true
	}
	return false
}

// List is not written yet.
func (s *Store) List(ctx context.Context, q ListQuery) (*ListPage, error) {
	return nil, errors.New("redisstore: List: not built yet")
}

// Tasks is not written yet.
func (s *Store) Tasks(ctx context.Context) ([]TaskDef, map[string]int64, error) {
	return nil, nil, errors.New("redisstore: Tasks: not built yet")
}
