package oidc

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// An issuer's URLs are typed in by an organization's administrator, and
// Gatehouse fetches them from inside the operator's network. Left alone
// that lets anyone who can register an issuer make Gatehouse read internal
// services (server-side request forgery), such as a cloud's instance
// metadata at 169.254.169.254. So unless Config.AllowPrivateNetworks is
// set, a fetch may connect to public internet addresses only. The check
// runs on the address being dialled, after DNS, so a name that resolves
// (or rebinds) to an internal address is refused too, on every redirect
// as well; and no proxy from the environment is used, since the proxy
// would do the dialling the check cannot see.

var errNotPublic = errors.New("address is not on the public internet (private networks are not allowed)")

// dialPublicOnly is a net.Dialer Control function refusing every address
// outside the public internet.
func dialPublicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, errNotPublic)
	}
	return nil
}

// reserved holds the special-purpose ranges (RFC 6890 and successors)
// that the netip predicates do not already rule out.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),  // documentation
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),  // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64: would reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),      // discard-only
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4: embeds an IPv4 address
}

// publicAddr reports whether a is a unicast address of the public
// internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	// IsGlobalUnicast is false for unspecified, loopback, link-local
	// (169.254/16, fe80::/10), multicast and the IPv4 broadcast address.
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
