package api

import (
	"log/slog"
	"net/http"
)

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h under pattern, turning a returned error into the API's
// error answer. Internal errors are logged with their cause.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if status := writeError(w, r, err); status >= 500 {
			s.log.ErrorContext(r.Context(), "request failed",
				slog.String("request_id", requestIDFromContext(r.Context())),
				slog.String("route", r.Pattern),
				slog.Any("error", err))
		}
	}))
}
