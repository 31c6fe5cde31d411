package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The server's timeouts are what stops a client from holding a connection
// for nothing. Both tests run the real binary with small values, far below
// the defaults (10s and 2m), so that a server ignoring them fails; the idle
// timeout comes from the environment, as an operator may set it.
func TestServeCutsOffSlowAndIdleConnections(t *testing.T) {
	t.Setenv("GATEHOUSE_IDLE_TIMEOUT", "2s")
	p := start(t, t.TempDir(), "--read-header-timeout", "1s")
	addr := p.ready(t)

	t.Run("a client sending its headers a byte a second is cut off after the header timeout", func(t *testing.T) {
		conn := dial(t, addr)
		closed := whenClosed(conn)
		req := "GET /healthz HTTP/1.1\r\nHost: gatehouse\r\nX-Slow: " + strings.Repeat("a", 12)
		for sent := range len(req) {
			if _, err := conn.Write([]byte{req[sent]}); err != nil {
				return // the server closed the connection
			}
			select {
			case <-closed:
				if sent >= 5 {
					t.Errorf("cut off after %d bytes, a second apart; want within a few seconds of the 1s header timeout", sent+1)
				}
				return
			case <-time.After(time.Second):
			}
		}
		t.Fatalf("%d seconds of slow headers and the connection is still open", len(req))
	})

	t.Run("an idle keep-alive connection is closed after the idle timeout", func(t *testing.T) {
		conn := dial(t, addr)
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(conn)
		res, err := http.ReadResponse(rd, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("GET /healthz = %d, close %v; want 200 on a connection kept alive", res.StatusCode, res.Close)
		}
		idle := time.Now()
		select {
		case <-whenClosed(rd):
			if took := time.Since(idle); took < time.Second {
				t.Errorf("closed after %v idle; want it kept open until the 2s idle timeout", took)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("an idle connection was still open after 15s; want it closed after the 2s idle timeout")
		}
	})
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// whenClosed is closed once a read from r fails: the server has closed
// the connection (any answer it sends first is read and dropped).
func whenClosed(r io.Reader) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, r)
		close(done)
	}()
	return done
}
