package inspectui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hatchetflow/go/hatchetflow"
)

// actionTimeout bounds one cancel, suspend or resume (cancel may call the engine).
const actionTimeout = 30 * time.Second

// actionBody is the optional JSON body of the action endpoints.
type actionBody struct {
	// Silent and Reason are cancel's options; CancelRunning suspend's.
	Silent        bool   `json:"silent"`
	Reason        string `json:"reason"`
	CancelRunning bool   `json:"cancelRunning"`
}

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
		switch action {
		case "cancel":
			err = s.backend.Cancel(ctx, id, &hatchetflow.CancelOptions{Silent: body.Silent, Reason: body.Reason})
		case "suspend":
			err = s.backend.Suspend(ctx, id, &hatchetflow.SuspendOptions{CancelRunning: body.CancelRunning})
		case "resume":
			err = s.backend.Resume(ctx, id)
		}
		s.log.Info("hatchetflow ui: "+action, "id", id, "err", err)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "action": action, "id": id})
	}
}
