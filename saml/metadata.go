package saml

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// fetchTimeout bounds one metadata fetch.
var fetchTimeout = 10 * time.Second

const nsMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"

// idpMetadata is identity provider metadata reduced to what a sign-in
// uses: one entity with one SAML 2.0 IDPSSODescriptor.
type idpMetadata struct {
	entity *crewjam.EntityDescriptor
	certs  []*x509.Certificate // signing certificates
	sso    string              // the HTTP-Redirect SingleSignOnService
}

// ParseIdPMetadata reads identity provider metadata: an EntityDescriptor,
// or an EntitiesDescriptor holding exactly one identity provider. It
// refuses metadata over directory.MaxSAMLMetadataBytes, hostile XML, and
// metadata without a SAML 2.0 IDPSSODescriptor, an HTTP-Redirect
// SingleSignOnService or a signing certificate. The fingerprints are the
// SHA-256 of the signing certificates, in lowercase hex.
func ParseIdPMetadata(data []byte) (directory.SAMLMetadata, error) {
	md, err := readIdPMetadata(data)
	if err != nil {
		return directory.SAMLMetadata{}, err
	}
	var prints []string
	for _, c := range md.certs {
		sum := sha256.Sum256(c.Raw)
		if p := hex.EncodeToString(sum[:]); !slices.Contains(prints, p) {
			prints = append(prints, p)
		}
	}
	return directory.SAMLMetadata{XML: string(data), EntityID: md.entity.EntityID, Fingerprints: prints}, nil
}

// readIdPMetadata parses and checks identity provider metadata.
func readIdPMetadata(data []byte) (*idpMetadata, error) {
	if len(data) > directory.MaxSAMLMetadataBytes {
		return nil, fmt.Errorf("metadata is larger than %d bytes", directory.MaxSAMLMetadataBytes)
	}
	sh, err := scanXML(data, metadataLimits)
	if err != nil {
		return nil, fmt.Errorf("metadata refused: %w", err)
	}
	entity, err := idpEntity(data, sh.root.Name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(entity.EntityID) == "" {
		return nil, errors.New("the metadata names no entityID")
	}
	role, err := idpRole(entity)
	if err != nil {
		return nil, err
	}
	md := &idpMetadata{entity: &crewjam.EntityDescriptor{EntityID: entity.EntityID, IDPSSODescriptors: []crewjam.IDPSSODescriptor{role}}}
	if md.sso = ssoLocation(role); md.sso == "" {
		return nil, errors.New("the identity provider offers no SingleSignOnService with the HTTP-Redirect binding")
	}
	if md.certs, err = signingCerts(role); err != nil {
		return nil, err
	}
	return md, nil
}

// idpEntity unmarshals the one identity provider entity of the metadata.
func idpEntity(data []byte, root xml.Name) (*crewjam.EntityDescriptor, error) {
	switch {
	case root.Space == nsMetadata && root.Local == "EntityDescriptor":
		var e crewjam.EntityDescriptor
		if err := xml.Unmarshal(data, &e); err != nil {
			return nil, fmt.Errorf("cannot read the metadata: %w", err)
		}
		return &e, nil
	case root.Space == nsMetadata && root.Local == "EntitiesDescriptor":
		var es crewjam.EntitiesDescriptor
		if err := xml.Unmarshal(data, &es); err != nil {
			return nil, fmt.Errorf("cannot read the metadata: %w", err)
		}
		idps := identityProviders(es)
		if len(idps) != 1 {
			return nil, fmt.Errorf("the metadata describes %d identity providers; give the metadata of one", len(idps))
		}
		return &idps[0], nil
	}
	return nil, fmt.Errorf("the metadata's root element is {%s}%s, not an md:EntityDescriptor", root.Space, root.Local)
}

// identityProviders lists the entities of es, at any depth, that have an
// IDPSSODescriptor.
func identityProviders(es crewjam.EntitiesDescriptor) []crewjam.EntityDescriptor {
	var out []crewjam.EntityDescriptor
	for _, e := range es.EntityDescriptors {
		if len(e.IDPSSODescriptors) > 0 {
			out = append(out, e)
		}
	}
	for _, inner := range es.EntitiesDescriptors {
		out = append(out, identityProviders(inner)...)
	}
	return out
}

// idpRole returns the entity's first IDPSSODescriptor that supports SAML
// 2.0.
func idpRole(e *crewjam.EntityDescriptor) (crewjam.IDPSSODescriptor, error) {
	for _, d := range e.IDPSSODescriptors {
		if slices.Contains(strings.Fields(d.ProtocolSupportEnumeration), nsProtocol) {
			return d, nil
		}
	}
	return crewjam.IDPSSODescriptor{}, errors.New("the metadata has no IDPSSODescriptor for SAML 2.0: is it the identity provider's metadata?")
}

func ssoLocation(role crewjam.IDPSSODescriptor) string {
	for _, s := range role.SingleSignOnServices {
		if s.Binding == crewjam.HTTPRedirectBinding && s.Location != "" {
			return s.Location
		}
	}
	return ""
}

// signingCerts parses the certificates of the signing key descriptors (use
// "signing" or no use); it refuses any that does not parse.
func signingCerts(role crewjam.IDPSSODescriptor) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, kd := range role.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
			if err != nil {
				return nil, fmt.Errorf("a signing certificate is not base64: %w", err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("a signing certificate does not parse: %w", err)
			}
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("the identity provider's metadata has no signing certificate")
	}
	return certs, nil
}

