package load

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The exchange scenario trades workload identity tokens for Gatehouse
// tokens over POST /oauth/token, as CI jobs do: the tool registers itself
// as an OIDC issuer of the organization (a fresh RSA-2048 key given as a
// static JWKS, so the server fetches nothing), gives it a policy of a deny
// rule and two allow rules, creates the team the policy names, and then
// exchanges GitHub-Actions-shaped RS256 tokens for team tokens. The tokens
// are signed before the timed phase, a few hundred of them, each exchanged
// many times while it lasts, as a job's token may be: what is timed is the
// server's work — verification, policy, the token written.

// exchangeTokens is how many distinct identity tokens the phase cycles.
const exchangeTokens = 256

// exchangeSetup is the issuer the tool plays and the requests it sends.
type exchangeSetup struct {
	bodies [][]byte
}

// exchange runs the scenario: set-up, then timed exchanges.
func (s *session) exchange(ctx context.Context) error {
	x, err := s.exchangeSetup(ctx)
	if err != nil {
		return err
	}
	ph := s.begin("exchange", "team tokens", s.o.Concurrency, false)
	defer s.end(ph)
	k := ph.kind("POST /oauth/token", 1)
	forLimit(ctx, s.limit(), s.o.Concurrency, func(ctx context.Context, _ int, rng *rand.Rand) {
		body := x.bodies[rng.IntN(len(x.bodies))]
		res, ok := s.c.send(ctx, k, call{method: http.MethodPost, path: "/oauth/token",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: body, want: []int{http.StatusOK}})
		if ok && !json.Valid(res) {
			unexpected(k, "want the token as JSON", res)
		}
	})
	return nil
}

func (s *session) exchangeSetup(ctx context.Context) (*exchangeSetup, error) {
	ph := s.begin("exchange", "setup", 1, true)
	defer s.end(ph)
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	issuerURL := "https://ci.load.test/" + s.pop.run
	team := "load-" + s.pop.run + "-deployers"
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "load", Algorithm: "RS256", Use: "sig"}}}
	create := ph.kind("POST /api/orgs/{org}/teams", 1)
	if res, ok := s.c.send(ctx, create, s.api(http.MethodPost, "/teams", jsonBody(teamBody{Name: team}), http.StatusCreated)); !ok {
		return nil, fmt.Errorf("cannot create the team the policy names: %.300s", res)
	}
	register := ph.kind("POST /api/orgs/{org}/oidc/issuers", 1)
	res, ok := s.c.send(ctx, register, s.api(http.MethodPost, "/oidc/issuers", jsonBody(map[string]any{
		"name": "load-" + s.pop.run, "url": issuerURL, "static_jwks": jwks}), http.StatusCreated))
	if !ok {
		return nil, fmt.Errorf("cannot register the tool as an OIDC issuer (the admin token needs oidc_issuers:create): %.300s", res)
	}
	var issuer struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(res, &issuer); err != nil || issuer.ID == "" {
		return nil, fmt.Errorf("the registered issuer has no id: %.300s", res)
	}
	policy := ph.kind("PUT /api/orgs/{org}/oidc/issuers/{id}/policy", 1)
	if res, ok := s.c.send(ctx, policy, s.api(http.MethodPut, "/oidc/issuers/"+url.PathEscape(issuer.ID)+"/policy", jsonBody(map[string]any{
		"rules": []map[string]any{
			{"decision": "deny", "claims": map[string]any{"ref": "refs/heads/experiment-*"}},
			{"decision": "allow", "claims": map[string]any{"repository": "acme/*", "ref": "refs/heads/main"}, "token_type": "team", "team": team},
			{"decision": "allow", "claims": map[string]any{"repository": "acme/api"}, "token_type": "organization"},
		}}), http.StatusOK)); !ok {
		return nil, fmt.Errorf("cannot set the issuer's policy (the admin token needs auth_policies:update): %.300s", res)
	}
	return signExchanges(key, issuerURL, "urn:gatehouse:org:"+s.t.org, team)
}

// signExchanges signs the identity tokens and encodes the requests.
func signExchanges(key *rsa.PrivateKey, issuerURL, audience, team string) (*exchangeSetup, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "load"))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	x := &exchangeSetup{}
	for i := range exchangeTokens {
		claims, _ := json.Marshal(map[string]any{
			"iss": issuerURL, "aud": audience, "sub": fmt.Sprintf("repo:acme/service-%d:ref:refs/heads/main", i),
			"repository": fmt.Sprintf("acme/service-%d", i), "repository_owner": "acme", "ref": "refs/heads/main",
			"workflow": "deploy", "run_id": fmt.Sprint(1000 + i),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
		jws, err := signer.Sign(claims)
		if err != nil {
			return nil, err
		}
		token, err := jws.CompactSerialize()
		if err != nil {
			return nil, err
		}
		x.bodies = append(x.bodies, []byte(url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {token},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}, "audience": {audience},
			"scope": {"team:" + team}, "expiration": {"900"},
		}.Encode()))
	}
	return x, nil
}
