package oidc

import "fmt"

// SignInFailure is the kind of a refused sign-in: what the person signing
// in may be told, without the details that would help tune a forgery.
type SignInFailure int

// The kinds of SignInError.
const (
	FailureRequest     SignInFailure = iota + 1 // no waiting login request: unknown, used or expired state
	FailureProvider                             // the provider refused: an error callback, or the token endpoint's error
	FailureToken                                // the ID token did not verify, or lacks what a sign-in needs
	FailureNotAllowed                           // the identity may not sign in
	FailureUnavailable                          // the provider could not be reached or discovered
	FailureReturnTo                             // return_to is not allowed by the connection
)

// SignInError is a sign-in RelyingParty refuses. Reason is precise, for the
// audit event and the log; it never holds a token, a code or a secret. Err,
// when set, is the underlying cause, for the log.
type SignInError struct {
	Kind   SignInFailure
	Reason string
	Err    error
}

func (e *SignInError) Error() string { return "oidc sign-in: " + e.Reason }

func (e *SignInError) Unwrap() error { return e.Err }

func failed(kind SignInFailure, err error, format string, args ...any) *SignInError {
	return &SignInError{Kind: kind, Reason: fmt.Sprintf(format, args...), Err: err}
}
