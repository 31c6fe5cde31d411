package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/directory"
)

// recorder remembers the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe is the outermost middleware: it assigns the request id, limits the
// body, recovers from panics, and writes the log line and metrics once the
// inner handler is done.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		ctx := newContextWithRequestID(r.Context(), id)
		ctx = directory.NewContextWithRequest(ctx, directory.Request{ID: id, SourceIP: sourceIP(r)})
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)

		rec := &recorder{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "handler panicked", slog.String("request_id", id), slog.Any("panic", p))
				if rec.status == 0 {
					writeError(rec, r, directory.Errorf(directory.Internal, "internal error"))
				}
			}
			s.record(r, rec, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// record writes the request's log line and metrics. The route is the
// pattern the mux matched, so paths full of ids do not explode the metrics.
func (s *Server) record(r *http.Request, rec *recorder, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(took.Seconds())
	level := slog.LevelInfo
	if quietRoutes[route] && status < 400 {
		level = slog.LevelDebug // probes, scrapes and checks would drown everything else
	}
	s.log.LogAttrs(r.Context(), level, "request",
		slog.String("request_id", requestIDFromContext(r.Context())),
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("remote", sourceIP(r)))
}

// quietRoutes are logged at debug level when they succeed: they are called
// thousands of times a second, and metrics count them.
var quietRoutes = map[string]bool{
	healthRoute:  true,
	readyRoute:   true,
	metricsRoute: true,
	checkRoute:   true,
}

type requestIDKey struct{}

func newContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDFromContext returns the id the request was given, or "".
func requestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID returns the caller's X-Request-Id when it is safe to echo into
// logs and headers, and a fresh random id otherwise.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); safeRequestID(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

func safeRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// sourceIP is the address of the client that sent the request: the TCP
// peer, or the client a trusted proxy named (TrustProxies rewrites
// RemoteAddr before the request gets here). X-Forwarded-For is never read
// here: any client can write it.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
