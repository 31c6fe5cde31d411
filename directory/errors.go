package directory

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
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
// *Error, and "" for nil. A failure caused by a lost database connection is
// Unavailable however it was wrapped, so that the client is told to retry.
func ErrorCode(err error) Code {
	code, _ := classify(err)
	return code
}

// ErrorMessage returns the client-safe message of err; internal errors get a
// generic text so that no detail of the failure leaks.
func ErrorMessage(err error) string {
	_, msg := classify(err)
	return msg
}

// classify returns the code and client-safe message of err. Errors that
// reached a client's answer without passing internal (raw driver errors,
// mapError's) are read here by the same rule.
func classify(err error) (Code, string) {
	var e *Error
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &e) && e.Code != Internal:
		return e.Code, e.Msg
	case connectionLost(err):
		return Unavailable, unavailableMsg
	}
	return Internal, "internal error"
}

// unavailableMsg is what a client is told while the database is down.
const unavailableMsg = "the database is unavailable; try again shortly"

// internal wraps an unexpected failure. A lost database connection becomes
// Unavailable: the request was fine and may succeed when retried.
func internal(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if connectionLost(err) {
		return &Error{Code: Unavailable, Msg: unavailableMsg, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return &Error{Code: Internal, Msg: what, Err: err}
}

// connectionLost reports whether err says the database could not be
// reached or dropped the connection: what a stopped, restarting or
// unreachable server looks like. A Store that was closed ("sql: database is
// closed") is not one; that is this process shutting down.
func connectionLost(err error) bool {
	var opErr *net.OpError
	var pqErr *pq.Error
	switch {
	case errors.As(err, &opErr): // refused, reset, broken pipe, dial timeout
		return true
	case errors.As(err, &pqErr):
		return lostCode(pqErr.Code)
	}
	for _, target := range []error{driver.ErrBadConn, io.EOF, io.ErrUnexpectedEOF,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// lostCode reports whether a PostgreSQL error code says the connection is
// gone or the server cannot take it: class 08 (connection exception),
// admin_shutdown, crash_shutdown and cannot_connect_now.
func lostCode(code pqerror.Code) bool {
	switch code {
	case pqerror.AdminShutdown, pqerror.CrashShutdown, pqerror.CannotConnectNow:
		return true
	}
	return code.Class() == pqerror.ClassConnectionException
}
