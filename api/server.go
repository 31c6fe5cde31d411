package api

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/gatehouse/gatehouse/directory"
)

// DefaultMaxBodyBytes bounds request bodies when Config leaves it unset. A
// SCIM Bulk request of a thousand operations fits well within it.
const DefaultMaxBodyBytes = 4 << 20

// Config is what a Server needs. Store is required.
type Config struct {
	Store        *directory.Store
	Logger       *slog.Logger // nil discards logs
	MaxBodyBytes int64        // zero means DefaultMaxBodyBytes
}

// Server answers Gatehouse's HTTP API. It is an http.Handler; cmd/gatehouse
// wraps it in an http.Server with timeouts.
type Server struct {
	store   *directory.Store
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	metrics *metrics
	handler http.Handler
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{
		store:   cfg.Store,
		log:     cfg.Logger,
		maxBody: cfg.MaxBodyBytes,
		mux:     http.NewServeMux(),
		metrics: newMetrics(),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.routeHealth()
	s.mux.Handle("/", s.notFound())
	s.handler = s.observe(s.mux)
	return s
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// notFound answers paths no route matches in the API's error shape rather
// than the mux's plain text.
func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = ""
		writeError(w, r, directory.Errorf(directory.NotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}
