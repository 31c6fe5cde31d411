package api

import (
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/saml"
)

// DefaultMaxBodyBytes bounds request bodies when Config leaves it unset. A
// SCIM Bulk request of a thousand operations fits well within it.
const DefaultMaxBodyBytes = 4 << 20

// Config is what a Server needs. Store is required.
type Config struct {
	Store        *directory.Store
	Engine       *authz.Engine // kept current by a directory.Follower
	Logger       *slog.Logger  // nil discards logs
	MaxBodyBytes int64         // zero means DefaultMaxBodyBytes
	// MaxWait bounds how long a request waits for this replica to catch up
	// with a revision (min_revision, read-your-writes); zero means 5s.
	MaxWait time.Duration
	// PublicURL is the scheme and host clients reach Gatehouse at, such as
	// https://gatehouse.example.com, for the absolute URLs the protocols
	// hand out (SCIM resource locations). Empty gives path-absolute URLs.
	PublicURL string
	// MetadataPrivateNetworks lets SAML metadata URLs and OIDC issuers'
	// keys reach loopback, private and link-local addresses; off, they
	// reach only the public internet (see packages saml and oidc).
	MetadataPrivateNetworks bool
	// Verifier verifies the identity tokens of token exchanges; nil: one
	// with package oidc's defaults.
	Verifier *oidc.Verifier
	// SignInRootCAs are the certificate authorities OIDC sign-in trusts
	// for discovery, token and key fetches; nil: the system's.
	SignInRootCAs *x509.CertPool
	// RateLimits are the abuse limits of SCIM, token exchange and single
	// sign-on (ratelimit.go); the zero value limits nothing.
	RateLimits RateLimits
}

// Server answers Gatehouse's HTTP API. It is an http.Handler; cmd/gatehouse
// wraps it in an http.Server with timeouts.
type Server struct {
	store    *directory.Store
	engine   *authz.Engine
	log      *slog.Logger
	maxWait  time.Duration
	public   string
	private  bool // MetadataPrivateNetworks
	verifier *oidc.Verifier
	touched  touches
	maxBody  int64
	mux      *http.ServeMux
	metrics  *metrics
	handler  http.Handler
	routes   []string // every pattern registered through handle, in order
	mounted  []string // patterns registered on the mux as they are: SCIM, single sign-on, metrics, the catch-all
	saml     *saml.Service
	limits   *limiters

	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	s := &Server{
		store:    cfg.Store,
		engine:   cfg.Engine,
		log:      cfg.Logger,
		maxWait:  cfg.MaxWait,
		public:   strings.TrimSuffix(cfg.PublicURL, "/"),
		private:  cfg.MetadataPrivateNetworks,
		verifier: cfg.Verifier,
		touched:  touches{last: map[string]time.Time{}},
		maxBody:  cfg.MaxBodyBytes,
		mux:      http.NewServeMux(),
		metrics:  newMetrics(),
		limits:   newLimiters(cfg.RateLimits),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxWait <= 0 {
		s.maxWait = 5 * time.Second
	}
	if s.verifier == nil {
		s.verifier = oidc.NewVerifier(oidc.Config{AllowPrivateNetworks: s.private})
	}
	s.routeHealth()
	s.routeCheck()
	s.routeSettings()
	s.routeMembers()
	s.routeTeams()
	s.routeRoles()
	s.routeTokens()
	s.routeAudit()
	s.routeStacks()
	s.routeSCIM()
	s.routeSCIMMappings()
	s.routeSSO()
	s.routeSAMLConnection()
	s.routeOIDCIssuers()
	s.routeOIDCSignIn(cfg)
	s.routeExchange()
	s.routeOpenAPI()
	s.mount("/", s.notFound())
	s.handler = s.observe(s.limit(s.mux))
	return s
}

// mount registers h under pattern as it is, outside handle's error
// handling, and remembers the pattern so that tests can walk every route.
func (s *Server) mount(pattern string, h http.Handler) {
	s.mounted = append(s.mounted, pattern)
	s.mux.Handle(pattern, h)
}

// Routes returns the pattern of every route, such as
// "GET /api/orgs/{org}/members".
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// notFound answers paths no route matches in the API's error shape rather
// than the mux's plain text.
func (s *Server) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = ""
		writeError(w, r, directory.Errorf(directory.NotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}
