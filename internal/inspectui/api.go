package inspectui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/inject"
)

// readTimeout bounds one backend read.
const readTimeout = 15 * time.Second

// errBadQuery is wrapped by the errors of malformed query parameters (400).
var errBadQuery = errors.New("bad query")

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response: `+jsonEscape(err.Error())+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// statusOf maps a backend error to an HTTP status.
func statusOf(err error) int {
	var nf *hatchetflow.SignatureNotFoundError
	var ec *hatchetflow.EngineCancelError
	var le *LogsError
	switch {
	case errors.Is(err, ErrLogsUnavailable):
		return http.StatusServiceUnavailable
	case errors.As(err, &nf), errors.Is(err, hatchetflow.ErrSignatureNotFound):
		return http.StatusNotFound
	case errors.Is(err, errBadQuery), errors.Is(err, hatchetflow.ErrInvalidListOptions),
		errors.Is(err, hatchetflow.ErrInvalidSignatureID), errors.Is(err, hatchetflow.ErrUnsupportedOption),
		errors.Is(err, inject.ErrValidation), errors.Is(err, hatchetflow.ErrKwargsTooLarge):
		return http.StatusBadRequest
	case errors.As(err, &ec), errors.As(err, &le):
		return http.StatusBadGateway
	case errors.Is(err, hatchetflow.ErrNotPending), errors.Is(err, hatchetflow.ErrNotRetryable):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// fail writes err as a JSON error, logging the unexpected ones.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code >= 500 {
		s.log.Warn("hatchetflow ui: backend error", "path", r.URL.Path, "err", err)
	}
	writeError(w, code, err.Error())
}

// listOptions parses the query of /api/list (and /api/list/events).
func listOptions(q url.Values) (*hatchetflow.ListOptions, error) {
	o := &hatchetflow.ListOptions{Status: hatchetflow.Status(q.Get("status")), Task: q.Get("task"), Cursor: q.Get("cursor")}
	switch q.Get("roots") {
	case "", "0", "false", "off":
	case "1", "true", "on":
		o.RootsOnly = true
	default:
		return nil, fmt.Errorf("%w: roots=%q (want 1 or 0)", errBadQuery, q.Get("roots"))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%w: limit=%q is not a number", errBadQuery, v)
		}
		o.Limit = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &o.Since}, {"until", &o.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, fmt.Errorf("%w: %s=%q is not an RFC 3339 time", errBadQuery, p.name, v)
			}
			*p.dst = t
		}
	}
	return o, nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	page, err := s.listPage(ctx, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// listPage reads one page, the rolled-up status of its roots' flows and the input and
// result previews of its records.
func (s *Server) listPage(ctx context.Context, o *hatchetflow.ListOptions) (*Page, error) {
	page, err := s.backend.List(ctx, o)
	if err != nil {
		return nil, err
	}
	out, err := WithFlows(ctx, page, s.backend.FlowStatus)
	if err != nil {
		return nil, err
	}
	s.withPreviews(ctx, out)
	return out, nil
}

// handleFlow serves GET /api/flow/{id}: the rolled-up status of the flow rooted at id.
func (s *Server) handleFlow(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	st, err := s.backend.FlowStatus(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewFlowSummary(st))
}

func (s *Server) handleTasks(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	tasks, err := s.backend.Tasks(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if tasks == nil {
		tasks = []hatchetflow.TaskInfo{}
	}
	writeJSON(w, http.StatusOK, tasks)
}

func (s *Server) handleTree(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	root, err := s.backend.Tree(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, root)
}
