package inspectui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// keepAlive is how often an idle event stream sends a comment, so that proxies keep
// it open and a gone client is noticed.
const keepAlive = 15 * time.Second

// problem is the data of a "problem" event: a backend error while streaming.
type problem struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// stream serves a server-sent event stream of event, whose data is what read returns
// as JSON: at once, then after each poll whose JSON differs from the last sent. A
// failing first read is answered as an ordinary JSON error (so a 404 stays a 404);
// later failures are sent as "problem" events, and the next good read is sent even
// when unchanged. It returns when the client goes away.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, event string, read func(context.Context) (any, error)) {
	ctx := r.Context()
	poll := func() ([]byte, error) {
		c, cancel := context.WithTimeout(ctx, readTimeout)
		defer cancel()
		v, err := read(c)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	last, err := poll()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(name string, data []byte) bool {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if _, err := fmt.Fprint(w, "retry: 2000\n"); err != nil || !send(event, last) {
		return
	}
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	idle := time.NewTicker(keepAlive)
	defer idle.Stop()
	var lastProblem []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-tick.C:
			b, err := poll()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				p, _ := json.Marshal(problem{Error: err.Error(), Status: statusOf(err)})
				if !bytes.Equal(p, lastProblem) {
					if !send("problem", p) {
						return
					}
					lastProblem, last = p, nil
				}
				continue
			}
			lastProblem = nil
			if bytes.Equal(b, last) {
				continue
			}
			if !send(event, b) {
				return
			}
			last = b
			idle.Reset(keepAlive)
		}
	}
}

func (s *Server) handleTreeEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.stream(w, r, "tree", func(ctx context.Context) (any, error) { return s.backend.Tree(ctx, id) })
}

func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.stream(w, r, "list", func(ctx context.Context) (any, error) { return s.listPage(ctx, o) })
}
