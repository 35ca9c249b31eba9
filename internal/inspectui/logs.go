package inspectui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// LogLimit is how many log lines [Backend.Logs] returns at most: the latest ones.
const LogLimit = 1000

// logsTimeout bounds one logs read (the engine's REST API).
const logsTimeout = 20 * time.Second

// ErrLogsUnavailable is matched by [Backend.Logs]'s error when the backend has no
// way to the engine's logs (`hatchetflow ui` without the HATCHET_CLIENT_*
// configuration). GET /api/logs/{id} answers it with 503.
var ErrLogsUnavailable = errors.New("run logs are unavailable: the inspector has no Hatchet client (set HATCHET_CLIENT_TOKEN and the other HATCHET_CLIENT_* variables)")

// LogsError is [Backend.Logs]'s error when the engine did not answer the logs of a
// run (GET /api/logs/{id} answers 502).
type LogsError struct {
	// RunID is the run whose logs were asked for; Err what went wrong.
	RunID string
	Err   error
}

func (e *LogsError) Error() string { return fmt.Sprintf("read the logs of run %s: %v", e.RunID, e.Err) }

// Unwrap returns the cause.
func (e *LogsError) Unwrap() error { return e.Err }

// LogLine is one line a task run logged (hatchet.Context's Log), as Hatchet keeps it.
type LogLine struct {
	// Time is when it was logged; Level "DEBUG", "INFO", "WARN" or "ERROR" ("" when
	// Hatchet did not say); Message the line.
	Time    time.Time
	Level   string `json:",omitempty"`
	Message string
	// Task is the display name of the task run that logged it; Attempt its attempt.
	Task    string `json:",omitempty"`
	Attempt int    `json:",omitempty"`
}

// RunLogs are the log lines of a record's engine run: the answer of
// GET /api/logs/{id}.
type RunLogs struct {
	// ID is the record's id; RunID its run's ("" before it started, or for a chain,
	// which runs as its steps: then there are no lines).
	ID    string `json:",omitempty"`
	RunID string
	// Lines are the run's log lines, oldest first.
	Lines []LogLine
	// Truncated is true when the run logged more than [LogLimit] lines: Lines are the
	// latest of them.
	Truncated bool `json:",omitempty"`
}

// handleLogs serves GET /api/logs/{id}: the Hatchet logs of the run that owns the
// record id, read by the run id stored on the record (never one the client names).
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), logsTimeout)
	defer cancel()
	rec, ok := s.pathRecord(ctx, w, r)
	if !ok {
		return
	}
	out := &RunLogs{ID: r.PathValue("id"), RunID: rec.RunID, Lines: []LogLine{}}
	if rec.RunID != "" {
		logs, err := s.backend.Logs(ctx, rec.RunID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if logs != nil && logs.Lines != nil {
			out.Lines, out.Truncated = logs.Lines, logs.Truncated
		}
	}
	writeJSON(w, http.StatusOK, out)
}
