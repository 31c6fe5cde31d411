package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/oidc"
)

// OpenID Connect sign-in for people. GET /sso/{org}/oidc/login starts the
// authorization code flow (package oidc keeps the state, nonce and PKCE
// verifier in the store) and GET /sso/{org}/oidc/callback finishes it with
// completeLogin, as the SAML endpoints do; like them they are mounted on
// the mux directly and answer browsers in their own shape. A refused
// callback answers 400 (500 for a failure of Gatehouse's own) with a line
// of text that names the kind of failure only, and is audited as
// user-login-failed with the precise reason.
//
// The connection is managed at /api/orgs/{org}/oidc/connection, read with
// saml:read and changed with saml:update: the scope catalogue has one pair
// of single sign-on scopes, named for SAML before OIDC sign-in existed,
// and whoever may change how people sign in with SAML may change it for
// OIDC too; a scope of its own would let a role hold one and not the
// other for no gain. The client secret is write-only: answers say only
// has_client_secret.

const oidcConnectionPath = "/api/orgs/{org}/oidc/connection"

// What the browser is told about a refused OIDC sign-in.
const (
	msgOIDCRequest     = "This sign-in was not started here, or it was used already. Sign in again."
	msgOIDCProvider    = "The identity provider did not sign you in."
	msgOIDCUnverified  = "The sign-in could not be verified."
	msgOIDCNotAllowed  = "Your account may not sign in to this organization."
	msgOIDCUnavailable = "The identity provider cannot be reached. Try again later."
	msgOIDCNotSetUp    = "Single sign-on with OpenID Connect is not set up for this organization."
	msgOIDCReturnTo    = "return_to is not an allowed redirect URL of this organization."
	msgOIDCInternal    = "Something went wrong on our side. Try again later."
)

// oidcSignIn answers the OIDC sign-in endpoints.
type oidcSignIn struct {
	s  *Server
	rp *oidc.RelyingParty
}

func (s *Server) routeOIDCSignIn(cfg Config) {
	h := oidcSignIn{s: s, rp: oidc.NewRelyingParty(oidc.RelyingPartyConfig{
		Store: s.store, Logger: s.log,
		Fetch: oidc.Config{RootCAs: cfg.SignInRootCAs, AllowPrivateNetworks: s.private},
	})}
	s.mount("GET "+ssoPrefix+"oidc/login", s.ssoOrg(h.login))
	s.mount("GET "+ssoPrefix+"oidc/callback", s.ssoOrg(h.callback))
	s.org("GET "+oidcConnectionPath, s.getOIDCConnection)
	s.org("PUT "+oidcConnectionPath, s.putOIDCConnection)
	s.org("DELETE "+oidcConnectionPath, s.deleteOIDCConnection)
}

// connection returns org's enabled connection with its secret; NotFound
// when there is none or it is disabled.
func (h oidcSignIn) connection(ctx context.Context, org directory.Organization) (directory.OIDCConnection, error) {
	conn, err := h.s.store.OIDCSignInConnection(ctx, org.ID)
	if err == nil && !conn.Enabled {
		err = directory.Errorf(directory.NotFound, "the OIDC connection is disabled")
	}
	return conn, err
}

// callbackURL is the redirect_uri to register at the identity provider.
func (h oidcSignIn) callbackURL(r *http.Request, org directory.Organization) string {
	base := h.s.public
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/sso/" + url.PathEscape(org.Name) + "/oidc/callback"
}

