package load

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The oidc-signin scenario signs people in over OpenID Connect as a
// browser and an identity provider would, end to end: the tool runs an
// OpenID provider of its own on loopback (discovery, JWKS, /authorize,
// /token, over TLS with the certificate of providertls.go, a fresh
// RSA-2048 signing key), connects the organization to it through the
// management API with JIT provisioning and group sync on, and checks with
// one whole sign-in that the server reaches and trusts it before anything
// is timed. Each login then asks Gatehouse for the authorization request,
// answers it as the provider's /authorize would (in process: no browser
// and no redirect to follow), calls the callback, in which Gatehouse
// trades the code at the provider's /token and verifies the ID token, and
// trades the login code for a member access token. The provider's own
// /token handling, signing included, is reported as a phase of its own,
// so that it can be told apart from the server's. People cycle as in
// saml-acs: most logins find their member, the first of each create it.

// oidcPeople is how many people the logins cycle through.
const oidcPeople = 2000

// oidcReturnTo is the platform URL the logins come back to; nothing
// listens there, the tool reads the redirect.
const oidcReturnTo = "https://platform.load.test/oidc/callback"

// oidcClientID is the client the organization is registered as.
const oidcClientID = "gatehouse-load"

// oidcTestClaims, when set, changes the claims of every ID token the
// provider signs: the tests use it to make the server refuse.
var oidcTestClaims func(map[string]any)

// oidcProvider is the tool playing an OpenID provider.
type oidcProvider struct {
	srv         *httptest.Server
	key         *rsa.PrivateKey
	signer      jose.Signer
	secret      string
	redirectURI string // Gatehouse's callback, learnt when the connection is made

	mu    sync.Mutex
	codes map[string]oidcGrant

	timed atomic.Pointer[kind] // records /token handling while set
}

// oidcGrant is what the provider remembers of a code it handed out.
type oidcGrant struct {
	challenge, nonce, redirectURI string
	person                        int
}

func newOIDCProvider(pt *providerTLS) (*oidcProvider, error) {
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "load"))
	if err != nil {
		return nil, err
	}
	p := &oidcProvider{key: key, signer: signer, secret: crand.Text(), codes: map[string]oidcGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorizeHandler)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.TLS = pt.serverConfig()
	p.srv.StartTLS()
	return p, nil
}

func (p *oidcProvider) close() { p.srv.Close() }

func (p *oidcProvider) issuer() string { return p.srv.URL }

func (p *oidcProvider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeProviderJSON(w, http.StatusOK, map[string]any{
		"issuer": p.issuer(), "authorization_endpoint": p.issuer() + "/authorize", "token_endpoint": p.issuer() + "/token",
		"jwks_uri": p.issuer() + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (p *oidcProvider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeProviderJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "load", Algorithm: "RS256", Use: "sig"},
	}})
}

func writeProviderJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// authorizeHandler answers /authorize as a provider whose user is signed
// in already: straight back to redirect_uri with a code, for person 0.
func (p *oidcProvider) authorizeHandler(w http.ResponseWriter, r *http.Request) {
	back, err := p.authorize(r.URL.Query(), 0)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, back, http.StatusFound)
}

// authorize checks an authorization request as a provider would and
// returns the redirect back to Gatehouse with a code for person.
func (p *oidcProvider) authorize(q url.Values, person int) (string, error) {
	switch {
	case q.Get("client_id") != oidcClientID:
		return "", fmt.Errorf("unknown client_id %q", q.Get("client_id"))
	case q.Get("response_type") != "code":
		return "", fmt.Errorf("response_type %q; want code", q.Get("response_type"))
	case p.redirectURI == "" || q.Get("redirect_uri") != p.redirectURI:
		return "", fmt.Errorf("redirect_uri %q is not the registered %q", q.Get("redirect_uri"), p.redirectURI)
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		return "", fmt.Errorf("scope %q lacks openid", q.Get("scope"))
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		return "", errors.New("no S256 PKCE challenge")
	case q.Get("state") == "" || q.Get("nonce") == "":
		return "", errors.New("no state or no nonce")
	}
	code := crand.Text()
	p.mu.Lock()
	p.codes[code] = oidcGrant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri"), person: person}
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		return "", err
	}
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	return back.String(), nil
}

