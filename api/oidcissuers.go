package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/oidc"
)

// An organization registers the OIDC issuers whose tokens workloads may
// trade for Gatehouse tokens (oidc_issuers:*), and gives each an
// authorization policy (auth_policies:*). Registering checks the issuer
// the way an exchange will use it: its keys are fetched once (from
// discovery, the JWKS URL, or the static set given) and, unless the keys
// are static, the TLS certificates they came over are pinned. A new issuer
// starts with a policy that denies everything.

var (
	scopeIssuerCreate      = mustScope("oidc_issuers:create")
	scopeIssuerRead        = mustScope("oidc_issuers:read")
	scopeIssuerUpdate      = mustScope("oidc_issuers:update")
	scopeIssuerDelete      = mustScope("oidc_issuers:delete")
	scopeIssuerThumbprints = mustScope("oidc_issuers:regenerate_thumbprints")
	scopePolicyRead        = mustScope("auth_policies:read")
	scopePolicyUpdate      = mustScope("auth_policies:update")
)

const issuersPath = "/api/orgs/{org}/oidc/issuers"

func (s *Server) routeOIDCIssuers() {
	s.org("GET "+issuersPath, s.listIssuers)
	s.org("POST "+issuersPath, s.createIssuer)
	s.org("GET "+issuersPath+"/{id}", s.getIssuer)
	s.org("PUT "+issuersPath+"/{id}", s.updateIssuer)
	s.org("DELETE "+issuersPath+"/{id}", s.deleteIssuer)
	s.org("POST "+issuersPath+"/{id}/thumbprints", s.regenerateThumbprints)
	s.org("GET "+issuersPath+"/{id}/policy", s.getPolicy)
	s.org("PUT "+issuersPath+"/{id}/policy", s.putPolicy)
}

// issuerRequest is the body of POST and PUT.
type issuerRequest struct {
	Name       string          `json:"name"`
	URL        string          `json:"url"`
	JWKSURL    string          `json:"jwks_url,omitempty"`
	StaticJWKS json.RawMessage `json:"static_jwks,omitempty"`
	// Thumbprints pin the issuer's TLS certificates; empty on POST pins
	// the ones it presents now.
	Thumbprints []string `json:"thumbprints,omitempty"`
	// MaxExpiration is the longest lifetime, in seconds, of a token minted
	// from this issuer's tokens; 0 keeps the default (two hours) or the
	// current value.
	MaxExpiration int64 `json:"max_expiration,omitempty"`
}

// issuerView is an issuer as the API shows it.
type issuerView struct {
	directory.OIDCIssuer
	MaxExpiration int64 `json:"max_expiration"` // seconds
}

func viewIssuer(i directory.OIDCIssuer) issuerView {
	return issuerView{OIDCIssuer: i, MaxExpiration: int64(i.MaxExpiration / time.Second)}
}

// oidcIssuer is the registration as package oidc verifies against it.
func oidcIssuer(i directory.OIDCIssuer) oidc.Issuer {
	return oidc.Issuer{URL: i.URL, JWKSURL: i.JWKSURL, StaticJWKS: i.StaticJWKS, Thumbprints: i.Thumbprints}
}

func (s *Server) listIssuers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerRead, authz.Entity{}); err != nil {
		return err
	}
	issuers, err := s.store.OIDCIssuers(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	out := struct {
		Issuers []issuerView `json:"issuers"`
	}{Issuers: []issuerView{}}
	for _, i := range issuers {
		out.Issuers = append(out.Issuers, viewIssuer(i))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createIssuer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerCreate, authz.Entity{}); err != nil {
		return err
	}
	var in issuerRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	i := directory.OIDCIssuer{Name: in.Name, URL: in.URL, JWKSURL: in.JWKSURL, StaticJWKS: in.StaticJWKS,
		Thumbprints: in.Thumbprints, MaxExpiration: time.Duration(in.MaxExpiration) * time.Second}
	if err := s.checkIssuer(r, &i, len(in.Thumbprints) == 0); err != nil {
		return err
	}
	created, rev, err := s.store.CreateOIDCIssuer(r.Context(), c.snap.OrgID(), i)
	if err != nil {
		return err
	}
	setETag(w, created.Version)
	return s.wrote(w, r, c, rev, http.StatusCreated, viewIssuer(created))
}

