package directory

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPostgresConnectionsNoticeASilentServer dials a local listener the
// way the store dials PostgreSQL and reads the socket's options back.
func TestPostgresConnectionsNoticeASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for name, dial := range map[string]func() (net.Conn, error){
		"DialContext": func() (net.Conn, error) {
			return newPGDialer().DialContext(context.Background(), "tcp", ln.Addr().String())
		},
		"DialTimeout": func() (net.Conn, error) { return newPGDialer().DialTimeout("tcp", ln.Addr().String(), 0) },
		"Dial":        func() (net.Conn, error) { return newPGDialer().Dial("tcp", ln.Addr().String()) },
	} {
		c, err := dial()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			level, opt, value int
		}{
			"TCP_USER_TIMEOUT (ms)": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(pgUserTimeout.Milliseconds())},
			"SO_KEEPALIVE":          {unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
			"TCP_KEEPIDLE (s)":      {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(pgKeepAliveIdle.Seconds())},
			"TCP_KEEPINTVL (s)":     {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(pgKeepAliveInterval.Seconds())},
			"TCP_KEEPCNT":           {unix.IPPROTO_TCP, unix.TCP_KEEPCNT, pgKeepAliveCount},
		}
		for opt, w := range want {
			var got int
			var getErr error
			if err := raw.Control(func(fd uintptr) { got, getErr = unix.GetsockoptInt(int(fd), w.level, w.opt) }); err != nil {
				t.Fatal(err)
			}
			if getErr != nil {
				t.Fatalf("%s: read %s: %v", name, opt, getErr)
			}
			if got != w.value {
				t.Errorf("%s: %s is %d, want %d", name, opt, got, w.value)
			}
		}
		c.Close()
	}
	// A Unix socket (PostgreSQL's local socket) gets no TCP option.
	if err := setUserTimeout("unix", "/tmp/.s.PGSQL.5432", failingRawConn{}); err != nil {
		t.Errorf("a Unix socket: %v", err)
	}
}

// failingRawConn fails any use: setUserTimeout must not touch it.
type failingRawConn struct{ syscall.RawConn }

func (failingRawConn) Control(func(uintptr)) error { return syscall.EINVAL }
