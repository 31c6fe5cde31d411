package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	goidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/directory"
)

// Signing people in. Besides verifying workloads' tokens, package oidc is
// the relying party of an organization's OpenID Connect sign-in
// (directory.OIDCConnection): the authorization code flow with PKCE
// (S256). The state, the nonce and the PKCE verifier are random, kept in
// the store as a login request (kind "oidc", id = state) and never in a
// cookie; the callback reads the request without consuming it, exchanges
// the code, verifies the ID token with go-oidc (issuer, audience = the
// client id, signature, expiry) and its nonce, and signs in with the
// request's id, so that the store consumes the request in the sign-in's
// transaction: a state answers one sign-in at most.
//
// Unlike the verifier, which is pure, the relying party imports directory:
// it works on a directory.OIDCConnection and keeps its login requests in
// the directory.Store.
//
// Discovery, token and key fetches go through a client built like the
// verifier's fetcher (public addresses only unless
// Config.AllowPrivateNetworks, https redirects only, no proxy from the
// environment then), with Config.FetchTimeout per request and
// Config.MaxResponseBytes per response; the endpoints discovery names
// must be https. A provider's discovery is kept for
// DiscoveryMaxAge per issuer URL; go-oidc's key set behind it refetches on
// an unknown key id.

// DefaultDiscoveryMaxAge is how long a provider's discovery document is
// used before it is fetched again.
const DefaultDiscoveryMaxAge = time.Hour

// RelyingPartyConfig is what a RelyingParty needs. Store is required.
type RelyingPartyConfig struct {
	Store  *directory.Store
	Logger *slog.Logger // nil discards logs
	// Fetch tunes the fetches: FetchTimeout, MaxResponseBytes, RootCAs,
	// AllowPrivateNetworks and Now are used.
	Fetch Config
	// DiscoveryMaxAge; zero means DefaultDiscoveryMaxAge.
	DiscoveryMaxAge time.Duration
}

// RelyingParty signs people in with their organization's OIDC
// connection. It is safe for concurrent use.
type RelyingParty struct {
	store  *directory.Store
	log    *slog.Logger
	client *http.Client
	now    func() time.Time
	maxAge time.Duration

	mu        sync.Mutex
	providers map[string]discovered // by issuer URL
}

// discovered is a provider's discovery, and when it was fetched.
type discovered struct {
	provider *goidc.Provider
	at       time.Time
}

// NewRelyingParty returns a RelyingParty.
func NewRelyingParty(cfg RelyingPartyConfig) *RelyingParty {
	fetch := cfg.Fetch.withDefaults()
	rp := &RelyingParty{
		store: cfg.Store, log: cfg.Logger, now: fetch.Now, maxAge: cfg.DiscoveryMaxAge,
		client: signInClient(fetch), providers: map[string]discovered{},
	}
	if rp.log == nil {
		rp.log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if rp.maxAge <= 0 {
		rp.maxAge = DefaultDiscoveryMaxAge
	}
	return rp
}

// signInClient is the fetcher's client with a timeout per request and a
// bound on every response body: go-oidc and oauth2 read bodies whole.
func signInClient(cfg Config) *http.Client {
	c := newFetcher(cfg, nil).client
	c.Timeout = cfg.FetchTimeout
	c.Transport = limitedTransport{next: c.Transport, max: cfg.MaxResponseBytes}
	return c
}

// limitedTransport fails reading a response body past max bytes.
type limitedTransport struct {
	next http.RoundTripper
	max  int64
}

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.max}
	return resp, nil
}

