package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
)

// ciIssuer is an in-process OIDC issuer shaped like GitHub Actions, with
// its keys given to Gatehouse as a static JWKS (no network).
type ciIssuer struct {
	t   testing.TB
	url string
	key *rsa.PrivateKey
}

func newCIIssuer(t testing.TB) *ciIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &ciIssuer{t: t, url: "https://token.actions.example.test", key: key}
}

func (c *ciIssuer) jwks() json.RawMessage {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &c.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	raw, err := json.Marshal(set)
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

// token signs claims over GitHub-Actions-shaped defaults.
func (c *ciIssuer) token(audience string, edit func(map[string]any)) string {
	c.t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": c.url, "aud": audience, "sub": "repo:acme/api:ref:refs/heads/main",
		"repository": "acme/api", "repository_owner": "acme", "ref": "refs/heads/main", "workflow": "deploy",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if edit != nil {
		edit(claims)
	}
	return signRS256(c.t, c.key, "k1", claims)
}

// signRS256 returns claims as a compact JWT signed with key under kid.
func signRS256(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// exchangeForm posts a token exchange as a form and returns the answer.
func exchangeForm(t *testing.T, e *env, fields url.Values) (int, map[string]any) {
	t.Helper()
	res := apitest.Do(t, http.MethodPost, e.url+"/oauth/token", "", fields.Encode(), "application/x-www-form-urlencoded", nil)
	var body map[string]any
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatalf("exchange answered %d with %q", res.Status, res.Body)
	}
	return res.Status, body
}

func TestTokenExchange(t *testing.T) {
	eachDialect(t, func(t *testing.T, e *env) {
		ci := newCIIssuer(t)
		audience := "urn:gatehouse:org:acme"
		f := fixture{t: t, e: e}
		platform := f.team("platform")

		// Registering the issuer needs oidc_issuers:create; it starts denying everything.
		res := e.do(http.MethodPost, "/api/orgs/acme/oidc/issuers", e.admin, map[string]any{
			"name": "github", "url": ci.url, "static_jwks": ci.jwks(), "max_expiration": 1800})
		expect(t, "register the issuer", res, http.StatusCreated, "")
		var issuer struct {
			ID     string          `json:"id"`
			Policy json.RawMessage `json:"policy"`
		}
		res.decode(t, &issuer)
		reader := e.tokenWithScopes([]string{"oidc_issuers:read"})
		expect(t, "register without oidc_issuers:create", e.do(http.MethodPost, "/api/orgs/acme/oidc/issuers", reader,
			map[string]any{"name": "other", "url": "https://other.example.test", "static_jwks": ci.jwks()}), http.StatusForbidden, "")

		form := func(scope string, edit func(map[string]any)) url.Values {
			return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {ci.token(audience, edit)},
				"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {audience}, "scope": {scope}}
		}
		status, body := exchangeForm(t, e, form("team:platform", nil))
		if status != http.StatusForbidden || body["error"] != "unauthorized_client" {
			t.Errorf("exchange under the deny-all policy: %d %v", status, body)
		}

		policy := map[string]any{"rules": []map[string]any{
			{"decision": "deny", "claims": map[string]any{"ref": "refs/heads/evil-*"}},
			{"decision": "allow", "claims": map[string]any{"repository": "acme/*", "ref": "refs/heads/*"}, "token_type": "team", "team": "platform"},
			{"decision": "allow", "claims": map[string]any{"repository": "acme/api"}, "token_type": "organization", "role": "member"},
		}}
		expect(t, "set the policy without auth_policies:update",
			e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", reader, policy), http.StatusForbidden, "")
		expect(t, "set the policy", e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", e.admin, policy), http.StatusOK, "")
		expect(t, "a policy giving admin as a role", e.do(http.MethodPut, "/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", e.admin,
			map[string]any{"rules": []map[string]any{{"decision": "allow", "claims": map[string]any{"sub": "*"}, "token_type": "organization", "role": "admin"}}}),
			http.StatusBadRequest, "allow_admin")

		status, body = exchangeForm(t, e, form("team:platform", nil))
		if status != http.StatusOK || body["token_type"] != "Bearer" || body["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" ||
			body["expires_in"] != float64(1800) || !strings.HasPrefix(body["access_token"].(string), "gth") {
			t.Fatalf("team token exchange: %d %v", status, body)
		}
		// The minted token is the team's: the check API answers for it.
		teamToken := body["access_token"].(string)
		toks, err := e.store.Tokens(e.ctx(), e.org.ID, directory.TokenFilter{Kind: authz.TokenTeam, TeamID: platform.ID})
		if err != nil || len(toks) != 1 || toks[0].Origin != directory.OriginExchange || toks[0].IssuerID != issuer.ID {
			t.Errorf("tokens of the team after the exchange: %+v, %v", toks, err)
		}
		me := e.do(http.MethodGet, "/api/me?org=acme", teamToken, nil)
		expect(t, "the exchanged token on /api/me", me, http.StatusOK, "")

		for _, tc := range []struct {
			name, scope, want string
			edit              func(map[string]any)
			fields            func(url.Values)
		}{
			{"a deny rule wins over the allow rule", "team:platform", "unauthorized_client", func(c map[string]any) { c["ref"] = "refs/heads/evil-1" }, nil},
			{"admin is never given when no rule allows it", "admin", "unauthorized_client", nil, nil},
			{"a team no rule names", "team:other", "unauthorized_client", nil, nil},
			{"an expired token", "team:platform", "invalid_grant", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, nil},
			{"a token for another audience", "team:platform", "invalid_grant", func(c map[string]any) { c["aud"] = "urn:gatehouse:org:other" }, nil},
			{"an issuer that is not registered", "team:platform", "invalid_grant", func(c map[string]any) { c["iss"] = "https://evil.example.test" }, nil},
			{"a lifetime beyond the issuer's maximum", "team:platform", "invalid_request", nil, func(v url.Values) { v.Set("expiration", "3600") }},
			{"an unknown organization", "team:platform", "invalid_target", nil, func(v url.Values) { v.Set("audience", "urn:gatehouse:org:nowhere") }},
			{"another grant type", "team:platform", "unsupported_grant_type", nil, func(v url.Values) { v.Set("grant_type", "client_credentials") }},
			{"a scope of no known shape", "teams:platform", "invalid_scope", nil, nil},
			{"a token whose signature does not verify", "team:platform", "invalid_grant", nil, func(v url.Values) {
				tok := v.Get("subject_token")
				v.Set("subject_token", tok[:len(tok)-4]+"AAAA")
			}},
		} {
			t.Run("refuses "+tc.name, func(t *testing.T) {
				v := form(tc.scope, tc.edit)
				if tc.fields != nil {
					tc.fields(v)
				}
				status, body := exchangeForm(t, e, v)
				if status < 400 || body["error"] != tc.want || body["access_token"] != nil {
					t.Errorf("%d %v, want error %s", status, body, tc.want)
				}
			})
		}
		// An issuer registered with another organization is no issuer of
		// this one, whatever its tokens say.
		other, err := e.store.CreateOrganization(e.ctx(), "other", "Other")
		if err != nil {
			t.Fatal(err)
		}
		elsewhere := newCIIssuer(t)
		elsewhere.url = "https://ci.other.example.test"
		if _, _, err := e.store.CreateOIDCIssuer(e.ctx(), other.ID, directory.OIDCIssuer{Name: "ci", URL: elsewhere.url, StaticJWKS: elsewhere.jwks()}); err != nil {
			t.Fatal(err)
		}
		v := form("team:platform", nil)
		v.Set("subject_token", elsewhere.token(audience, nil))
		if status, body := exchangeForm(t, e, v); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("a token of another organization's issuer: %d %v, want invalid_grant", status, body)
		}
		events, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: authz.ActionOIDCIssuerValidationFailed})
		if err != nil || len(events) < 3 {
			t.Errorf("refused tokens of the registered issuer audited %d times (%v), want at least 3", len(events), err)
		}
		created, err := e.store.AuditEvents(e.ctx(), e.org.ID, directory.AuditFilter{Action: authz.ActionTeamTokenCreatedForOIDCIssuer})
		if err != nil || len(created) != 1 {
			t.Errorf("team-token-created-for-oidc-issuer events: %d (%v), want 1", len(created), err)
		}

		// Deleting the issuer revokes what its tokens bought.
		expect(t, "delete the issuer", e.do(http.MethodDelete, "/api/orgs/acme/oidc/issuers/"+issuer.ID, e.admin, nil), http.StatusNoContent, "")
		expect(t, "the exchanged token after its issuer is deleted", e.do(http.MethodGet, "/api/me?org=acme", teamToken, nil), http.StatusUnauthorized, "")
		if status, body := exchangeForm(t, e, form("team:platform", nil)); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("an exchange right after the issuer's deletion: %d %v, want invalid_grant", status, body)
		}
	})
}
