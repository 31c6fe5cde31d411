package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/directory"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[directory.Code]int{
	directory.Invalid:            http.StatusBadRequest,
	directory.Unauthorized:       http.StatusUnauthorized,
	directory.Forbidden:          http.StatusForbidden,
	directory.NotFound:           http.StatusNotFound,
	directory.Conflict:           http.StatusConflict,
	directory.PreconditionFailed: http.StatusPreconditionFailed,
	directory.Unavailable:        http.StatusServiceUnavailable,
	directory.Internal:           http.StatusInternalServerError,
}

// errorBody is the JSON shape of every failed management API request.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// classify returns the status, code and client-safe message for err.
func classify(err error) (int, string, string) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than the server accepts"
	}
	code := directory.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, directory.Internal
	}
	return status, string(code), directory.ErrorMessage(err)
}

// writeError answers a request with err in the API's error shape and returns
// the status written.
func writeError(w http.ResponseWriter, r *http.Request, err error) int {
	status, code, msg := classify(err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: errorDetail{
		Code:      code,
		Message:   msg,
		RequestID: requestIDFromContext(r.Context()),
	}})
	return status
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}
