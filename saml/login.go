package saml

import (
	"net/http"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// Login answers GET /sso/{org}/saml/login?return_to=URL: it keeps a login
// request and sends the browser to the identity provider with a signed
// AuthnRequest (HTTP-Redirect binding). The request's id is its relay
// state; the ACS finds the request by the response's InResponseTo, never
// by a cookie or the relay state. return_to must be empty (the sign-in
// ends at Gatehouse), a page of the organization's console, or allowed by
// the connection, see directory.SignInReturnTo.
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
	if !directory.SignInReturnTo(returnTo, org.Name, conn.AllowedRedirects) {
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
