package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// The OIDC sign-in tests run against an in-process identity provider: an
// httptest TLS server with discovery, a JWKS and a token endpoint. There is
// no /authorize: a test reads the login redirect's query as the provider
// would, registers a code for it with the claims to sign, and calls the
// callback as the browser would.

const (
	oidcClientID     = "gatehouse-client"
	oidcClientSecret = "s3cret-of-the-client"
	oidcReturnTo     = "https://app.example.com/done"
)

// testRootCAs trusts the certificate every httptest TLS server presents.
var testRootCAs = sync.OnceValue(func() *x509.CertPool {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
})

var (
	providerKeyOnce sync.Once
	providerKey     *rsa.PrivateKey
)

// grant is what the provider remembers of a code it handed out.
type grant struct {
	challenge string
	claims    map[string]any
}

// testProvider is an OIDC identity provider.
type testProvider struct {
	t     testing.TB
	srv   *httptest.Server
	mu    sync.Mutex
	codes map[string]grant
}

func newTestProvider(t testing.TB) *testProvider {
	providerKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		providerKey = k
	})
	p := &testProvider{t: t, codes: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSONBody(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: providerKey.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		}})
	})
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// token answers the code exchange: the client must authenticate with its
// secret and prove the PKCE verifier.
func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSONBody(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != oidcClientID || secret != oidcClientSecret {
		writeJSONBody(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || r.PostForm.Get("grant_type") != "authorization_code" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSONBody(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	writeJSONBody(w, http.StatusOK, map[string]any{
		"access_token": "at-" + rand.Text(), "token_type": "Bearer", "expires_in": 3600, "id_token": p.sign(g.claims),
	})
}

// sign returns an RS256 ID token of claims.
func (p *testProvider) sign(claims map[string]any) string {
	p.t.Helper()
	return signRS256(p.t, providerKey, "k1", claims)
}

// claims are the claims of a sign-in of ann answering the authorization
// request q, changed by edit.
func (p *testProvider) claims(q url.Values, edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": p.srv.URL, "aud": oidcClientID, "sub": "00u-ann", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": q.Get("nonce"), "email": "ann@example.com", "email_verified": true,
		"given_name": "Ann", "family_name": "Lovelace", "name": "Ann Lovelace", "groups": []string{"Engineering", "Operations"},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// issue registers a code for the authorization request q with claims.
func (p *testProvider) issue(q url.Values, claims map[string]any) string {
	code := "code-" + rand.Text()
	p.mu.Lock()
	p.codes[code] = grant{challenge: q.Get("code_challenge"), claims: claims}
	p.mu.Unlock()
	return code
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get sends GET path to the API without following redirects.
func (e *env) get(t *testing.T, path string) *http.Response {
	t.Helper()
	res, err := noRedirects.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// oidcSetUp gives acme an OIDC connection to p.
func (e *env) oidcSetUp(t *testing.T, p *testProvider) {
	t.Helper()
	res := e.do(http.MethodPut, "/api/orgs/acme/oidc/connection", e.admin, map[string]any{
		"enabled": true, "issuer_url": p.srv.URL, "client_id": oidcClientID, "client_secret": oidcClientSecret,
		"jit_provisioning": true, "group_sync": true, "allowed_redirect_urls": []string{oidcReturnTo},
	})
	expect(t, "PUT the OIDC connection", res, http.StatusOK, "")
}

// oidcLogin starts a sign-in and returns the authorization request's
// query, checked as a provider would.
func (e *env) oidcLogin(t *testing.T) url.Values {
	t.Helper()
	res := e.get(t, "/sso/acme/oidc/login?return_to="+url.QueryEscape(oidcReturnTo))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login: status %d; want 302", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	checks := map[string]string{
		"response_type": "code", "code_challenge_method": "S256", "client_id": oidcClientID,
		"redirect_uri": e.url + "/sso/acme/oidc/callback",
	}
	for k, want := range checks {
		if got := q.Get(k); got != want {
			t.Errorf("authorization request %s = %q; want %q", k, got, want)
		}
	}
	if q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request lacks state, nonce, code_challenge or the openid scope: %s", loc)
	}
	return q
}

// callback calls the callback as the browser would.
func (e *env) callback(t *testing.T, params url.Values) *http.Response {
	t.Helper()
	return e.get(t, "/sso/acme/oidc/callback?"+params.Encode())
}

// oidcFailures returns the reasons of acme's OIDC user-login-failed
// events, newest first.
func (e *env) oidcFailures(t *testing.T) []string {
	t.Helper()
	events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: authz.ActionUserLoginFailed, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		var d struct{ Reason, Provider string }
		if err := json.Unmarshal(ev.Details, &d); err != nil {
			t.Fatal(err)
		}
		if d.Provider == "oidc" {
			out = append(out, d.Reason)
		}
	}
	return out
}

// memberTeams returns the names of the teams of acme's member userName,
// sorted.
func (e *env) memberTeams(t *testing.T, userName string) []string {
	t.Helper()
	m, err := e.store.MemberByUserName(e.ctx(), e.org.ID, userName)
	if err != nil {
		t.Fatal(err)
	}
	of, err := e.store.MemberTeams(e.ctx(), e.org.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, tr := range of {
		tm, err := e.store.Team(e.ctx(), e.org.ID, tr.TeamID)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tm.Name)
	}
	slices.Sort(names)
	return names
}

func TestOIDCSignIn(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		p := newTestProvider(t)
		e.oidcSetUp(t, p)

		var used url.Values // the request of the sign-in that succeeded
		t.Run("a sign-in creates the member, syncs their groups and sends the code to return_to", func(t *testing.T) {
			q := e.oidcLogin(t)
			res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {p.issue(q, p.claims(q, nil))}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: status %d; want 303", res.StatusCode)
			}
			loc, err := url.Parse(res.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != oidcReturnTo || !strings.HasPrefix(loc.Query().Get("code"), "gthc_") || loc.Query().Get("org") != "acme" {
				t.Errorf("callback redirects to %s; want %s with a login code and org=acme", loc, oidcReturnTo)
			}
			if !slices.ContainsFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == "gatehouse_session" && c.Value != "" }) {
				t.Errorf("callback set no session cookie: %v", res.Header["Set-Cookie"])
			}
			m, err := e.store.MemberByUserName(e.ctx(), e.org.ID, "ann@example.com")
			if err != nil {
				t.Fatalf("the member was not created: %v", err)
			}
			if m.DisplayName != "Ann Lovelace" {
				t.Errorf("member display name %q; want Ann Lovelace", m.DisplayName)
			}
			if got, want := e.memberTeams(t, "ann@example.com"), []string{"Engineering", "Operations"}; !slices.Equal(got, want) {
				t.Errorf("teams %v; want %v", got, want)
			}
			used = q
		})

		refusals := []struct {
			name   string
			params func(t *testing.T) url.Values
			reason string
		}{
			{"a state used before is refused", func(t *testing.T) url.Values {
				if used == nil {
					t.Skip("the sign-in did not succeed")
				}
				return url.Values{"state": {used.Get("state")}, "code": {p.issue(used, p.claims(used, nil))}}
			}, "no login request is waiting"},
			{"an unknown state is refused", func(t *testing.T) url.Values {
				q := e.oidcLogin(t)
				return url.Values{"state": {"made-up"}, "code": {p.issue(q, p.claims(q, nil))}}
			}, "no login request is waiting"},
			{"a nonce other than the request's is refused", func(t *testing.T) url.Values {
				q := e.oidcLogin(t)
				claims := p.claims(q, func(c map[string]any) { c["nonce"] = "another" })
				return url.Values{"state": {q.Get("state")}, "code": {p.issue(q, claims)}}
			}, "nonce"},
			{"an id_token for another audience is refused", func(t *testing.T) url.Values {
				q := e.oidcLogin(t)
				claims := p.claims(q, func(c map[string]any) { c["aud"] = "someone-else" })
				return url.Values{"state": {q.Get("state")}, "code": {p.issue(q, claims)}}
			}, "audience"},
			{"a code the token endpoint refuses is refused", func(t *testing.T) url.Values {
				q := e.oidcLogin(t)
				return url.Values{"state": {q.Get("state")}, "code": {"never-issued"}}
			}, "error=invalid_grant"},
			{"the provider's error is refused", func(t *testing.T) url.Values {
				q := e.oidcLogin(t)
				return url.Values{"state": {q.Get("state")}, "error": {"access_denied"}, "error_description": {"the user said no"}}
			}, "error=access_denied: the user said no"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.oidcFailures(t))
				res := e.callback(t, tc.params(t))
				if res.StatusCode != http.StatusBadRequest {
					t.Fatalf("callback: status %d; want 400", res.StatusCode)
				}
				if slices.ContainsFunc(res.Cookies(), func(c *http.Cookie) bool { return c.Name == "gatehouse_session" }) {
					t.Error("a refused callback set a session cookie")
				}
				failures := e.oidcFailures(t)
				if len(failures) != before+1 || !strings.Contains(failures[0], tc.reason) {
					t.Errorf("user-login-failed reasons %q; want a new one containing %q", failures, tc.reason)
				}
			})
		}

		t.Run("Entra's group overage keeps memberships", func(t *testing.T) {
			q := e.oidcLogin(t)
			claims := p.claims(q, func(c map[string]any) {
				delete(c, "groups")
				c["_claim_names"] = map[string]any{"groups": "src1"}
				c["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": "https://graph.example/groups"}}
			})
			res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {p.issue(q, claims)}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: status %d; want 303", res.StatusCode)
			}
			if got, want := e.memberTeams(t, "ann@example.com"), []string{"Engineering", "Operations"}; !slices.Equal(got, want) {
				t.Errorf("teams after an overage sign-in %v; want %v kept", got, want)
			}
		})

		t.Run("a sign-in without a groups claim leaves every group", func(t *testing.T) {
			q := e.oidcLogin(t)
			claims := p.claims(q, func(c map[string]any) { delete(c, "groups") })
			res := e.callback(t, url.Values{"state": {q.Get("state")}, "code": {p.issue(q, claims)}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: status %d; want 303", res.StatusCode)
			}
			if got := e.memberTeams(t, "ann@example.com"); len(got) != 0 {
				t.Errorf("teams %v; want none", got)
			}
		})
	})
}

