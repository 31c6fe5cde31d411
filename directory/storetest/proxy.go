package storetest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a database server that a test can take
// down and bring back, to show a store what it sees when the server stops
// and starts again: while stopped, connects are refused and every
// connection that was open has been reset. Tests use it rather than
// stopping the server itself, which the tests of other packages share.
// Refuse is the milder fault: new connections fail, open ones go on.
type Proxy struct {
	t      testing.TB
	target string // host:port of the server
	addr   string // host:port the proxy listens on, the same after every Start

	mu    sync.Mutex
	ln    net.Listener // nil while stopped
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the accept loop and the copying goroutines

	refusing atomic.Bool // new connections are reset at once (Refuse)
}

// NewProxy starts a proxy to target (host:port) on a free port of
// 127.0.0.1. It is closed when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Stop)
	return p
}

// Via returns dsn, a postgres:// URL, with its host and port replaced by
// the proxy's.
func (p *Proxy) Via(dsn string) string {
	p.t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	u.Host = p.addr
	return u.String()
}

// Stop closes the listener, so that connects are refused, and resets every
// open connection. It waits until nothing of the proxy runs any more.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		reset(c)
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}

// Refuse makes the proxy reset every new connection while on is set,
// leaving those already open alone: a store keeps its pooled connections
// while a new one (a listener's reconnect, say) cannot get through.
func (p *Proxy) Refuse(on bool) { p.refusing.Store(on) }

// Start listens again on the same address after Stop.
func (p *Proxy) Start() {
	p.t.Helper()
	var (
		ln  net.Listener
		err error
	)
	// The port is free once Stop closed it, but the kernel may take a
	// moment to agree.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// serve accepts connections on ln until Stop closes it.
func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Stop
			}
			if p.refusing.Load() {
				reset(c)
				continue
			}
			p.forward(ln, c)
		}
	}()
}

// forward connects client, accepted on ln, to the target, unless the proxy
// stopped meanwhile.
func (p *Proxy) forward(ln net.Listener, client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(client) // as if the server refused it
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		reset(client)
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.wg.Add(2)
	go p.pipe(server, client)
	go p.pipe(client, server)
}

// pipe copies from src to dst until either side ends, then ends both.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, err := io.Copy(dst, src)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, open := p.conns[src]; !open {
		return // Stop reset both
	}
	delete(p.conns, src)
	delete(p.conns, dst)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		reset(src)
		reset(dst)
		return
	}
	src.Close()
	dst.Close()
}

// reset closes c with a TCP RST rather than a FIN, as a dead server's
// kernel answers: the peer's next read or write fails with "connection
// reset by peer".
func reset(c net.Conn) {
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	c.Close()
}
