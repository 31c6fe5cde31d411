package directory

import (
	"errors"
	"fmt"
)

// Code classifies an Error. The HTTP layer maps each code to one status.
type Code string

const (
	Conflict           Code = "conflict"            // a unique name or id is taken
	Invalid            Code = "invalid"             // the input breaks a rule of the model
	NotFound           Code = "not_found"           // the thing named does not exist
	PreconditionFailed Code = "precondition_failed" // the resource changed since it was read
	Unauthorized       Code = "unauthorized"        // no valid credential
	Forbidden          Code = "forbidden"           // a valid credential without the right
	Unavailable        Code = "unavailable"         // try again shortly: the database or a fresh snapshot is not there yet
	Internal           Code = "internal"            // anything else; never shown to clients
)

// Error is the one error type of Gatehouse. Msg is safe to show to a client;
// Err, when set, is the underlying cause and goes only to the log.
type Error struct {
	Code Code
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with code and a client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, Internal for errors that are not an
// *Error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the client-safe message of err; internal errors get a
// generic text so that no detail of the failure leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Msg
	}
	return "internal error"
}

// internal wraps an unexpected failure.
func internal(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: Internal, Msg: what, Err: err}
}
