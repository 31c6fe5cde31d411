package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads the addresses of the load balancers and
// reverse proxies in front of Gatehouse: each entry an address
// (10.0.0.7, fd00::1) or a network in CIDR notation (10.0.0.0/8).
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a network such as 10.0.0.0/8", e)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// TrustProxies makes the client address of a request (its RemoteAddr,
// which the audit log, the request log and the rate limits read) the
// address its trusted proxies name in X-Forwarded-For. With no trusted
// proxies it returns next as it is: a header any client can write is then
// ignored.
//
// A request whose TCP peer is not in trusted keeps its peer address,
// whatever it claims. Otherwise X-Forwarded-For (every line of it, in
// order) is read from the right, the hop nearest Gatehouse, past the
// addresses of trusted proxies; the first address that is not one is the
// client. Entries left of it were written by the client or by proxies we
// do not know, and are not believed. An entry that is no address stops
// the walk at the last address read; a header naming only trusted proxies
// gives its leftmost. Entries may carry a port ("203.0.113.9:41234",
// "[2001:db8::1]:443"), as some load balancers write them. The Forwarded
// header (RFC 7239) is not read: the common load balancers write
// X-Forwarded-For.
func TrustProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if client, ok := forwardedClient(trusted, r); ok {
			r = r.WithContext(r.Context()) // a shallow copy, so the caller's request is left as it was
			r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedClient is the client address the trusted proxies name, and
// whether there is one other than the peer.
func forwardedClient(trusted []netip.Prefix, r *http.Request) (netip.Addr, bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !isTrusted(trusted, peer.Addr().Unmap()) {
		return netip.Addr{}, false
	}
	lines := r.Header.Values("X-Forwarded-For")
	var client netip.Addr
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for line != "" {
			var entry string
			if at := strings.LastIndexByte(line, ','); at >= 0 {
				line, entry = line[:at], line[at+1:]
			} else {
				line, entry = "", line
			}
			a, ok := parseForwarded(strings.TrimSpace(entry))
			if !ok {
				return client, client.IsValid()
			}
			client = a
			if !isTrusted(trusted, a) {
				return client, true
			}
		}
	}
	return client, client.IsValid()
}

// parseForwarded reads one X-Forwarded-For entry: an address, with or
// without a port.
func parseForwarded(entry string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(entry); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
