package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/migrations"
)

const (
	healthRoute  = "GET /healthz"
	readyRoute   = "GET /readyz"
	metricsRoute = "GET /metrics"
)

func (s *Server) routeHealth() {
	s.handle(healthRoute, s.healthz)
	s.handle(readyRoute, s.readyz)
	s.mount(metricsRoute, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}

// healthz reports that the process is up and serving.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readiness is the body of /readyz.
type readiness struct {
	Status     string `json:"status"`
	Database   string `json:"database"`
	Migrations string `json:"migrations"`
}

// readyz reports whether this replica can serve: the database answers and
// holds every migration this binary knows. A load balancer should send no
// traffic to a replica that is not ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := readiness{Status: "ready", Database: "ok", Migrations: "current"}
	if err := s.store.Ping(ctx); err != nil {
		body = readiness{Status: "not ready", Database: "unreachable", Migrations: "unknown"}
	} else if ok, err := migrations.Current(ctx, s.store.DB().DB, string(s.store.Dialect())); err != nil {
		body.Status, body.Migrations = "not ready", "unknown"
	} else if !ok {
		body.Status, body.Migrations = "not ready", "pending"
	}
	status := http.StatusOK
	if body.Status != "ready" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, body)
	return nil
}
