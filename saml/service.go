package saml

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
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
	Now func() time.Time
	// HTTPClient fetches metadata. Nil: a client with the fetch timeout
	// that connects only to public addresses, unless AllowPrivateNetworks.
	HTTPClient *http.Client
	// AllowPrivateNetworks lets metadata URLs reach loopback, private and
	// link-local addresses: for identity providers inside the operator's
	// network. See fetch.go.
	AllowPrivateNetworks bool
	// Complete finishes a verified sign-in: the session cookie and the
	// redirect with the login code. It is called once per sign-in, and is
	// required for ACS.
	Complete func(w http.ResponseWriter, r *http.Request, org directory.Organization, in directory.SignedIn)
}

// Service is the SAML service provider of every organization.
type Service struct {
	cfg       Config
	log       *slog.Logger
	providers providerCache
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
		cfg.HTTPClient = metadataClient(cfg.AllowPrivateNetworks)
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
	conn, err := s.cfg.Store.RecentSAMLConnection(ctx, org.ID)
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
// Once built it is only read, by any number of requests at once.
type provider struct {
	sp   *crewjam.ServiceProvider
	urls Endpoints
	acs  *url.URL
	idp  *idpMetadata
}

// newProvider returns the service provider of org signing and decrypting
// with key, from the cache when the connection's metadata, key and
// audiences are those it was built from.
func (s *Service) newProvider(r *http.Request, org directory.Organization, conn directory.SAMLConnection, key directory.SPKey) (*provider, error) {
	urls := s.Endpoints(r, org)
	k := providerKey{org: org.ID, key: key.ID, entity: urls.EntityID}
	if p := s.providers.get(k, conn, key); p != nil {
		return p, nil
	}
	p, err := buildProvider(urls, conn, key)
	if err != nil {
		return nil, err
	}
	s.providers.put(k, conn, key, p)
	return p, nil
}

// buildProvider builds a crewjam service provider at urls signing and
// decrypting with key.
func buildProvider(urls Endpoints, conn directory.SAMLConnection, key directory.SPKey) (*provider, error) {
	idp, err := readIdPMetadata([]byte(conn.MetadataXML))
	if err != nil {
		return nil, err
	}
	pair, err := parseKeyPair(key)
	if err != nil {
		return nil, err
	}
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
	p := &provider{sp: sp, urls: urls, idp: idp, acs: acs}
	sp.ValidateAudienceRestriction = p.audienceCheck(slices.Clone(conn.Audiences))
	return p, nil
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