// login answers GET /sso/{org}/oidc/login?return_to=URL with a redirect to
// the identity provider's authorization endpoint.
func (h oidcSignIn) login(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	conn, err := h.connection(r.Context(), org)
	if err != nil {
		h.answerLogin(w, org, err)
		return
	}
	target, err := h.rp.AuthorizationURL(r.Context(), org, conn, h.callbackURL(r, org), r.URL.Query().Get("return_to"))
	if err != nil {
		h.answerLogin(w, org, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// answerLogin answers a login that cannot start. Like SAML's, it is
// logged, not audited: nobody has tried to sign in yet.
func (h oidcSignIn) answerLogin(w http.ResponseWriter, org directory.Organization, err error) {
	var se *oidc.SignInError
	switch {
	case directory.ErrorCode(err) == directory.NotFound:
		writeText(w, http.StatusNotFound, msgOIDCNotSetUp)
	case errors.As(err, &se) && se.Kind == oidc.FailureReturnTo:
		h.s.log.Info("OIDC login refused", "org", org.Name, "reason", se.Reason)
		writeText(w, http.StatusBadRequest, msgOIDCReturnTo)
	case errors.As(err, &se) && se.Kind == oidc.FailureUnavailable:
		h.s.log.Warn("OIDC login failed", "org", org.Name, "reason", se.Reason, "err", se.Err)
		writeText(w, http.StatusBadGateway, msgOIDCUnavailable)
	default:
		h.s.log.Error("OIDC login failed", "org", org.Name, "err", err)
		writeText(w, http.StatusInternalServerError, msgOIDCInternal)
	}
}

// callback answers GET /sso/{org}/oidc/callback?code=…&state=…, or the
// provider's error=…, and completes the sign-in.
func (h oidcSignIn) callback(w http.ResponseWriter, r *http.Request, org directory.Organization) {
	conn, err := h.connection(r.Context(), org)
	if directory.ErrorCode(err) == directory.NotFound {
		h.refuse(w, r, org, loginRefusal{status: http.StatusBadRequest, category: msgOIDCNotSetUp, reason: "no enabled OIDC connection"})
		return
	}
	if err != nil {
		h.refuse(w, r, org, refusalOf(err))
		return
	}
	q := r.URL.Query()
	in, err := h.rp.Finish(r.Context(), org.ID, conn, h.callbackURL(r, org), oidc.Callback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	})
	if err != nil {
		h.refuse(w, r, org, refusalOf(err))
		return
	}
	h.s.completeLogin(w, r, org, in)
}

// loginRefusal is a refused callback: the status and category the browser
// gets, the reason the audit event gets, the cause the log gets.
type loginRefusal struct {
	status   int
	category string
	reason   string
	err      error
}

// refusalOf classifies a failed callback.
func refusalOf(err error) loginRefusal {
	var se *oidc.SignInError
	if errors.As(err, &se) {
		category := map[oidc.SignInFailure]string{
			oidc.FailureRequest: msgOIDCRequest, oidc.FailureProvider: msgOIDCProvider, oidc.FailureToken: msgOIDCUnverified,
			oidc.FailureNotAllowed: msgOIDCNotAllowed, oidc.FailureUnavailable: msgOIDCUnavailable, oidc.FailureReturnTo: msgOIDCReturnTo,
		}[se.Kind]
		if category == "" {
			category = msgOIDCUnverified
		}
		return loginRefusal{status: http.StatusBadRequest, category: category, reason: se.Reason, err: se.Err}
	}
	switch directory.ErrorCode(err) {
	case directory.Conflict:
		return loginRefusal{status: http.StatusBadRequest, category: msgOIDCRequest, reason: directory.ErrorMessage(err), err: err}
	case directory.Invalid, directory.Forbidden, directory.NotFound, directory.Unauthorized:
		return loginRefusal{status: http.StatusBadRequest, category: msgOIDCNotAllowed, reason: directory.ErrorMessage(err), err: err}
	}
	return loginRefusal{status: http.StatusInternalServerError, category: msgOIDCInternal, reason: "internal error", err: err}
}

// refuse answers a refused callback and audits it as user-login-failed.
func (h oidcSignIn) refuse(w http.ResponseWriter, r *http.Request, org directory.Organization, ref loginRefusal) {
	if ref.status == http.StatusInternalServerError {
		h.s.log.Error("OIDC sign-in failed", "org", org.Name, "err", ref.err)
	} else {
		h.s.log.Info("OIDC sign-in refused", "org", org.Name, "reason", ref.reason, "err", ref.err)
	}
	ctx := r.Context()
	if directory.ActorFromContext(ctx) == directory.SystemActor {
		ctx = directory.NewContextWithActor(ctx, directory.Actor{Type: "anonymous"})
	}
	details := map[string]any{"reason": directory.CleanReason(ref.reason), "provider": "oidc"}
	if err := h.s.store.RecordEvent(ctx, org.ID, authz.ActionUserLoginFailed, "member", "", "", details); err != nil {
		h.s.log.Error("record a refused OIDC sign-in", "org", org.Name, "err", err)
	}
	writeText(w, ref.status, ref.category)
}

// writeText answers a browser with one line of text.
func writeText(w http.ResponseWriter, status int, msg string) {
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

// oidcConnectionRequest is the body of PUT: the connection less its
// bookkeeping, with the client secret, which an empty value leaves as it
// is.
type oidcConnectionRequest struct {
	Enabled          bool                 `json:"enabled"`
	IssuerURL        string               `json:"issuer_url"`
	ClientID         string               `json:"client_id"`
	ClientSecret     string               `json:"client_secret,omitempty"`
	Scopes           []string             `json:"scopes,omitempty"`
	Claims           directory.OIDCClaims `json:"claims"`
	JIT              bool                 `json:"jit_provisioning"`
	GroupSync        bool                 `json:"group_sync"`
	AllowedRedirects []string             `json:"allowed_redirect_urls"`
}

// oidcConnectionView is a connection as the API shows it: never the
// secret, and the redirect URI to register at the identity provider.
type oidcConnectionView struct {
	directory.OIDCConnection
	RedirectURI string `json:"redirect_uri"`
	LoginURL    string `json:"login_url"`
}

func (s *Server) oidcConnectionView(r *http.Request, org string, c directory.OIDCConnection) oidcConnectionView {
	c.ClientSecret = ""
	c.Scopes, c.AllowedRedirects = nonNil(c.Scopes), nonNil(c.AllowedRedirects)
	cb := oidcSignIn{s: s}.callbackURL(r, directory.Organization{Name: org})
	return oidcConnectionView{OIDCConnection: c, RedirectURI: cb, LoginURL: strings.TrimSuffix(cb, "callback") + "login"}
}

func (s *Server) getOIDCConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLRead, authz.Entity{}); err != nil {
		return err
	}
	conn, err := s.store.OIDCConnection(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	setETag(w, conn.Version)
	writeJSON(w, http.StatusOK, s.oidcConnectionView(r, c.snap.OrgName(), conn))
	return nil
}

func (s *Server) putOIDCConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var in oidcConnectionRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	conn, rev, err := s.store.PutOIDCConnection(r.Context(), c.snap.OrgID(), directory.OIDCConnection{
		Enabled: in.Enabled, IssuerURL: in.IssuerURL, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		Scopes: in.Scopes, Claims: in.Claims, JIT: in.JIT, GroupSync: in.GroupSync, AllowedRedirects: in.AllowedRedirects,
	}, ifVersion)
	if err != nil {
		return err
	}
	setETag(w, conn.Version)
	return s.wrote(w, r, c, rev, http.StatusOK, s.oidcConnectionView(r, c.snap.OrgName(), conn))
}

func (s *Server) deleteOIDCConnection(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
		return err
	}
	rev, err := s.store.DeleteOIDCConnection(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}