// FetchMetadata fetches identity provider metadata from an http or https
// URL, within the fetch timeout and directory.MaxSAMLMetadataBytes, and
// parses it. Only a 200 answer is metadata.
func (s *Service) FetchMetadata(ctx context.Context, rawURL string) (directory.SAMLMetadata, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return directory.SAMLMetadata{}, errors.New("the metadata URL must be an absolute http or https URL")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return directory.SAMLMetadata{}, fmt.Errorf("fetch metadata: %w", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return directory.SAMLMetadata{}, fmt.Errorf("fetch metadata: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return directory.SAMLMetadata{}, fmt.Errorf("fetch metadata: %s answered %d", u.Host, res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, directory.MaxSAMLMetadataBytes+1))
	if err != nil {
		return directory.SAMLMetadata{}, fmt.Errorf("fetch metadata: %w", err)
	}
	m, err := ParseIdPMetadata(data)
	if err != nil {
		return m, err
	}
	m.FetchedAt = s.now()
	return m, nil
}

// RefreshMetadata fetches again, until ctx ends, the metadata of every
// enabled connection given by URL that is older than every. Failures are
// logged and retried at the next round; the metadata kept is the last
// good one.
func (s *Service) RefreshMetadata(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 24 * time.Hour
	}
	tick := time.NewTicker(max(every/4, time.Second))
	defer tick.Stop()
	for {
		s.refreshDue(ctx, every)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refreshDue refreshes the sources older than every and returns how many
// it refreshed.
func (s *Service) refreshDue(ctx context.Context, every time.Duration) int {
	sources, err := s.cfg.Store.SAMLMetadataSources(ctx)
	if err != nil {
		s.log.Error("list SAML metadata sources", "err", err)
		return 0
	}
	n := 0
	for _, src := range sources {
		if ctx.Err() != nil {
			return n
		}
		if src.FetchedAt != nil && s.now().Sub(*src.FetchedAt) < every {
			continue
		}
		if err := s.refreshOne(ctx, src); err != nil {
			s.log.Warn("refresh SAML metadata", "org_id", src.OrgID, "url", src.URL, "err", err)
			continue
		}
		n++
	}
	return n
}

func (s *Service) refreshOne(ctx context.Context, src directory.SAMLMetadataSource) error {
	m, err := s.FetchMetadata(ctx, src.URL)
	if err != nil {
		return err
	}
	_, err = s.cfg.Store.SetSAMLMetadata(ctx, src.OrgID, m)
	return err
}
