package inspectui

import (
	"crypto/rand"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DefaultPollInterval is how often an event stream polls the backend when
// Options.PollInterval is 0.
const DefaultPollInterval = 500 * time.Millisecond

// CSRFHeader is the request header that must carry the server's token on a POST.
const CSRFHeader = "X-Hatchetflow-CSRF"

// Options configure a [Server].
type Options struct {
	// AllowActions enables the cancel, suspend, resume and retry endpoints (and their
	// buttons). Default false: the inspector is read-only and refuses them with 403.
	AllowActions bool
	// PollInterval is how often event streams poll the backend; 0 means
	// [DefaultPollInterval].
	PollInterval time.Duration
	// Logger receives action and backend-error logs; nil means slog.Default().
	Logger *slog.Logger
	// AllowedHosts are the names the Host header may carry, each a host ("localhost",
	// "127.0.0.1", "::1": any port) or a host:port (that port only). Requests naming
	// any other host are refused with 403 (a DNS-rebinding guard). Nil means
	// [AllowedHostsFor]("") : the loopback names.
	AllowedHosts []string
	// Auth, when set, is required on every request (pages, assets, API, actions):
	// others get 401. `hatchetflow ui` reads it with [AuthFromEnv] and requires it
	// on an address that is not loopback.
	Auth Auth
	// RunURL is the address of a run's page in Hatchet's dashboard without the run
	// id, which the page appends ([RunURLFromEnv] makes one); "" shows no link.
	RunURL string
}

//go:embed static
var staticFiles embed.FS

// Server is the inspector: an http.Handler serving the page, its assets and its JSON
// and event-stream API over a [Backend]. Make one with [New].
type Server struct {
	backend Backend
	opts    Options
	log     *slog.Logger
	csrf    string
	hosts   map[string]bool
	auth    authorizer
	mux     *http.ServeMux
}

// New returns a Server over backend. Its CSRF token is random per Server.
func New(backend Backend, opts Options) *Server {
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.AllowedHosts == nil {
		opts.AllowedHosts = AllowedHostsFor("")
	}
	s := &Server{backend: backend, opts: opts, log: opts.Logger, csrf: rand.Text(), hosts: map[string]bool{}, auth: newAuthorizer(opts.Auth)}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, h := range opts.AllowedHosts {
		s.hosts[normalizeHost(h)] = true
	}
	s.routes()
	return s
}

// CSRFToken returns the token POSTs must carry in the [CSRFHeader] header (the page
// reads it from /api/config).
func (s *Server) CSRFToken() string { return s.csrf }

func (s *Server) routes() {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.handleIndex)
	m.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			writeError(w, http.StatusNotFound, "not found") // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	m.HandleFunc("GET /api/config", s.handleConfig)
	m.HandleFunc("GET /api/list", s.handleList)
	m.HandleFunc("GET /api/list/events", s.handleListEvents)
	m.HandleFunc("GET /api/tasks", s.handleTasks)
	m.HandleFunc("GET /api/tree/{id}", s.handleTree)
	m.HandleFunc("GET /api/tree/{id}/events", s.handleTreeEvents)
	m.HandleFunc("GET /api/flow/{id}", s.handleFlow)
	m.HandleFunc("GET /api/record/{id}", s.handleRecord)
	m.HandleFunc("GET /api/logs/{id}", s.handleLogs)
	for _, a := range Actions {
		m.HandleFunc("/api/tree/{id}/"+a, s.handleAction(a)) // any method: handleAction answers 405 in JSON
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.mux = m
}

// ServeHTTP implements http.Handler: it refuses hosts that are not allowed (403) and
// requests without the credentials of Options.Auth (401), sets the security headers,
// and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hostAllowed(r.Host) {
		writeError(w, http.StatusForbidden, "host "+quote(r.Host)+" is not allowed (hatchetflow ui --allow-host)")
		return
	}
	if !s.auth.allowed(r) {
		challenge(w)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	page, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"actions":    s.opts.AllowActions,
		"csrf":       s.csrf,
		"pollMillis": s.opts.PollInterval.Milliseconds(),
		"runURL":     s.opts.RunURL,
	})
}