// checkIssuer validates i's shape, pins its certificates when pin is set
// and the keys are fetched, and fetches its keys once, so that a
// registration that could never verify a token is refused now.
func (s *Server) checkIssuer(r *http.Request, i *directory.OIDCIssuer, pin bool) error {
	if err := oidcIssuer(*i).Validate(); err != nil {
		return directory.Errorf(directory.Invalid, "%v", err)
	}
	if pin && len(i.StaticJWKS) == 0 {
		prints, err := s.verifier.Thumbprints(r.Context(), oidcIssuer(*i))
		if err != nil {
			return directory.Errorf(directory.Invalid, "cannot reach the issuer to pin its certificates: %s", oidcReason(err))
		}
		i.Thumbprints = prints
	}
	if err := s.verifier.CheckKeys(r.Context(), oidcIssuer(*i)); err != nil {
		return directory.Errorf(directory.Invalid, "the issuer's keys: %s", oidcReason(err))
	}
	return nil
}

func (s *Server) getIssuer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerRead, authz.Entity{}); err != nil {
		return err
	}
	i, err := s.store.OIDCIssuer(r.Context(), c.snap.OrgID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	setETag(w, i.Version)
	writeJSON(w, http.StatusOK, viewIssuer(i))
	return nil
}

func (s *Server) updateIssuer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var in issuerRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	old, err := s.store.OIDCIssuer(r.Context(), c.snap.OrgID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	i := old
	i.Name, i.URL, i.JWKSURL, i.StaticJWKS = in.Name, in.URL, in.JWKSURL, in.StaticJWKS
	if in.MaxExpiration != 0 {
		i.MaxExpiration = time.Duration(in.MaxExpiration) * time.Second
	}
	if in.Thumbprints != nil {
		i.Thumbprints = in.Thumbprints
	}
	// A new place for the keys is pinned afresh unless pins are given.
	moved := i.URL != old.URL || i.JWKSURL != old.JWKSURL
	if err := s.checkIssuer(r, &i, moved && in.Thumbprints == nil); err != nil {
		return err
	}
	updated, rev, err := s.store.UpdateOIDCIssuer(r.Context(), c.snap.OrgID(), i, ifVersion)
	if err != nil {
		return err
	}
	setETag(w, updated.Version)
	return s.wrote(w, r, c, rev, http.StatusOK, viewIssuer(updated))
}

func (s *Server) deleteIssuer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerDelete, authz.Entity{}); err != nil {
		return err
	}
	rev, err := s.store.DeleteOIDCIssuer(r.Context(), c.snap.OrgID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// regenerateThumbprints pins the certificates the issuer presents now.
func (s *Server) regenerateThumbprints(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeIssuerThumbprints, authz.Entity{}); err != nil {
		return err
	}
	i, err := s.store.OIDCIssuer(r.Context(), c.snap.OrgID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if len(i.StaticJWKS) > 0 {
		return directory.Errorf(directory.Invalid, "the issuer's keys are static: nothing is fetched, so nothing is pinned")
	}
	prints, err := s.verifier.Thumbprints(r.Context(), oidcIssuer(i))
	if err != nil {
		return directory.Errorf(directory.Invalid, "cannot reach the issuer: %s", oidcReason(err))
	}
	updated, rev, err := s.store.SetOIDCIssuerThumbprints(r.Context(), c.snap.OrgID(), i.ID, prints)
	if err != nil {
		return err
	}
	setETag(w, updated.Version)
	return s.wrote(w, r, c, rev, http.StatusOK, viewIssuer(updated))
}

// policyView is an issuer's policy with its version.
type policyView struct {
	IssuerID string          `json:"issuer_id"`
	Policy   json.RawMessage `json:"policy"`
	Version  int64           `json:"version"`
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopePolicyRead, authz.Entity{}); err != nil {
		return err
	}
	i, err := s.store.OIDCIssuer(r.Context(), c.snap.OrgID(), r.PathValue("id"))
	if err != nil {
		return err
	}
	setETag(w, i.PolicyVersion)
	writeJSON(w, http.StatusOK, policyView{IssuerID: i.ID, Policy: i.Policy, Version: i.PolicyVersion})
	return nil
}

// putPolicy replaces an issuer's policy whole, after package oidc has
// validated it; If-Match takes the policy's version.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopePolicyUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var p oidc.Policy
	if err := decodeJSON(r, &p); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return directory.Errorf(directory.Invalid, "%v", err)
	}
	if p.Rules == nil {
		p.Rules = []oidc.Rule{}
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	i, rev, err := s.store.SetAuthPolicy(r.Context(), c.snap.OrgID(), r.PathValue("id"), doc, ifVersion)
	if err != nil {
		return err
	}
	setETag(w, i.PolicyVersion)
	return s.wrote(w, r, c, rev, http.StatusOK, policyView{IssuerID: i.ID, Policy: i.Policy, Version: i.PolicyVersion})
}
