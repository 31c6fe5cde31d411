package scim

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/gatehouse/gatehouse/directory"
)

// errorSchema is the URI of the RFC 7644 error message.
const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// scimError returns a SCIM error with status, scimType (may be "") and a
// client-safe detail.
func scimError(status int, scimType scimerrors.ScimType, detail string) scimerrors.ScimError {
	return scimerrors.ScimError{Status: status, ScimType: scimType, Detail: detail}
}

func invalidValue(detail string) scimerrors.ScimError {
	return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, detail)
}

func invalidSyntax(detail string) scimerrors.ScimError {
	return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, detail)
}

func invalidFilter(detail string) scimerrors.ScimError {
	return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidFilter, detail)
}

func invalidPath(detail string) scimerrors.ScimError {
	return scimError(http.StatusBadRequest, scimerrors.ScimTypeInvalidPath, detail)
}

func notFound(detail string) scimerrors.ScimError {
	return scimError(http.StatusNotFound, "", detail)
}

// internalError is what a client sees of a failure that is not its own.
var internalError = scimError(http.StatusInternalServerError, "", "internal error")

// tooLarge is the answer to a body over the limit.
var tooLarge = scimError(http.StatusRequestEntityTooLarge, "", "the request body is larger than the server accepts")

// statusOf maps the directory's error codes to SCIM answers. Conflicts are
// uniqueness violations: the store reports a taken userName (in any letter
// case) that way.
var statusOf = map[directory.Code]scimerrors.ScimError{
	directory.Invalid:            invalidValue(""),
	directory.NotFound:           notFound(""),
	directory.Conflict:           scimError(http.StatusConflict, scimerrors.ScimTypeUniqueness, ""),
	directory.PreconditionFailed: scimError(http.StatusPreconditionFailed, "", ""),
	directory.Unauthorized:       scimError(http.StatusUnauthorized, "", ""),
	directory.Forbidden:          scimError(http.StatusForbidden, "", ""),
	directory.Unavailable:        scimError(http.StatusServiceUnavailable, "", ""),
}

// asSCIM converts any error to the SCIM error a client may see. SCIM errors
// pass through; directory errors keep their client-safe message; anything
// else, and internal directory errors, become a bare 500 and are logged.
func (s *Service) asSCIM(r *http.Request, err error) scimerrors.ScimError {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se
	}
	var sp *scimerrors.ScimError
	if errors.As(err, &sp) && sp != nil {
		return *sp
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge
	}
	if out, ok := statusOf[directory.ErrorCode(err)]; ok {
		out.Detail = directory.ErrorMessage(err)
		if c := callFrom(r.Context()); c != nil {
			c.failed = &out
		}
		if out.Status == http.StatusServiceUnavailable {
			s.log.WarnContext(r.Context(), "SCIM request failed; the client may retry", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		return out
	}
	s.log.ErrorContext(r.Context(), "SCIM request failed", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Any("error", err))
	return internalError
}

// WriteError answers with a SCIM error message (RFC 7644 §3.12): status,
// scimType (may be empty) and detail.
func WriteError(w http.ResponseWriter, status int, scimType, detail string) {
	writeError(w, scimError(status, scimerrors.ScimType(scimType), detail))
}

func writeError(w http.ResponseWriter, e scimerrors.ScimError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-scim"`)
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status, errorBody(e))
}

// errorBody is the RFC form of e; the library's own encoding is the same,
// but spelled out here so that every error Gatehouse sends has one shape.
func errorBody(e scimerrors.ScimError) map[string]any {
	body := map[string]any{"schemas": []string{errorSchema}, "status": strconv.Itoa(e.Status)}
	if e.ScimType != "" {
		body["scimType"] = string(e.ScimType)
	}
	if e.Detail != "" {
		body["detail"] = e.Detail
	}
	return body
}

// writeJSON answers status with v as application/scim+json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		status, raw = http.StatusInternalServerError, []byte(internalErrorBody)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(raw) // the client went away; nothing left to tell it
}

// internalErrorBody answers what cannot be encoded.
const internalErrorBody = `{"schemas":["` + errorSchema + `"],"status":"500","detail":"internal error"}`

// contentType is the media type of every SCIM answer (RFC 7644 §3.1).
const contentType = "application/scim+json"
