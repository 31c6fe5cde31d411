package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/api/apitest"
	"github.com/gatehouse/gatehouse/authz"
	"github.com/gatehouse/gatehouse/directory"
	"github.com/gatehouse/gatehouse/directory/storetest"
)

// slowLimit is a limit of a burst of n and then a request every 1000 seconds:
// no bucket refills while a test runs.
func slowLimit(n int) api.RateLimit { return api.RateLimit{PerSecond: 0.001, Burst: n} }

// withRateLimits runs fn against a fresh stack with limits, on each database.
func withRateLimits(t *testing.T, limits api.RateLimits, fn func(t *testing.T, st *apitest.Stack)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, apitest.Start(t, d, api.Config{RateLimits: limits}))
		})
	}
}

// addrClient is a client whose connections come from one loopback address, so
// that a test can be several clients to the server.
type addrClient struct {
	t    *testing.T
	http *http.Client
}

func clientFrom(t *testing.T, ip string) addrClient {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return addrClient{t: t, http: &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// send makes a request with an optional bearer token and form body.
func (p addrClient) send(method, target, token string, form url.Values) apitest.Response {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := p.http.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return apitest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// wantAnswer fails t unless res has status.
func wantAnswer(t *testing.T, what string, res apitest.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, res.Status, res.Body, status)
	}
}

// wantRateLimited checks a 429 with a Retry-After of whole seconds, at
// least 1, and a body of contentType; it returns the body decoded when it
// is JSON.
func wantRateLimited(t *testing.T, what string, res apitest.Response, contentType string) map[string]any {
	t.Helper()
	wantAnswer(t, what, res, http.StatusTooManyRequests)
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds, at least 1", what, res.Header.Get("Retry-After"))
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, contentType) {
		t.Errorf("%s: Content-Type %q, want %s", what, ct, contentType)
	}
	var body map[string]any
	if strings.Contains(contentType, "json") {
		if err := json.Unmarshal(res.Body, &body); err != nil {
			t.Fatalf("%s: body %q: %v", what, res.Body, err)
		}
	}
	return body
}

// wantSCIMRateLimited checks the RFC 7644 error shape of a 429.
func wantSCIMRateLimited(t *testing.T, what string, res apitest.Response) {
	t.Helper()
	body := wantRateLimited(t, what, res, "application/scim+json")
	schemas, _ := body["schemas"].([]any)
	if !slices.Contains(schemas, any("urn:ietf:params:scim:api:messages:2.0:Error")) || body["status"] != "429" ||
		body["detail"] == "" || body["scimType"] != nil {
		t.Errorf("%s: %s, want a SCIM error with status \"429\", a detail and no scimType", what, res.Body)
	}
}

func scimTokens(t *testing.T, st *apitest.Stack) (string, string) {
	_, a := st.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "okta"})
	_, b := st.Token(t, directory.NewToken{Kind: authz.TokenSCIM, Name: "entra"})
	return a, b
}

func TestSCIMIsLimitedPerToken(t *testing.T) {
	withRateLimits(t, api.RateLimits{SCIMToken: slowLimit(2)}, func(t *testing.T, st *apitest.Stack) {
		a, b := scimTokens(t, st)
		users := st.URL + "/scim/v2/acme/Users"
		one, two := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
		wantAnswer(t, "token A, 1st", one.send(http.MethodGet, users, a, nil), http.StatusOK)
		wantAnswer(t, "token A, 2nd", one.send(http.MethodGet, users, a, nil), http.StatusOK)
		wantSCIMRateLimited(t, "token A, 3rd", one.send(http.MethodGet, users, a, nil))
		wantSCIMRateLimited(t, "token A from another address", two.send(http.MethodGet, users, a, nil))
		wantAnswer(t, "token B from the first address", one.send(http.MethodGet, users, b, nil), http.StatusOK)
	})
}

func TestSCIMIsLimitedPerAddress(t *testing.T) {
	withRateLimits(t, api.RateLimits{SCIMAddress: slowLimit(2)}, func(t *testing.T, st *apitest.Stack) {
		a, b := scimTokens(t, st)
		users := st.URL + "/scim/v2/acme/Users"
		one, two, three := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
		wantAnswer(t, "token A", one.send(http.MethodGet, users, a, nil), http.StatusOK)
		wantAnswer(t, "token B", one.send(http.MethodGet, users, b, nil), http.StatusOK)
		wantSCIMRateLimited(t, "token A again, the address's third request", one.send(http.MethodGet, users, a, nil))
		wantSCIMRateLimited(t, "token B again", one.send(http.MethodGet, users, b, nil))
		wantAnswer(t, "token A from another address", two.send(http.MethodGet, users, a, nil), http.StatusOK)

		// Wrong tokens spend the address's requests too: guessing is limited
		// before any token is looked up.
		wrong := "gths_" + strings.Repeat("x", 38)
		wantAnswer(t, "a wrong token", three.send(http.MethodGet, users, wrong, nil), http.StatusUnauthorized)
		wantAnswer(t, "a wrong token again", three.send(http.MethodGet, users, wrong, nil), http.StatusUnauthorized)
		wantSCIMRateLimited(t, "token A after two wrong ones", three.send(http.MethodGet, users, a, nil))
	})
}

// exchangeOf is a token exchange of subjectToken for an organization
// token of acme.
func exchangeOf(subjectToken string) url.Values {
	return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subjectToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {"urn:gatehouse:org:acme"}}
}

// wantOAuthRateLimited checks the RFC 6749 error shape of a 429.
func wantOAuthRateLimited(t *testing.T, what string, res apitest.Response) {
	t.Helper()
	body := wantRateLimited(t, what, res, "application/json")
	if body["error"] != "temporarily_unavailable" || body["error_description"] == "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: %s (Cache-Control %q), want error temporarily_unavailable with a description, not stored",
			what, res.Body, res.Header.Get("Cache-Control"))
	}
}