// token answers the code exchange: the client must authenticate with its
// secret, the code be one handed out and unused, and the PKCE verifier
// match its challenge.
func (p *oidcProvider) token(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, body := p.exchange(r)
	writeProviderJSON(w, status, body)
	if k := p.timed.Load(); k != nil {
		k.done(start, time.Since(start))
		if status != http.StatusOK {
			k.failed(status, fmt.Sprint(body))
		}
	}
}

func (p *oidcProvider) exchange(r *http.Request) (int, any) {
	refuse := func(status int, code string) (int, any) { return status, map[string]string{"error": code} }
	if err := r.ParseForm(); err != nil {
		return refuse(http.StatusBadRequest, "invalid_request")
	}
	id, secret, ok := r.BasicAuth()
	if ok { // client_secret_basic form-encodes both before encoding them
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != oidcClientID || secret != p.secret {
		return refuse(http.StatusUnauthorized, "invalid_client")
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		return refuse(http.StatusBadRequest, "invalid_grant")
	}
	idToken, err := p.sign(g)
	if err != nil {
		return refuse(http.StatusInternalServerError, "server_error")
	}
	return http.StatusOK, map[string]any{"access_token": crand.Text(), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken}
}

// sign returns the RS256 ID token of the grant's person.
func (p *oidcProvider) sign(g oidcGrant) (string, error) {
	now := time.Now()
	i := g.person
	claims := map[string]any{
		"iss": p.issuer(), "aud": oidcClientID, "sub": fmt.Sprintf("oidc-load-person-%d", i), "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": oidcEmail(i), "email_verified": true, "given_name": "Person", "family_name": fmt.Sprint(i),
		"name": fmt.Sprintf("Person %d", i), "groups": []string{fmt.Sprintf("oidc-load-%d", i%5), fmt.Sprintf("oidc-load-%d", 5+i/5%5)},
	}
	if oidcTestClaims != nil {
		oidcTestClaims(claims)
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := p.signer.Sign(raw)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// oidcEmail is the address person i signs in with.
func oidcEmail(i int) string { return fmt.Sprintf("oidc-%d@load.test", i) }

// oidcKinds are the requests of one sign-in.
type oidcKinds struct{ login, callback, code *kind }

func oidcKindsOf(ph *phase) oidcKinds {
	return oidcKinds{ph.kind("GET /sso/{org}/oidc/login", 1), ph.kind("GET /sso/{org}/oidc/callback", 1), ph.kind("POST /sso/{org}/token", 1)}
}

// oidcSignIn runs the scenario: set-up, then timed logins.
func (s *session) oidcSignIn(ctx context.Context) error {
	p, err := s.oidcSetup(ctx)
	if err != nil {
		return err
	}
	defer p.close()
	ph := s.begin("oidc-signin", "logins", s.o.Concurrency, false)
	ks := oidcKindsOf(ph)
	provider := newPhase("oidc-signin", "the tool's provider", s.o.Concurrency, false)
	p.timed.Store(provider.kind("POST /token (inside the callback)", 1))
	var n atomic.Int64
	forLimit(ctx, s.limit(), s.o.Concurrency, func(ctx context.Context, _ int, _ *rand.Rand) {
		i := int(n.Add(1))
		_ = s.oidcLogin(ctx, p, ks, i%oidcPeople) // recorded in ks
	})
	p.timed.Store(nil)
	s.end(ph)
	s.end(provider)
	return nil
}

// errProviderUnavailable is a login the server answered 502: it could not
// fetch the provider's discovery document.
var errProviderUnavailable = errors.New("the server cannot reach or does not trust the identity provider (its login answered 502)")

func (s *session) oidcSetup(ctx context.Context) (*oidcProvider, error) {
	ph := s.begin("oidc-signin", "setup", 1, true)
	defer s.end(ph)
	pt, err := loadProviderTLS()
	if err != nil {
		return nil, err
	}
	p, err := newOIDCProvider(pt)
	if err != nil {
		return nil, err
	}
	if err := s.oidcConnect(ctx, ph, p); err != nil {
		p.close()
		return nil, err
	}
	// One whole sign-in before anything is timed: a server that cannot
	// reach or does not trust the provider fails every login the same way.
	err = s.oidcLogin(ctx, p, oidcKindsOf(ph), 0)
	if errors.Is(err, errProviderUnavailable) {
		err = fmt.Errorf("%w: the tool's OIDC provider listens at %s, on this machine's loopback, with a certificate of its own; "+
			"a server you started yourself must run on this machine with SSL_CERT_FILE=%s in its environment and "+
			"--saml-metadata-private-networks (or let the tool start it: --start sqlite)", err, p.issuer(), pt.certFile)
	}
	if err != nil {
		p.close()
		return nil, fmt.Errorf("a first sign-in failed: %w", err)
	}
	return p, nil
}

// oidcConnect connects the organization to the provider.
func (s *session) oidcConnect(ctx context.Context, ph *phase, p *oidcProvider) error {
	body := jsonBody(map[string]any{
		"enabled": true, "issuer_url": p.issuer(), "client_id": oidcClientID, "client_secret": p.secret,
		"jit_provisioning": true, "group_sync": true, "allowed_redirect_urls": []string{oidcReturnTo},
	})
	put := ph.kind("PUT /api/orgs/{org}/oidc/connection", 1)
	res, ok := s.c.send(ctx, put, s.api(http.MethodPut, "/oidc/connection", body, http.StatusOK))
	if !ok {
		return fmt.Errorf("cannot connect the tool as the OIDC identity provider (the admin token needs saml:update): %.300s", res)
	}
	var view struct {
		RedirectURI string `json:"redirect_uri"`
	}
	if err := json.Unmarshal(res, &view); err != nil || view.RedirectURI == "" {
		return fmt.Errorf("the OIDC connection's answer names no redirect_uri: %.300s", res)
	}
	p.redirectURI = view.RedirectURI
	return nil
}

// oidcLogin is one whole sign-in of person i, recorded in ks. It returns
// why it failed, when it did.
func (s *session) oidcLogin(ctx context.Context, p *oidcProvider, ks oidcKinds, i int) error {
	org := url.PathEscape(s.t.org)
	a, ok := s.c.exchange(ctx, ks.login, call{method: http.MethodGet, path: "/sso/" + org + "/oidc/login?return_to=" + url.QueryEscape(oidcReturnTo),
		want: []int{http.StatusFound}})
	if !ok {
		if a.status == http.StatusBadGateway {
			return errProviderUnavailable
		}
		return fmt.Errorf("login answered %d: %.300s", a.status, a.body)
	}
	authz, err := url.Parse(a.header.Get("Location"))
	if err != nil || authz.Scheme+"://"+authz.Host+authz.Path != p.issuer()+"/authorize" {
		unexpected(ks.login, "want a redirect to the provider's /authorize, got "+a.header.Get("Location"), nil)
		return fmt.Errorf("login redirected to %q, not the provider's /authorize", a.header.Get("Location"))
	}
	back, err := p.authorize(authz.Query(), i)
	if err != nil {
		unexpected(ks.login, "the provider refuses the authorization request: "+err.Error(), nil)
		return fmt.Errorf("the provider refuses the authorization request: %w", err)
	}
	cb, _ := url.Parse(back) // made by authorize
	a, ok = s.c.exchange(ctx, ks.callback, call{method: http.MethodGet, path: cb.RequestURI(), want: []int{http.StatusSeeOther, http.StatusFound}})
	if !ok {
		return fmt.Errorf("the callback answered %d: %.300s", a.status, a.body)
	}
	ret, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(ret.String(), oidcReturnTo) || ret.Query().Get("code") == "" {
		unexpected(ks.callback, "want a redirect to return_to with a code, got "+a.header.Get("Location"), a.body)
		return fmt.Errorf("the callback redirected to %q, not return_to with a code", a.header.Get("Location"))
	}
	form := url.Values{"code": {ret.Query().Get("code")}}
	res, ok := s.c.send(ctx, ks.code, call{method: http.MethodPost, path: "/sso/" + org + "/token",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte(form.Encode()), want: []int{http.StatusOK}})
	if !ok {
		return fmt.Errorf("the login code's exchange failed: %.300s", res)
	}
	if !json.Valid(res) {
		unexpected(ks.code, "want the member token as JSON", res)
		return errors.New("the member token is not JSON")
	}
	return nil
}
