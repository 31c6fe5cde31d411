package directory_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/gatehouse/gatehouse/directory"
)

// refusedDial returns the error of connecting to a port nothing listens on.
func refusedDial(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
		t.Fatalf("a connect to %s, just closed, succeeded", addr)
	}
	return err
}

// expiredDial returns the error of connecting with a context whose deadline
// has passed.
func expiredDial(t *testing.T) error {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", "127.0.0.1:5432")
	if err == nil {
		c.Close()
		t.Fatal("a connect with an expired deadline succeeded")
	}
	return err
}

// closedDatabase returns what a Store's database handle says once closed.
func closedDatabase(t *testing.T) error {
	db, err := sql.Open("postgres", "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = db.Ping()
	if err == nil || err.Error() != "sql: database is closed" {
		t.Fatalf("Ping on a closed database: %v", err)
	}
	return err
}

func TestLostDatabaseConnectionsAreUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want directory.Code
	}{
		{"a refused connect", refusedDial(t), directory.Unavailable},
		{"a connect past its context's deadline", expiredDial(t), directory.Unavailable},
		{"a connection reset on read", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, directory.Unavailable},
		{"a broken pipe, wrapped", fmt.Errorf("send: %w", syscall.EPIPE), directory.Unavailable},
		{"EOF on the wire", io.EOF, directory.Unavailable},
		{"a message cut short", io.ErrUnexpectedEOF, directory.Unavailable},
		{"a connection the driver gave up", driver.ErrBadConn, directory.Unavailable},
		{"connection failure (08006)", &pq.Error{Code: "08006"}, directory.Unavailable},
		{"no connection established (08001)", &pq.Error{Code: "08001"}, directory.Unavailable},
		{"admin shutdown (57P01)", &pq.Error{Code: "57P01"}, directory.Unavailable},
		{"crash shutdown (57P02)", &pq.Error{Code: "57P02"}, directory.Unavailable},
		{"cannot connect now (57P03)", &pq.Error{Code: "57P03"}, directory.Unavailable},
		{"a closed store is shutting down, not unavailable", closedDatabase(t), directory.Internal},
		{"a statement cancelled (57014) is internal", &pq.Error{Code: "57014"}, directory.Internal},
		{"a syntax error is internal", &pq.Error{Code: "42601"}, directory.Internal},
		{"a cancelled request is internal", context.Canceled, directory.Internal},
		{"anything else is internal", errors.New("boom"), directory.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrapped := directory.WrapInternal(tt.err, "read members")
			if got := directory.ErrorCode(wrapped); got != tt.want {
				t.Errorf("ErrorCode(internal(%v)) = %s, want %s", tt.err, got, tt.want)
			}
			if !errors.Is(wrapped, tt.err) {
				t.Errorf("internal(%v) = %v, which lost its cause for the log", tt.err, wrapped)
			}
			// Errors that reach an answer without passing internal, raw or
			// wrapped by mapError as Internal, are read by the same rule.
			if got := directory.ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %s, want %s", tt.err, got, tt.want)
			}
			asInternal := &directory.Error{Code: directory.Internal, Msg: "userName x is already taken", Err: tt.err}
			if got := directory.ErrorCode(asInternal); got != tt.want {
				t.Errorf("ErrorCode(%v) = %s, want %s", asInternal, got, tt.want)
			}
			wantMsg := map[directory.Code]string{
				directory.Unavailable: "the database is unavailable; try again shortly",
				directory.Internal:    "internal error",
			}[tt.want]
			for _, err := range []error{wrapped, tt.err, asInternal} {
				if got := directory.ErrorMessage(err); got != wantMsg {
					t.Errorf("ErrorMessage(%v) = %q, want %q", err, got, wantMsg)
				}
			}
		})
	}
}

func TestClientErrorsKeepTheirCodeWhateverTheirCause(t *testing.T) {
	err := &directory.Error{Code: directory.NotFound, Msg: "group g not found", Err: driver.ErrBadConn}
	if got := directory.ErrorCode(directory.WrapInternal(err, "read group")); got != directory.NotFound {
		t.Errorf("code %s, want %s", got, directory.NotFound)
	}
	if got := directory.ErrorMessage(err); got != "group g not found" {
		t.Errorf("message %q", got)
	}
}
