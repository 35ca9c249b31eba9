package inspectui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/redisstore"
)

// PreviewLen is the longest input or result preview the list carries, in runes.
const PreviewLen = 120

// Record is what the inspector shows of one stored record beyond a
// hatchetflow.Summary or Node: GET /api/record/{id} answers one.
type Record struct {
	// ID is the record id; Kind "signature", "chain" or "swarm".
	ID, Kind string
	// Input is the message its run was dispatched with, before its bound kwargs were
	// merged over it (null until dispatched; a chain's first step carries the chain's).
	Input json.RawMessage `json:",omitempty"`
	// Kwargs are the bound kwargs; Result the return value once done; Error the
	// failure message.
	Kwargs map[string]any  `json:",omitempty"`
	Result json.RawMessage `json:",omitempty"`
	Error  string          `json:",omitempty"`
	// RunID is the engine run that owns it once started; Attempt its latest attempt.
	RunID   string `json:",omitempty"`
	Attempt int    `json:",omitempty"`
}

// InputPreview is what r ran with on one line: its input with the bound kwargs merged
// over it (kwargs win, as when the task runs), as "k=v, k2=v2" in key order, cut to
// [PreviewLen] runes; "" when neither is known.
func (r *Record) InputPreview() string {
	merged := map[string]any{}
	var in any
	if len(r.Input) > 0 && json.Unmarshal(r.Input, &in) == nil {
		if m, ok := in.(map[string]any); ok {
			for k, v := range m {
				merged[k] = v
			}
		} else if in != nil && len(r.Kwargs) == 0 {
			return clipRunes(compactJSON(r.Input), PreviewLen)
		}
	}
	for k, v := range r.Kwargs {
		merged[k] = v
	}
	return clipRunes(kwargsText(merged), PreviewLen)
}

// ResultPreview is r's result as compact JSON cut to [PreviewLen] runes ("" for
// none).
func (r *Record) ResultPreview() string {
	if len(r.Result) == 0 || string(r.Result) == "null" {
		return ""
	}
	return clipRunes(compactJSON(r.Result), PreviewLen)
}

// kwargsText is m as "k=v, k2=v2", keys sorted, values as compact JSON.
func kwargsText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		v, err := json.Marshal(m[k])
		if err != nil {
			v = []byte("?")
		}
		b.WriteString(k + "=" + string(v))
		if b.Len() > 4*PreviewLen {
			break // clipped anyway
		}
	}
	return b.String()
}

func compactJSON(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// clipRunes cuts s to n runes, the last one an ellipsis when it was longer.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// withPreviews adds the input and result previews of page's records (one Records
// read). Previews are a convenience: when the read fails they are left out and the
// page is still served.
func (s *Server) withPreviews(ctx context.Context, page *Page) {
	ids := make([]string, len(page.Entries))
	for i, e := range page.Entries {
		ids[i] = e.ID
	}
	if len(ids) == 0 {
		return
	}
	recs, err := s.backend.Records(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("hatchetflow ui: list previews", "err", err)
		}
		return
	}
	for i := range page.Entries {
		if r := recs[page.Entries[i].ID]; r != nil {
			page.Entries[i].Input = r.InputPreview()
			page.Entries[i].Result = r.ResultPreview()
		}
	}
}

// handleRecord serves GET /api/record/{id}.
func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	if rec, ok := s.pathRecord(ctx, w, r); ok {
		writeJSON(w, http.StatusOK, rec)
	}
}

// pathRecord reads the record the request's {id} names; when it cannot (a malformed
// id, a read error, no such record) it answers the request with the error and ok is
// false.
func (s *Server) pathRecord(ctx context.Context, w http.ResponseWriter, r *http.Request) (rec *Record, ok bool) {
	id := r.PathValue("id")
	if err := checkID(id); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	recs, err := s.backend.Records(ctx, []string{id})
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	if rec = recs[id]; rec == nil {
		s.fail(w, r, notFound(id))
		return nil, false
	}
	return rec, true
}

func notFound(id string) error { return &hatchetflow.SignatureNotFoundError{ID: id} }

// checkID refuses what is not a record id (a UUID) with a 400.
func checkID(id string) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", hatchetflow.ErrInvalidSignatureID, id)
	}
	return nil
}
