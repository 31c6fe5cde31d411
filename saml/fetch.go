package saml

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// A metadata URL is typed in by an organization's administrator, and
// Gatehouse fetches it from inside the operator's network: left alone,
// that is a way to make Gatehouse read internal services (server-side
// request forgery), such as a cloud's instance metadata at 169.254.169.254.
// So unless the operator allows private networks (Config.AllowPrivateNetworks,
// for identity providers hosted inside), the fetch connects only to public
// addresses. The check runs on the address actually dialled, after DNS, so
// a name that resolves — or rebinds — to an internal address is refused as
// well; redirects are followed at most three times, each dial checked the
// same way. Without private networks no proxy from the environment is
// used either: the proxy would do the dialling the check cannot see.

// maxMetadataRedirects bounds the redirects of one metadata fetch.
const maxMetadataRedirects = 3

// errPrivateAddress is a dial to an address that is not public.
var errPrivateAddress = errors.New("not a public internet address (private networks are not allowed for metadata URLs)")

// metadataClient returns the HTTP client of metadata fetches.
func metadataClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: fetchTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSHandshakeTimeout: fetchTimeout,
		MaxIdleConns:        4,
		IdleConnTimeout:     time.Minute,
	}
	if !allowPrivate {
		dialer.Control = dialPublicOnly
		transport.Proxy = nil
	}
	transport.DialContext = dialer.DialContext
	return &http.Client{
		Timeout:   fetchTimeout,
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxMetadataRedirects {
				return fmt.Errorf("more than %d redirects", maxMetadataRedirects)
			}
			return nil
		},
	}
}

// dialPublicOnly refuses a connection to an address outside the public
// internet.
func dialPublicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !isPublic(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, errPrivateAddress)
	}
	return nil
}

// nonPublic are ranges that are neither loopback, private, link-local nor
// multicast by the standard library's tests, yet not the public internet.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64, which can reach any IPv4 address
	netip.MustParsePrefix("100::/64"),      // discard
}

// isPublic reports whether a is an address on the public internet.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