func TestOIDCLoginRefusesReturnTo(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		e.oidcSetUp(t, newTestProvider(t))
		for _, returnTo := range []string{
			"https://evil.example.com/done", "https://app.example.com/donefor", "https://app.example.com/done/../x",
			"http://app.example.com/done", "https://app.example.com:8443/done",
		} {
			res := e.get(t, "/sso/acme/oidc/login?return_to="+url.QueryEscape(returnTo))
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("login with return_to %s: status %d; want 400", returnTo, res.StatusCode)
			}
		}
		if res := e.get(t, "/sso/acme/oidc/login?return_to="+url.QueryEscape(oidcReturnTo+"/next?x=1")); res.StatusCode != http.StatusFound {
			t.Errorf("login with an allowed return_to: status %d; want 302", res.StatusCode)
		}
	})
}

func TestOIDCLoginWithoutConnection(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		if res := e.get(t, "/sso/acme/oidc/login"); res.StatusCode != http.StatusNotFound {
			t.Errorf("login without a connection: status %d; want 404", res.StatusCode)
		}
	})
}

func TestOIDCConnectionAPI(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		reader := e.tokenWithScopes([]string{"saml:read"})
		expect(t, "GET before any connection", e.do(http.MethodGet, "/api/orgs/acme/oidc/connection", e.admin, nil), http.StatusNotFound, "")
		body := map[string]any{
			"enabled": true, "issuer_url": "https://idp.example.com", "client_id": oidcClientID, "client_secret": oidcClientSecret,
			"allowed_redirect_urls": []string{oidcReturnTo},
		}
		expect(t, "PUT with saml:read only", e.do(http.MethodPut, "/api/orgs/acme/oidc/connection", reader, body), http.StatusForbidden, "")
		put := e.do(http.MethodPut, "/api/orgs/acme/oidc/connection", e.admin, body)
		expect(t, "PUT", put, http.StatusOK, "")
		e.caughtUp()
		get := e.do(http.MethodGet, "/api/orgs/acme/oidc/connection", reader, nil)
		expect(t, "GET with saml:read", get, http.StatusOK, "")
		for _, res := range []response{put, get} {
			if strings.Contains(string(res.body), oidcClientSecret) || strings.Contains(string(res.body), `"client_secret"`) {
				t.Errorf("the answer shows the client secret: %s", res.body)
			}
			var v struct {
				HasClientSecret bool   `json:"has_client_secret"`
				RedirectURI     string `json:"redirect_uri"`
				ClientID        string `json:"client_id"`
			}
			res.decode(t, &v)
			if !v.HasClientSecret || v.ClientID != oidcClientID || !strings.HasSuffix(v.RedirectURI, "/sso/acme/oidc/callback") {
				t.Errorf("view = %+v", v)
			}
		}
		conn, err := e.store.OIDCSignInConnection(e.ctx(), e.org.ID)
		if err != nil || conn.ClientSecret != oidcClientSecret {
			t.Errorf("stored secret %q, %v; want it kept", conn.ClientSecret, err)
		}
		expect(t, "DELETE with saml:read only", e.do(http.MethodDelete, "/api/orgs/acme/oidc/connection", reader, nil), http.StatusForbidden, "")
		expect(t, "DELETE", e.do(http.MethodDelete, "/api/orgs/acme/oidc/connection", e.admin, nil), http.StatusNoContent, "")
	})
}