func TestTokenExchangeIsLimitedPerAddress(t *testing.T) {
	withRateLimits(t, api.RateLimits{ExchangeAddress: slowLimit(1)}, func(t *testing.T, st *apitest.Stack) {
		one, two := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
		garbage := exchangeOf("not a token")
		wantAnswer(t, "a first exchange", one.send(http.MethodPost, st.URL+"/oauth/token", "", garbage), http.StatusBadRequest)
		wantOAuthRateLimited(t, "a second from the address", one.send(http.MethodPost, st.URL+"/oauth/token", "", garbage))
		wantAnswer(t, "one from another address", two.send(http.MethodPost, st.URL+"/oauth/token", "", garbage), http.StatusBadRequest)
	})
}

func TestTokenExchangeIsLimitedPerVerifiedSubject(t *testing.T) {
	withRateLimits(t, api.RateLimits{ExchangeSubject: slowLimit(1)}, func(t *testing.T, st *apitest.Stack) {
		ci := newCIIssuer(t)
		issuer, _, err := st.Store.CreateOIDCIssuer(apitest.System(), st.Org.ID, directory.OIDCIssuer{Name: "github", URL: ci.url, StaticJWKS: ci.jwks()})
		if err != nil {
			t.Fatal(err)
		}
		policy := `{"rules":[{"decision":"allow","claims":{"repository":"acme/*"},"token_type":"organization","role":"member"}]}`
		res := apitest.Do(t, http.MethodPut, st.URL+"/api/orgs/acme/oidc/issuers/"+issuer.ID+"/policy", st.Admin, policy, "application/json", nil)
		wantAnswer(t, "set the policy", res, http.StatusOK)
		subject := func(sub string) func(map[string]any) { return func(c map[string]any) { c["sub"] = sub } }
		p := clientFrom(t, "127.0.0.1")
		exchange := func(tok string) apitest.Response {
			return p.send(http.MethodPost, st.URL+"/oauth/token", "", exchangeOf(tok))
		}

		wantAnswer(t, "main's first exchange", exchange(ci.token("urn:gatehouse:org:acme", subject("repo:acme/api:main"))), http.StatusOK)
		wantOAuthRateLimited(t, "main's second", exchange(ci.token("urn:gatehouse:org:acme", subject("repo:acme/api:main"))))

		// Tokens that claim a subject without a valid signature do not
		// spend that subject's exchanges.
		forged := ci.token("urn:gatehouse:org:acme", subject("repo:acme/api:dev"))
		forged = forged[:len(forged)-4] + "AAAA"
		for range 3 {
			wantAnswer(t, "a forged token of dev", exchange(forged), http.StatusBadRequest)
		}
		wantAnswer(t, "dev's first real exchange", exchange(ci.token("urn:gatehouse:org:acme", subject("repo:acme/api:dev"))), http.StatusOK)
	})
}

func TestSSOIsLimitedPerAddress(t *testing.T) {
	withRateLimits(t, api.RateLimits{SSOAddress: slowLimit(2)}, func(t *testing.T, st *apitest.Stack) {
		one, two := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
		login := st.URL + "/sso/acme/saml/login"
		for i := range 2 {
			if res := one.send(http.MethodGet, login, "", nil); res.Status == http.StatusTooManyRequests {
				t.Fatalf("login %d of a burst of 2 refused", i+1)
			}
		}
		wantRateLimited(t, "the login page", one.send(http.MethodGet, login, "", nil), "text/plain")
		wantRateLimited(t, "the OIDC callback", one.send(http.MethodGet, st.URL+"/sso/acme/oidc/callback", "", nil), "text/plain")
		wantRateLimited(t, "the ACS", one.send(http.MethodPost, st.URL+"/sso/acme/saml/acs", "", url.Values{"SAMLResponse": {"x"}}), "text/plain")
		body := wantRateLimited(t, "the code redemption", one.send(http.MethodPost, st.URL+"/sso/acme/token", "", url.Values{"code": {"x"}}), "application/json")
		if e, _ := body["error"].(map[string]any); e["code"] != "rate_limited" || e["request_id"] == "" {
			t.Errorf("the code redemption: %v, want the API's error shape with code rate_limited", body)
		}
		if res := two.send(http.MethodGet, login, "", nil); res.Status == http.StatusTooManyRequests {
			t.Error("another address was refused")
		}
		wantAnswer(t, "the token exchange, which the SSO limit does not cover",
			one.send(http.MethodPost, st.URL+"/oauth/token", "", exchangeOf("x")), http.StatusBadRequest)
	})
}

func TestTheCheckAPIIsNeverRateLimited(t *testing.T) {
	every := api.RateLimits{SCIMToken: slowLimit(1), SCIMAddress: slowLimit(1), ExchangeAddress: slowLimit(1), ExchangeSubject: slowLimit(1), SSOAddress: slowLimit(1)}
	withRateLimits(t, every, func(t *testing.T, st *apitest.Stack) {
		p := clientFrom(t, "127.0.0.1")
		p.send(http.MethodGet, st.URL+"/scim/v2/acme/Users", "", nil) // spends the address's only SCIM request
		p.send(http.MethodGet, st.URL+"/sso/acme/saml/login", "", nil)
		check := `{"principal":{"token":"` + st.Admin + `"},"scope":"stack:read","entity":{"type":"stack","id":"proj/dev"}}`
		for i := range 20 {
			res := apitest.Do(t, http.MethodPost, st.URL+"/api/orgs/acme/authz/check", st.Admin, check, "application/json", nil)
			wantAnswer(t, "check "+strconv.Itoa(i+1), res, http.StatusOK)
		}
	})
}
