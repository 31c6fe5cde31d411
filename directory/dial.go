package directory

import (
	"context"
	"net"
	"time"
)

// A PostgreSQL connection must notice a database that went silent: a
// network partition or a host that died without closing its sockets
// sends no reset, and a query waiting on such a connection would wait for
// the kernel's retransmission limit, a quarter of an hour on Linux, since
// lib/pq does not interrupt a read when a context ends (it only asks the
// server to cancel, over a new connection that cannot get through
// either). So every connection, the LISTEN one too, is opened with TCP
// keepalives (first probe after pgKeepAliveIdle of silence, then every
// pgKeepAliveInterval, given up after pgKeepAliveCount) and, on Linux, a
// TCP_USER_TIMEOUT of pgUserTimeout: data sent and not acknowledged for
// that long closes the connection. Either way the waiting statement fails
// with a network error, which the store reports as Unavailable (503 and
// Retry-After), and the pool opens a new connection for the next one.
// Long queries are not affected: a server that is computing still
// acknowledges what it received and answers keepalive probes.
const (
	pgKeepAliveIdle     = 15 * time.Second
	pgKeepAliveInterval = 5 * time.Second
	pgKeepAliveCount    = 3
	pgUserTimeout       = 30 * time.Second
)

// pgDialer is lib/pq's Dialer with the settings above.
type pgDialer struct{ d net.Dialer }

func newPGDialer() pgDialer {
	return pgDialer{d: net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: pgKeepAliveIdle, Interval: pgKeepAliveInterval, Count: pgKeepAliveCount},
		Control:         setUserTimeout,
	}}
}

func (p pgDialer) Dial(network, address string) (net.Conn, error) {
	return p.d.Dial(network, address)
}

func (p pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	d := p.d
	d.Timeout = timeout
	return d.Dial(network, address)
}

func (p pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return p.d.DialContext(ctx, network, address)
}
