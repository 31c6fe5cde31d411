package directory

import (
	"net/url"
	"strings"
)

// AllowedReturnTo reports whether returnTo may receive a sign-in's login
// code, for the SAML and the OIDC sign-in alike, so that both protocols
// send codes to the same places. Empty is allowed (the sign-in
// ends at Gatehouse). Otherwise returnTo must be an absolute http or https
// URL without user information or fragment, with no "." or ".." segment
// and no encoded slash or backslash in its path, on the scheme, host and
// port (default ports made explicit) of an allowed URL, with a path equal
// to that URL's or below it at a segment boundary ("/app" allows "/app/x",
// not "/application"; an allowed path ending in "/" allows all under it).
// The query is free: the code is added to it.
func AllowedReturnTo(returnTo string, allowed []string) bool {
	if returnTo == "" {
		return true
	}
	u, err := url.Parse(returnTo)
	if err != nil || !unambiguousURL(u) {
		return false
	}
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err == nil && sameOrigin(u, au) && pathUnder(u.Path, au.Path) {
			return true
		}
	}
	return false
}

// SignInReturnTo reports whether a sign-in of the organization named org
// may end at returnTo: where AllowedReturnTo allows, or in that
// organization's admin console (ConsoleReturnTo). Both sign-in starts,
// SAML and OIDC, go by it.
func SignInReturnTo(returnTo, org string, allowed []string) bool {
	return ConsoleReturnTo(returnTo, org) || AllowedReturnTo(returnTo, allowed)
}

// ConsoleReturnTo reports whether returnTo is a page of the admin console
// of the organization named org: a relative URL (no scheme, no host, not
// "//…") whose path lies under "/console/<org>/", with no backslash, no
// encoded slash or backslash, no "." or ".." segment and no fragment. The
// console is Gatehouse's own, on the origin the sign-in already runs on,
// so it needs no entry in the allow-list; keeping it to one organization's
// console means a sign-in never lands in another organization's pages.
func ConsoleReturnTo(returnTo, org string) bool {
	if org == "" || !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") {
		return false
	}
	u, err := url.Parse(returnTo)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" || !cleanPath(u) {
		return false
	}
	return strings.HasPrefix(u.Path, "/console/"+org+"/")
}

// unambiguousURL reports whether u is an absolute http(s) URL whose host
// and path mean what they read.
func unambiguousURL(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return false
	}
	return cleanPath(u)
}

// cleanPath reports whether u's path means what it reads: no encoded slash
// or backslash, no backslash, no "." or ".." segment.
func cleanPath(u *url.URL) bool {
	escaped := strings.ToLower(u.EscapedPath())
	if strings.Contains(escaped, "%2f") || strings.Contains(escaped, "%5c") || strings.Contains(u.Path, `\`) {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

// portOf is u's port, the scheme's default when it names none.
func portOf(u *url.URL) string {
	switch p := u.Port(); {
	case p != "":
		return p
	case strings.EqualFold(u.Scheme, "https"):
		return "443"
	}
	return "80"
}

// pathUnder reports whether path is prefix or lies below it.
func pathUnder(path, prefix string) bool {
	if prefix == "" || prefix == "/" {
		return true
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// CleanReason keeps the reason of a refused sign-in fit for the audit log:
// valid UTF-8, no control characters (PostgreSQL's jsonb refuses NUL) and
// at most 500 bytes, since parts of it may quote hostile input.
func CleanReason(reason string) string {
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(reason, "\uFFFD"))
	if len(reason) > 500 {
		reason = strings.ToValidUTF8(reason[:500], "") + "…"
	}
	return reason
}
