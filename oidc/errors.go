package oidc

import "fmt"

// Error is a token the verifier refuses. Reason is short, stable and safe
// to send back as the error_description of an RFC 6749 invalid_grant; it
// never holds the token. Err, when set, is the underlying cause, for the
// log.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "oidc: " + e.Reason + ": " + e.Err.Error()
	}
	return "oidc: " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// The reasons of Error, other than those that carry a number or a cause.
const (
	ReasonMalformed      = "malformed token"
	ReasonUnknownKey     = "unknown signing key"
	ReasonBadSignature   = "invalid signature"
	ReasonIssuerMismatch = "issuer mismatch"
	ReasonAudience       = "audience mismatch"
	ReasonExpired        = "token expired"
	ReasonNoExpiry       = "token has no exp"
	ReasonNotYetValid    = "token not yet valid"
	ReasonIssuedInFuture = "token issued in the future"
	ReasonInvalidClaims  = "invalid claims"
	ReasonBadIssuer      = "issuer registration invalid"
)

func refuse(reason string, err error) *Error { return &Error{Reason: reason, Err: err} }

func tooLarge(limit int) *Error {
	return &Error{Reason: fmt.Sprintf("token larger than %d bytes", limit)}
}

// keysUnavailable is a refusal because the issuer's keys could not be
// fetched; short says why in a few words an administrator can act on.
func keysUnavailable(short string, err error) *Error {
	return &Error{Reason: "issuer keys unavailable: " + short, Err: err}
}

// algorithmRefused names the algorithm only when it looks like one: the
// header is the sender's to fill.
func algorithmRefused(alg string) *Error {
	if len(alg) > 16 {
		return &Error{Reason: "algorithm is not allowed"}
	}
	for _, c := range alg {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return &Error{Reason: "algorithm is not allowed"}
		}
	}
	if alg == "" {
		alg = `""`
	}
	return &Error{Reason: "algorithm " + alg + " is not allowed"}
}
