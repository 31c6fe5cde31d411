package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/saml"
)

// Single sign-on. The protocol endpoints under /sso/{org}/ answer browsers
// and identity providers, not API clients: like SCIM they are mounted on
// the mux directly, answer in their own shape, and stay out of the
// management API's route table. The organization is always the one the
// URL names, never one a response or a cookie names.
//
// A sign-in ends in completeLogin: Gatehouse's own session cookie and, for
// the platform, a redirect to the allowed return_to with a one-time code
// that POST /sso/{org}/token trades for a member access token.
//
// The session cookie authenticates GET and HEAD requests of the
// management API (GET /api/me, reads); writes need a bearer token, so a
// page of another site cannot make a signed-in browser change anything.
// The cookie is Secure, HttpOnly and SameSite=Lax, and holds the
// organization's id and the session's secret, of which only the hash is
// stored.

// sessionCookie is the name of Gatehouse's session cookie.
const sessionCookie = "gatehouse_session"

// ssoPrefix is where the single sign-on endpoints of an organization live.
const ssoPrefix = "/sso/{org}/"

func (s *Server) routeSSO() {
	s.saml = saml.New(saml.Config{
		Store: s.store, PublicURL: s.public, Logger: s.log, Complete: s.completeLogin,
		AllowPrivateNetworks: s.private,
	})
	s.mount("GET "+ssoPrefix+"saml/metadata", s.ssoOrg(s.saml.Metadata))
	s.mount("GET "+ssoPrefix+"saml/login", s.ssoOrg(s.saml.Login))
	s.mount("POST "+ssoPrefix+"saml/acs", s.ssoOrg(s.saml.ACS))
	s.mount(ssoPrefix+"saml/slo", s.ssoOrg(s.saml.SLO))
	s.handle("POST "+ssoPrefix+"token", s.exchangeLoginCode)
	s.handle("POST "+ssoPrefix+"logout", s.logout)
	s.handle("GET /api/me", s.me)
	s.org("GET /api/orgs/{org}/me", func(w http.ResponseWriter, r *http.Request, c *caller) error {
		writeJSON(w, http.StatusOK, whoIs(c))
		return nil
	})
}

// RefreshSAMLMetadata fetches the metadata of every connection given by URL
// again, every interval, until ctx ends.
func (s *Server) RefreshSAMLMetadata(ctx context.Context, every time.Duration) {
	s.saml.RefreshMetadata(ctx, every)
}

// ssoOrg resolves the {org} of an SSO path for a protocol handler; an
// unknown organization is a plain 404.
func (s *Server) ssoOrg(h func(http.ResponseWriter, *http.Request, directory.Organization)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		org, err := s.ssoOrganization(r)
		if err != nil {
			http.Error(w, "organization not found", http.StatusNotFound)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		h(w, r, org)
	})
}

// ssoOrganization is the organization the {org} of an SSO path names.
func (s *Server) ssoOrganization(r *http.Request) (directory.Organization, error) {
	return s.store.OrganizationByName(r.Context(), r.PathValue("org"))
}

// completeLogin finishes a verified sign-in: the session cookie, then the
// platform's return_to with the login code, the console page the sign-in
// started from, or Gatehouse's own account page.
func (s *Server) completeLogin(w http.ResponseWriter, r *http.Request, org directory.Organization, in directory.SignedIn) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: org.ID + "." + in.Session, Path: "/",
		Expires: in.SessionExpires, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	target := "/api/me"
	switch {
	case directory.ConsoleReturnTo(in.ReturnTo, org.Name):
		// The console signs in by the session cookie just set; a login
		// code would only linger in the browser's history.
		target = in.ReturnTo
	case in.ReturnTo != "":
		u, err := url.Parse(in.ReturnTo)
		if err == nil {
			q := u.Query()
			q.Set("code", in.Code)
			q.Set("org", org.Name)
			u.RawQuery = q.Encode()
			target = u.String()
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// sessionOf returns the organization id and secret of the request's
// session cookie.
func sessionOf(r *http.Request) (orgID, secret string, ok bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", "", false
	}
	orgID, secret, ok = strings.Cut(c.Value, ".")
	return orgID, secret, ok && orgID != "" && secret != ""
}

// loginCodeAnswer is what a login code buys.
type loginCodeAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	MemberID    string `json:"member_id"`
	Org         string `json:"org"`
}

