package saml

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// refusal is a sign-in Gatehouse refuses. The browser gets the category,
// which names the kind of failure and nothing that helps an attacker
// tune a forgery; the audit event gets the precise reason; the log gets
// the cause as well.
type refusal struct {
	status   int    // 400, or 413 for a body too large
	category string // shown to the browser
	reason   string // recorded in the audit event
	name     string // the user a verified response named, when known
	err      error  // the underlying cause, for the log
}

func (e *refusal) Error() string { return e.reason }

func (e *refusal) Unwrap() error { return e.err }

// What the browser is told.
const (
	msgMalformed  = "The sign-in response is not an acceptable SAML response."
	msgUnverified = "The sign-in response could not be verified."
	msgTime       = "The sign-in response is outside its validity period. Sign in again."
	msgRequest    = "This sign-in was not started here, or it was used already. Sign in again."
	msgNotAllowed = "Your account may not sign in to this organization."
	msgIdPRefused = "The identity provider did not sign you in."
	msgNotSetUp   = "Single sign-on with SAML is not set up for this organization."
	msgTooLarge   = "The sign-in response is too large."
	msgInternal   = "Something went wrong on our side. Try again later."
)

func refuse(category, format string, args ...any) *refusal {
	return &refusal{status: http.StatusBadRequest, category: category, reason: fmt.Sprintf(format, args...)}
}

// asRefusal returns err as a refusal; an error that is none is an
// internal failure, whose details stay in the log.
func asRefusal(err error) *refusal {
	var ref *refusal
	if errors.As(err, &ref) {
		return ref
	}
	return &refusal{status: http.StatusInternalServerError, category: msgInternal, reason: "internal error", err: err}
}

// refuse answers a refused sign-in: the status with its category, an
// audit event user-login-failed with the reason, and a log line.
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, org directory.Organization, err error) {
	ref := asRefusal(err)
	if ref.status == http.StatusInternalServerError {
		s.log.Error("SAML sign-in failed", "org", org.Name, "err", ref.err)
	} else {
		s.log.Info("SAML sign-in refused", "org", org.Name, "reason", ref.reason, "err", ref.err)
	}
	details := map[string]any{"reason": directory.CleanReason(ref.reason), "provider": "saml"}
	ctx := anonymous(r.Context())
	if err := s.cfg.Store.RecordEvent(ctx, org.ID, authz.ActionUserLoginFailed, "member", "", ref.name, details); err != nil {
		s.log.Error("record a refused SAML sign-in", "org", org.Name, "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(ref.status)
	_, _ = fmt.Fprintln(w, ref.category)
}

// anonymous makes the actor of ctx anonymous unless the caller named one:
// whoever posts to the ACS is nobody until the sign-in succeeds.
func anonymous(ctx context.Context) context.Context {
	if directory.ActorFromContext(ctx) == directory.SystemActor {
		return directory.NewContextWithActor(ctx, directory.Actor{Type: "anonymous"})
	}
	return ctx
}
