package inspectui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/hatchetflow"
)

// actionTimeout bounds one cancel, suspend, resume or retry (cancel and retry call the
// engine).
const actionTimeout = 30 * time.Second

// actionBody is the optional JSON body of the action endpoints.
type actionBody struct {
	// Silent and Reason are cancel's options; CancelRunning suspend's; Kwargs retry's
	// (merged over the retried signature's bound kwargs).
	Silent        bool           `json:"silent"`
	Reason        string         `json:"reason"`
	CancelRunning bool           `json:"cancelRunning"`
	Kwargs        map[string]any `json:"kwargs"`
}

// Actions are the action endpoints, POST /api/tree/{id}/<action>.
var Actions = []string{"cancel", "suspend", "resume", "retry"}

// handleAction serves POST /api/tree/{id}/<action>.
func (s *Server) handleAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, action+" takes POST")
			return
		}
		if why := s.checkWrite(r); why != "" {
			s.log.Warn("hatchetflow ui: refused "+action, "why", why, "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, why)
			return
		}
		var body actionBody
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: bad JSON body: %v", action, err))
			return
		}
		id := r.PathValue("id")
		ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
		defer cancel()
		var err error
		res := map[string]any{"ok": true, "action": action, "id": id}
		switch action {
		case "cancel":
			err = s.backend.Cancel(ctx, id, &hatchetflow.CancelOptions{Silent: body.Silent, Reason: body.Reason})
		case "suspend":
			err = s.backend.Suspend(ctx, id, &hatchetflow.SuspendOptions{CancelRunning: body.CancelRunning})
		case "resume":
			err = s.backend.Resume(ctx, id)
		case "retry":
			var h dsl.Handle
			if h, err = s.backend.Retry(ctx, id, &hatchetflow.RetryOptions{Kwargs: body.Kwargs}); err == nil && h != nil {
				res["runId"] = h.RunID()
			}
		default:
			err = fmt.Errorf("%w: unknown action %q", errBadQuery, action)
		}
		s.log.Info("hatchetflow ui: "+action, "id", id, "err", err)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}
