package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/saml"
)

// An organization's SAML connection is read with saml:read and changed
// with saml:update. The identity provider is given by metadata_url, which
// Gatehouse fetches at once and then refreshes, or by metadata_xml, an
// uploaded copy; either way the metadata is parsed before anything is
// saved, so a bad document changes nothing. The service provider's side —
// entity id, ACS URL, the certificates to give the identity provider — is
// derived from the organization and shown in the answer.

var (
	scopeSAMLRead   = mustScope("saml:read")
	scopeSAMLUpdate = mustScope("saml:update")
)

const samlPath = "/api/orgs/{org}/saml"

func (s *Server) routeSAMLConnection() {
	s.org("GET "+samlPath, s.getSAML)
	s.org("PUT "+samlPath, s.putSAML)
	s.org("DELETE "+samlPath, s.deleteSAML)
	s.org("POST "+samlPath+"/keys/rotate", s.samlKeys(s.store.RotateSAMLKey))
	s.org("POST "+samlPath+"/keys/finish", s.samlKeys(s.store.FinishSAMLKeyRotation))
	s.org("POST "+samlPath+"/metadata/refresh", s.refreshSAML)
}

// samlRequest is the body of PUT: the whole connection less what Gatehouse
// derives.
type samlRequest struct {
	Enabled           bool                     `json:"enabled"`
	MetadataURL       string                   `json:"metadata_url,omitempty"`
	MetadataXML       string                   `json:"metadata_xml,omitempty"`
	Attributes        directory.SAMLAttributes `json:"attributes"`
	JIT               bool                     `json:"jit_provisioning"`
	GroupSync         bool                     `json:"group_sync"`
	AllowIdPInitiated bool                     `json:"allow_idp_initiated"`
	AllowedRedirects  []string                 `json:"allowed_redirect_urls"`
	Audiences         []string                 `json:"extra_audiences,omitempty"`
}

// samlView is a connection as the API shows it: no metadata document, no
// private key.
type samlView struct {
	Enabled           bool                     `json:"enabled"`
	MetadataURL       string                   `json:"metadata_url,omitempty"`
	MetadataFetchedAt *time.Time               `json:"metadata_fetched_at,omitempty"`
	IdPEntityID       string                   `json:"idp_entity_id"`
	IdPCertificates   []string                 `json:"idp_certificate_fingerprints"`
	Attributes        directory.SAMLAttributes `json:"attributes"`
	JIT               bool                     `json:"jit_provisioning"`
	GroupSync         bool                     `json:"group_sync"`
	AllowIdPInitiated bool                     `json:"allow_idp_initiated"`
	AllowedRedirects  []string                 `json:"allowed_redirect_urls"`
	Audiences         []string                 `json:"extra_audiences"`
	Version           int64                    `json:"version"`
	UpdatedAt         time.Time                `json:"updated_at"`
	ServiceProvider   serviceProviderView      `json:"service_provider"`
}

type serviceProviderView struct {
	EntityID     string       `json:"entity_id"`
	ACSURL       string       `json:"acs_url"`
	MetadataURL  string       `json:"metadata_url"`
	LoginURL     string       `json:"login_url"`
	Certificates []spCertView `json:"certificates"`
}

type spCertView struct {
	ID             string    `json:"id"`
	State          string    `json:"state"`
	CertificatePEM string    `json:"certificate_pem"`
	NotAfter       time.Time `json:"not_after"`
}