// errBodyTooLarge is the error of reading a body past the limit. go-oidc
// wraps read errors as text, so it is recognized by its text too.
var errBodyTooLarge = errors.New("response larger than the limit")

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// loginState is the protocol state a login request keeps (its Data).
type loginState struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"code_verifier"`
}

// AuthorizationURL starts a sign-in of organization org: it keeps a
// login request going back to returnTo and returns the provider's
// authorization endpoint carrying it. redirectURI is Gatehouse's callback,
// as registered at the provider. A returnTo that is neither allowed by the
// connection nor a page of the organization's console
// (directory.SignInReturnTo) is a *SignInError of kind FailureReturnTo.
func (rp *RelyingParty) AuthorizationURL(ctx context.Context, org directory.Organization, conn directory.OIDCConnection, redirectURI, returnTo string) (string, error) {
	orgID := org.ID
	if !directory.SignInReturnTo(returnTo, org.Name, conn.AllowedRedirects) {
		return "", failed(FailureReturnTo, nil, "return_to %q is not an allowed redirect URL", returnTo)
	}
	p, err := rp.provider(ctx, conn.IssuerURL)
	if err != nil {
		return "", err
	}
	state, st := rand.Text(), loginState{Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	data, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	req := directory.SSORequest{ID: state, Kind: "oidc", ReturnTo: returnTo, Data: string(data)}
	if err := rp.store.SaveSSORequest(ctx, orgID, req); err != nil {
		return "", err
	}
	oc := oauthConfig(p, conn, redirectURI)
	return oc.AuthCodeURL(state, goidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), nil
}

func oauthConfig(p *goidc.Provider, conn directory.OIDCConnection, redirectURI string) oauth2.Config {
	scopes := conn.Scopes
	if len(scopes) == 0 {
		scopes = []string{goidc.ScopeOpenID, "email", "profile"}
	}
	return oauth2.Config{
		ClientID: conn.ClientID, ClientSecret: conn.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURI, Scopes: scopes,
	}
}

// provider returns the issuer's discovery, fetched when missing or older
// than maxAge. A failed fetch is not kept.
func (rp *RelyingParty) provider(ctx context.Context, issuer string) (*goidc.Provider, error) {
	rp.mu.Lock()
	d, ok := rp.providers[issuer]
	rp.mu.Unlock()
	if ok && rp.now().Sub(d.at) < rp.maxAge {
		return d.provider, nil
	}
	p, err := goidc.NewProvider(goidc.ClientContext(ctx, rp.client), issuer)
	if err != nil {
		return nil, failed(FailureUnavailable, err, "OIDC discovery of %s failed: %s", issuer, fetchFailure(err))
	}
	if err := httpsEndpoints(p); err != nil {
		return nil, failed(FailureUnavailable, err, "OIDC discovery of %s: %v", issuer, err)
	}
	rp.mu.Lock()
	rp.providers[issuer] = discovered{provider: p, at: rp.now()}
	rp.mu.Unlock()
	return p, nil
}

// httpsEndpoints refuses a discovery document sending the client secret
// or key fetches anywhere but https: the issuer URL is https, and what it
// names must stay so.
func httpsEndpoints(p *goidc.Provider) error {
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil {
		return err
	}
	for _, raw := range []string{p.Endpoint().AuthURL, p.Endpoint().TokenURL, doc.JWKS} {
		if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("endpoint %q is not an https URL", raw)
		}
	}
	return nil
}

// fetchFailure names why a fetch failed, in a few words for the audit
// event and the log.
func fetchFailure(err error) string {
	var mismatch *goidc.IssuerMismatchError
	switch {
	case errors.As(err, &mismatch):
		return "the discovery document names another issuer"
	case errors.Is(err, errBodyTooLarge) || strings.Contains(err.Error(), errBodyTooLarge.Error()):
		return "response too large"
	}
	return failure(err)
}

// Callback is the provider's answer to one sign-in: the query of the
// redirect to Gatehouse's callback.
type Callback struct {
	State, Code string
	// Error and ErrorDescription are the provider's error parameters, when
	// it refused.
	Error, ErrorDescription string
}

// Finish completes the sign-in a callback answers and returns the session
// the store started. A refusal is a *SignInError; the store's errors come
// as they are (Conflict: the request was used meanwhile).
func (rp *RelyingParty) Finish(ctx context.Context, orgID string, conn directory.OIDCConnection, redirectURI string, cb Callback) (directory.SignedIn, error) {
	if cb.Error != "" {
		return directory.SignedIn{}, rp.providerRefused(ctx, orgID, cb)
	}
	if cb.State == "" || cb.Code == "" {
		return directory.SignedIn{}, failed(FailureRequest, nil, "the callback has no state or no code")
	}
	req, err := rp.store.SSORequest(ctx, orgID, "oidc", cb.State)
	if directory.ErrorCode(err) == directory.NotFound {
		return directory.SignedIn{}, failed(FailureRequest, err, "no login request is waiting for this state (unknown, expired or used)")
	}
	if err != nil {
		return directory.SignedIn{}, err
	}
	var st loginState
	if err := json.Unmarshal([]byte(req.Data), &st); err != nil || st.Nonce == "" || st.Verifier == "" {
		return directory.SignedIn{}, failed(FailureRequest, err, "the login request holds no nonce and verifier")
	}
	claims, err := rp.verifiedClaims(ctx, conn, redirectURI, cb.Code, st)
	if err != nil {
		return directory.SignedIn{}, err
	}
	login, err := rp.loginOf(orgID, conn, claims)
	if err != nil {
		return directory.SignedIn{}, err
	}
	login.RequestKind, login.RequestID = "oidc", cb.State
	return rp.store.SignIn(ctx, orgID, login)
}

// providerRefused is the refusal of a callback carrying the provider's
// error; the login request it names, if any, is dropped.
func (rp *RelyingParty) providerRefused(ctx context.Context, orgID string, cb Callback) error {
	if cb.State != "" {
		_, _ = rp.store.TakeSSORequest(ctx, orgID, "oidc", cb.State)
	}
	reason := "the identity provider answered error=" + cb.Error
	if cb.ErrorDescription != "" {
		reason += ": " + cb.ErrorDescription
	}
	return failed(FailureProvider, nil, "%s", reason)
}

// verifiedClaims trades the code for tokens and returns the claims of the
// verified ID token, whose nonce must be the request's.
func (rp *RelyingParty) verifiedClaims(ctx context.Context, conn directory.OIDCConnection, redirectURI, code string, st loginState) (map[string]any, error) {
	p, err := rp.provider(ctx, conn.IssuerURL)
	if err != nil {
		return nil, err
	}
	cctx := goidc.ClientContext(ctx, rp.client)
	oc := oauthConfig(p, conn, redirectURI)
	tok, err := oc.Exchange(cctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, failed(FailureProvider, err, "the token endpoint refused the code: %s", exchangeFailure(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, failed(FailureToken, nil, "the token response has no id_token")
	}
	v := p.Verifier(&goidc.Config{ClientID: conn.ClientID, Now: rp.now})
	idt, err := v.Verify(cctx, raw)
	if err != nil {
		return nil, failed(FailureToken, err, "the id_token is not valid: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return nil, failed(FailureToken, nil, "the id_token's nonce is not the login request's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, failed(FailureToken, err, "the id_token's claims cannot be read")
	}
	return claims, nil
}

// exchangeFailure names why a code exchange failed without quoting the
// provider's whole answer.
func exchangeFailure(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return "error=" + re.ErrorCode
		}
		if re.Response != nil {
			return fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
	}
	return fetchFailure(err)
}

// loginOf maps verified claims onto a login by the connection's claim
// names. Groups follow SAML's rule: a groups claim lists the member's
// identity provider groups, no claim means none, and only Entra's group
// overage (no groups claim, but "_claim_names" naming groups or
// "hasgroups": true) leaves memberships as they are.
func (rp *RelyingParty) loginOf(orgID string, conn directory.OIDCConnection, claims map[string]any) (directory.Login, error) {
	names := claimNames(conn.Claims)
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return directory.Login{}, failed(FailureToken, nil, "the id_token has no subject")
	}
	if verified, ok := claims["email_verified"].(bool); ok && !verified {
		return directory.Login{}, failed(FailureNotAllowed, nil, "the identity provider has not verified the e-mail address")
	}
	l := directory.Login{
		Provider: "oidc", Subject: sub,
		Email: stringClaim(claims, names.Email), GivenName: stringClaim(claims, names.GivenName),
		FamilyName: stringClaim(claims, names.FamilyName), DisplayName: stringClaim(claims, names.DisplayName),
		JIT: conn.JIT, GroupSync: conn.GroupSync, GroupsKnown: true,
	}
	raw, present := claims[names.Groups]
	switch {
	case present:
		l.Groups = groupNames(raw)
	case overage(claims, names.Groups):
		l.GroupsKnown = false
		rp.log.Warn("OIDC sign-in: the ID token leaves groups out (group overage); group memberships stay as they are",
			"org_id", orgID, "issuer", conn.IssuerURL, "subject", sub)
	}
	return l, nil
}

// claimNames is c with the default names where it has none.
func claimNames(c directory.OIDCClaims) directory.OIDCClaims {
	def := func(name, d string) string {
		if name == "" {
			return d
		}
		return name
	}
	return directory.OIDCClaims{
		Email: def(c.Email, "email"), GivenName: def(c.GivenName, "given_name"),
		FamilyName: def(c.FamilyName, "family_name"), DisplayName: def(c.DisplayName, "name"),
		Groups: def(c.Groups, "groups"),
	}
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// groupNames reads a groups claim: an array of strings, or one string.
// Other values and duplicates (case-insensitively) are left out.
func groupNames(v any) []string {
	var vals []string
	switch g := v.(type) {
	case string:
		vals = []string{g}
	case []any:
		for _, e := range g {
			if s, ok := e.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, s := range vals {
		if k := strings.ToLower(s); s != "" && !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// overage reports whether claims carry Entra's marks of a groups claim
// left out for size.
func overage(claims map[string]any, groups string) bool {
	if has, _ := claims["hasgroups"].(bool); has {
		return true
	}
	names, _ := claims["_claim_names"].(map[string]any)
	_, named := names[groups]
	if !named && groups != "groups" {
		_, named = names["groups"]
	}
	return named
}