// exchangeLoginCode trades a login code, sent as the form field or JSON
// member code, for a member access token.
func (s *Server) exchangeLoginCode(w http.ResponseWriter, r *http.Request) error {
	org, err := s.ssoOrganization(r)
	if err != nil {
		return err
	}
	code, err := formOrJSONField(r, "code")
	if err != nil {
		return err
	}
	ctx := directory.NewContextWithActor(r.Context(), directory.Actor{Type: "login_code"})
	tok, secret, err := s.store.ExchangeLoginCode(ctx, org.ID, code)
	if err != nil {
		return err
	}
	out := loginCodeAnswer{AccessToken: secret, TokenType: "Bearer", MemberID: tok.MemberID, Org: org.Name}
	if tok.ExpiresAt != nil {
		out.ExpiresIn = int64(time.Until(*tok.ExpiresAt).Seconds())
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// formOrJSONField reads one string field of a form or JSON body.
func formOrJSONField(r *http.Request, name string) (string, error) {
	var v string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body map[string]any
		if err := decodeJSON(r, &body); err != nil {
			return "", err
		}
		v, _ = body[name].(string)
	} else {
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return "", err // 413, not a malformed form
			}
			return "", directory.Errorf(directory.Invalid, "cannot read the form: %v", err)
		}
		v = r.PostForm.Get(name)
	}
	if v == "" {
		return "", directory.Errorf(directory.Invalid, "send %s as a form field or JSON member", name)
	}
	return v, nil
}

// logout ends the request's session: the session token is revoked and the
// cookie cleared. Without a session it only clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	org, err := s.ssoOrganization(r)
	if err != nil {
		return err
	}
	if orgID, secret, ok := sessionOf(r); ok && orgID == org.ID {
		if tok, err := s.store.AuthenticateToken(r.Context(), org.ID, secret); err == nil && tok.Origin == directory.OriginSession {
			ctx := directory.NewContextWithActor(r.Context(), directory.Actor{Type: "member", ID: tok.MemberID})
			if _, err := s.store.DeleteToken(ctx, org.ID, tok.ID); err != nil {
				return err
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// identity answers GET /api/me: who the session or token is.
type identity struct {
	Org       string          `json:"org"`
	OrgID     string          `json:"org_id"`
	Principal string          `json:"principal"`
	Via       string          `json:"via"` // session or token
	Token     identityToken   `json:"token"`
	Member    *identityMember `json:"member,omitempty"`
	Team      string          `json:"team,omitempty"`
	Revision  int64           `json:"revision"`
}

type identityToken struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Role      string     `json:"role,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

type identityMember struct {
	ID       string       `json:"id"`
	UserName string       `json:"user_name"`
	Role     authz.RoleID `json:"role"`
	Active   bool         `json:"active"`
}

// me answers who the caller is. The organization comes from the session
// cookie or, with a bearer token, from ?org= or the X-Gatehouse-Org header:
// tokens are resolved within one named organization, never looked up
// across all of them.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("org")
	if name == "" {
		name = r.Header.Get("X-Gatehouse-Org")
	}
	if name == "" {
		if orgID, _, ok := sessionOf(r); ok {
			if snap := s.engine.Snapshot(orgID); snap != nil {
				name = snap.OrgName()
			}
		}
	}
	if name == "" {
		return directory.Errorf(directory.Unauthorized, "sign in, or send a token as Authorization: Bearer <token> with ?org=NAME")
	}
	r.SetPathValue("org", name)
	c, err := s.authenticate(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, whoIs(c))
	return nil
}

func whoIs(c *caller) identity {
	out := identity{
		Org: c.snap.OrgName(), OrgID: c.snap.OrgID(), Principal: c.principal.String(), Via: "token",
		Token:    identityToken{ID: c.token.ID, Kind: string(c.token.Kind), Role: string(c.token.Role)},
		Revision: c.snap.Revision(),
	}
	if c.session {
		out.Via = "session"
	}
	if !c.token.ExpiresAt.IsZero() {
		exp := c.token.ExpiresAt
		out.Token.ExpiresAt = &exp
	}
	if m, ok := c.snap.MemberOf(c.principal); ok {
		out.Member = &identityMember{ID: m.ID, UserName: m.UserName, Role: m.Role, Active: m.Active}
	}
	if t, ok := c.snap.TeamOf(c.principal); ok {
		out.Team = t.Name
	}
	return out
}