func (s *Server) samlView(r *http.Request, org string, c directory.SAMLConnection) samlView {
	sp := s.saml.Endpoints(r, directory.Organization{Name: org})
	v := samlView{
		Enabled: c.Enabled, MetadataURL: c.MetadataURL, MetadataFetchedAt: c.MetadataFetchedAt, IdPEntityID: c.IdPEntityID,
		IdPCertificates: nonNil(c.IdPCertificates), Attributes: c.Attributes, JIT: c.JIT, GroupSync: c.GroupSync,
		AllowIdPInitiated: c.AllowIdPInitiated, AllowedRedirects: nonNil(c.AllowedRedirects), Audiences: nonNil(c.Audiences),
		Version: c.Version, UpdatedAt: c.UpdatedAt,
		ServiceProvider: serviceProviderView{EntityID: sp.EntityID, ACSURL: sp.ACS, MetadataURL: sp.EntityID, LoginURL: sp.Login},
	}
	for _, k := range c.Keys {
		v.ServiceProvider.Certificates = append(v.ServiceProvider.Certificates,
			spCertView{ID: k.ID, State: k.State, CertificatePEM: k.CertificatePEM, NotAfter: k.NotAfter})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) getSAML(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLRead, authz.Entity{}); err != nil {
		return err
	}
	conn, err := s.store.SAMLConnection(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	setETag(w, conn.Version)
	writeJSON(w, http.StatusOK, s.samlView(r, c.snap.OrgName(), conn))
	return nil
}

func (s *Server) putSAML(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	var in samlRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	old, err := s.store.SAMLConnection(r.Context(), c.snap.OrgID())
	if err != nil && directory.ErrorCode(err) != directory.NotFound {
		return err
	}
	exists := err == nil
	var meta *directory.SAMLMetadata
	switch {
	case in.MetadataXML != "":
		m, err := saml.ParseIdPMetadata([]byte(in.MetadataXML))
		if err != nil {
			return directory.Errorf(directory.Invalid, "metadata_xml: %v", err)
		}
		meta = &m
	case in.MetadataURL != "" && (!exists || in.MetadataURL != old.MetadataURL || old.MetadataXML == ""):
		m, err := s.saml.FetchMetadata(r.Context(), in.MetadataURL)
		if err != nil {
			return directory.Errorf(directory.Invalid, "metadata_url: %v", err)
		}
		meta = &m
	case in.Enabled && (!exists || old.MetadataXML == ""):
		return directory.Errorf(directory.Invalid, "an enabled connection needs the identity provider's metadata: give metadata_url or metadata_xml")
	}
	conn, rev, err := s.store.PutSAMLConnection(r.Context(), c.snap.OrgID(), directory.SAMLConnection{
		Enabled: in.Enabled, MetadataURL: in.MetadataURL, Attributes: in.Attributes, JIT: in.JIT, GroupSync: in.GroupSync,
		AllowIdPInitiated: in.AllowIdPInitiated, AllowedRedirects: in.AllowedRedirects, Audiences: in.Audiences,
	}, meta, ifVersion)
	if err != nil {
		return err
	}
	setETag(w, conn.Version)
	return s.wrote(w, r, c, rev, http.StatusOK, s.samlView(r, c.snap.OrgName(), conn))
}

func (s *Server) deleteSAML(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
		return err
	}
	rev, err := s.store.DeleteSAMLConnection(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	return s.wrote(w, r, c, rev, http.StatusNoContent, nil)
}

// samlKeys answers a step of a key rotation.
func (s *Server) samlKeys(step func(ctx context.Context, orgID string) (directory.SAMLConnection, error)) orgHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
			return err
		}
		conn, err := step(r.Context(), c.snap.OrgID())
		if err != nil {
			return err
		}
		setETag(w, conn.Version)
		writeJSON(w, http.StatusOK, s.samlView(r, c.snap.OrgName(), conn))
		return nil
	}
}

// refreshSAML fetches the identity provider's metadata from its URL now.
func (s *Server) refreshSAML(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.authorize(r, c, scopeSAMLUpdate, authz.Entity{}); err != nil {
		return err
	}
	old, err := s.store.SAMLConnection(r.Context(), c.snap.OrgID())
	if err != nil {
		return err
	}
	if old.MetadataURL == "" {
		return directory.Errorf(directory.Invalid, "the connection has no metadata_url to refresh from")
	}
	m, err := s.saml.FetchMetadata(r.Context(), old.MetadataURL)
	if err != nil {
		return directory.Errorf(directory.Invalid, "metadata_url: %v", err)
	}
	conn, err := s.store.SetSAMLMetadata(r.Context(), c.snap.OrgID(), m)
	if err != nil {
		return err
	}
	setETag(w, conn.Version)
	writeJSON(w, http.StatusOK, s.samlView(r, c.snap.OrgName(), conn))
	return nil
}
