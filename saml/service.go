package saml

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/gatehouse/gatehouse/directory"
)

// Config is what a Service needs.
type Config struct {
	Store *directory.Store
	// PublicURL is Gatehouse's external base URL, such as
	// "https://gatehouse.example.com". Empty: derived from each request's
	// Host, with https only when the request came over TLS.
	PublicURL string
	Logger    *slog.Logger
	// Now is the clock of the checks Gatehouse makes itself; crewjam reads
	// its own package clock (saml.TimeNow, saml.Clock). Nil: time.Now.
	Now        func() time.Time
	HTTPClient *http.Client // for metadata fetches; nil: a client with the fetch timeout
	// Complete finishes a verified sign-in: the session cookie and the
	// redirect with the login code. It is called once per sign-in, and is
	// required for ACS.
	Complete func(w http.ResponseWriter, r *http.Request, org directory.Organization, in directory.SignedIn)
}

// Service is the SAML service provider of every organization.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New returns a Service over cfg.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: fetchTimeout}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{cfg: cfg, log: cfg.Logger.With("component", "saml")}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Endpoints are an organization's service provider URLs.
type Endpoints struct {
	EntityID string // also the metadata URL
	ACS      string
	SLO      string
	Login    string
}

// Endpoints returns org's URLs under the public base URL, or under the
// request's own host when none is configured.
func (s *Service) Endpoints(r *http.Request, org directory.Organization) Endpoints {
	base := s.cfg.PublicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	prefix := base + "/sso/" + url.PathEscape(org.Name) + "/saml/"
	return Endpoints{EntityID: prefix + "metadata", ACS: prefix + "acs", SLO: prefix + "slo", Login: prefix + "login"}
}

// errNoConnection is what an organization without a usable connection
// gets.
var errNoConnection = directory.Errorf(directory.NotFound, "single sign-on with SAML is not set up for this organization")

// connection returns org's SAML connection; NotFound unless it exists,
// is enabled and has identity provider metadata.
func (s *Service) connection(ctx context.Context, org directory.Organization) (directory.SAMLConnection, error) {
	conn, err := s.cfg.Store.SAMLConnection(ctx, org.ID)
	if err != nil {
		return conn, err
	}
	if !conn.Enabled || conn.MetadataXML == "" {
		return conn, errNoConnection
	}
	return conn, nil
}

// provider is a crewjam service provider for one organization and one
// of its keys.
type provider struct {
	sp   *crewjam.ServiceProvider
	urls Endpoints
	idp  *idpMetadata
}

// newProvider builds the service provider of org signing and decrypting
// with key.
func (s *Service) newProvider(r *http.Request, org directory.Organization, conn directory.SAMLConnection, key directory.SPKey) (*provider, error) {
	idp, err := readIdPMetadata([]byte(conn.MetadataXML))
	if err != nil {
		return nil, err
	}
	pair, err := parseKeyPair(key)
	if err != nil {
		return nil, err
	}
	urls := s.Endpoints(r, org)
	entity, _ := url.Parse(urls.EntityID)
	acs, _ := url.Parse(urls.ACS)
	slo, _ := url.Parse(urls.SLO)
	sp := &crewjam.ServiceProvider{
		EntityID:          urls.EntityID,
		Key:               pair.key,
		Certificate:       pair.cert,
		MetadataURL:       *entity,
		AcsURL:            *acs,
		SloURL:            *slo,
		IDPMetadata:       idp.entity,
		AuthnNameIDFormat: crewjam.UnspecifiedNameIDFormat,
		SignatureMethod:   signatureMethod,
		LogoutBindings:    []string{crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding},
	}
	return &provider{sp: sp, urls: urls, idp: idp}, nil
}

// activeKey returns the connection's active key.
func activeKey(conn directory.SAMLConnection) (directory.SPKey, bool) {
	for _, k := range conn.Keys {
		if k.State == directory.SPKeyActive {
			return k, true
		}
	}
	return directory.SPKey{}, false
}

// nextKey returns the key of a rotation under way.
func nextKey(conn directory.SAMLConnection) (directory.SPKey, bool) {
	for _, k := range conn.Keys {
		if k.State == directory.SPKeyNext {
			return k, true
		}
	}
	return directory.SPKey{}, false
}
