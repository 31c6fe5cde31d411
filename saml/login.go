package saml

import (
	"net/http"
	"net/url"
	"strings"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// Login answers GET /sso/{org}/saml/login?return_to=URL: it keeps a login
// request and sends the browser to the identity provider with a signed
// AuthnRequest (HTTP-Redirect binding). The request's id is its relay
// state; the ACS finds the request by the response's InResponseTo, never
// by a cookie or the relay state. return_to must be empty (the sign-in
// ends at Gatehouse) or allowed by the connection, see allowedReturnTo.
func (s *Service) Login(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	ctx := r.Context()
	conn, err := s.connection(ctx, org)
	if directory.ErrorCode(err) == directory.NotFound {
		http.Error(w, msgNotSetUp, http.StatusNotFound)
		return
	}
	if err != nil {
		s.internalError(w, "read SAML connection", err)
		return
	}
	returnTo := r.URL.Query().Get("return_to")
	if !allowedReturnTo(returnTo, conn.AllowedRedirects) {
		s.log.Info("SAML login refused: return_to not allowed", "org", org.Name, "return_to", returnTo)
		http.Error(w, "return_to is not an allowed redirect URL of this organization", http.StatusBadRequest)
		return
	}
	target, err := s.authnRedirect(r, org, conn, returnTo)
	if err != nil {
		s.internalError(w, "start a SAML login", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// authnRedirect keeps a login request and returns the identity
// provider's URL carrying it.
func (s *Service) authnRedirect(r *http.Request, org directory.Organization, conn directory.SAMLConnection, returnTo string) (string, error) {
	key, ok := activeKey(conn)
	if !ok {
		return "", errNoActiveKey
	}
	p, err := s.newProvider(r, org, conn, key)
	if err != nil {
		return "", err
	}
	req, err := p.sp.MakeAuthenticationRequest(p.idp.sso, crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		return "", err
	}
	err = s.cfg.Store.SaveSSORequest(r.Context(), org.ID, directory.SSORequest{ID: req.ID, Kind: "saml", ReturnTo: returnTo})
	if err != nil {
		return "", err
	}
	u, err := req.Redirect(req.ID, p.sp)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

var errNoActiveKey = directory.Errorf(directory.Internal, "the SAML connection has no active key")

// allowedReturnTo reports whether returnTo may receive the login code.
// The rule: empty is allowed; otherwise it must be an absolute http or
// https URL without user information or fragment, with no "." or ".."
// path segment and no encoded slash or backslash, whose scheme, host and
// port (default ports made explicit) equal those of an allowed URL, and
// whose path is that URL's path or lies below it at a segment boundary
// ("/app" allows "/app" and "/app/x", not "/application"; a path ending
// in "/" allows everything under it). The query is free: the code is
// added to it.
func allowedReturnTo(returnTo string, allowed []string) bool {
	if returnTo == "" {
		return true
	}
	u, err := url.Parse(returnTo)
	if err != nil || !plainURL(u) {
		return false
	}
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err == nil && sameOrigin(u, au) && pathWithin(u.Path, au.Path) {
			return true
		}
	}
	return false
}

// plainURL reports whether u is an absolute http(s) URL with nothing that
// makes its path or host mean something else than it reads.
func plainURL(u *url.URL) bool {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return false
	}
	lower := strings.ToLower(u.EscapedPath())
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(u.Path, `\`) {
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
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

func pathWithin(path, prefix string) bool {
	switch {
	case prefix == "" || prefix == "/":
		return true
	case strings.HasSuffix(prefix, "/"):
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
