package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The test issuers are in-process OIDC providers: an httptest TLS server
// serving a discovery document and a JWKS, and go-jose signing tokens
// shaped like those of GitHub Actions, GitLab CI and Kubernetes.

const audience = "https://gatehouse.example"

// epoch is the frozen now of the tests.
var epoch = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.set(epoch)
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// signingKey is a key of a test issuer.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k signingKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// Key generation is slow, so the tests share a few keys.
var (
	keysOnce sync.Once
	rsaKeys  [3]*rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		ecKey = k
	})
}

func rsaKey(t testing.TB, i int, kid string) signingKey {
	testKeys(t)
	return signingKey{kid: kid, alg: jose.RS256, priv: rsaKeys[i]}
}

func ecdsaKey(t testing.TB, kid string) signingKey {
	testKeys(t)
	return signingKey{kid: kid, alg: jose.ES256, priv: ecKey}
}

// testIssuer is an OIDC provider on an httptest TLS server.
type testIssuer struct {
	t   testing.TB
	srv *httptest.Server
	url string

	mu        sync.Mutex
	published []signingKey     // in the JWKS
	signer    signingKey       // signs tokens
	discover  func() any       // the discovery document, when not the usual
	jwks      http.HandlerFunc // the JWKS handler, when not the usual
	jwksHits  atomic.Int32     // requests for the JWKS
	allHits   atomic.Int32     // requests for anything
}

// newIssuer starts an issuer publishing and signing with key; its URL is
// the server's plus path, like "/gitlab".
func newIssuer(t testing.TB, path string, key signingKey) *testIssuer {
	ti := &testIssuer{t: t, published: []signingKey{key}, signer: key}
	ti.srv = httptest.NewUnstartedServer(http.HandlerFunc(ti.serve))
	// Refused handshakes are what some tests are about: not news.
	ti.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	ti.srv.StartTLS()
	t.Cleanup(ti.srv.Close)
	ti.url = ti.srv.URL + path
	return ti
}

func (ti *testIssuer) serve(w http.ResponseWriter, r *http.Request) {
	ti.allHits.Add(1)
	ti.mu.Lock()
	discover, jwks := ti.discover, ti.jwks
	ti.mu.Unlock()
	switch r.URL.Path {
	case ti.path() + discoveryPath:
		doc := any(map[string]any{"issuer": ti.url, "jwks_uri": ti.url + "/jwks"})
		if discover != nil {
			doc = discover()
		}
		writeJSON(w, doc)
	case ti.path() + "/jwks":
		ti.jwksHits.Add(1)
		if jwks != nil {
			jwks(w, r)
			return
		}
		writeJSON(w, ti.keySet())
	default:
		http.NotFound(w, r)
	}
}

func (ti *testIssuer) path() string { return ti.url[len(ti.srv.URL):] }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// keySet is the issuer's JWKS.
func (ti *testIssuer) keySet() jose.JSONWebKeySet {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range ti.published {
		set.Keys = append(set.Keys, k.jwk())
	}
	return set
}

func (ti *testIssuer) jwksJSON() []byte {
	b, err := json.Marshal(ti.keySet())
	if err != nil {
		ti.t.Fatal(err)
	}
	return b
}

// rotate publishes key beside the others and signs with it from now on.
func (ti *testIssuer) rotate(key signingKey) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.published = append(ti.published, key)
	ti.signer = key
}

func (ti *testIssuer) issuer() Issuer { return Issuer{URL: ti.url} }

// config is a Config trusting the issuer's certificate, dialling
// loopback, on clk.
func (ti *testIssuer) config(clk *clock) Config {
	pool := x509.NewCertPool()
	pool.AddCert(ti.srv.Certificate())
	return Config{RootCAs: pool, AllowPrivateNetworks: true, Now: clk.Now}
}

// mint signs claims with the issuer's current key.
func (ti *testIssuer) mint(claims map[string]any) string {
	ti.mu.Lock()
	key := ti.signer
	ti.mu.Unlock()
	return sign(ti.t, key, claims)
}

func sign(t testing.TB, key signingKey, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if key.kid != "" {
		opts = opts.WithHeader("kid", key.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: key.priv}, opts)
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

// timeClaims are iat, nbf and exp of a token issued at now, valid for
// five minutes, as GitHub's and GitLab's are.
func timeClaims(now time.Time) map[string]any {
	return map[string]any{"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// githubClaims are shaped like a GitHub Actions token of a deployment job.
func githubClaims(iss string, now time.Time) map[string]any {
	return merge(timeClaims(now), map[string]any{
		"iss":                   iss,
		"aud":                   audience,
		"jti":                   "6f1c5c9e-3a0e-4a4e-9c1b-2b6f2d0f8e11",
		"sub":                   "repo:acme/api:ref:refs/heads/main",
		"repository":            "acme/api",
		"repository_id":         "690123456",
		"repository_owner":      "acme",
		"repository_owner_id":   "1234567",
		"repository_visibility": "private",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"sha":                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4",
		"workflow":              "deploy",
		"workflow_ref":          "acme/api/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref":      "acme/api/.github/workflows/deploy.yml@refs/heads/main",
		"environment":           "production",
		"event_name":            "push",
		"actor":                 "octocat",
		"actor_id":              "583231",
		"run_id":                "8472916345",
		"run_number":            "311",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
	})
}

// gitlabClaims are shaped like a GitLab CI id_tokens token.
func gitlabClaims(iss string, now time.Time) map[string]any {
	return merge(timeClaims(now), map[string]any{
		"iss":                   iss,
		"aud":                   audience,
		"jti":                   "b6a8c0e6-43f1-4c6a-9a3e-73cd2b19d0a4",
		"sub":                   "project_path:acme/api:ref_type:branch:ref:main",
		"namespace_id":          "72",
		"namespace_path":        "acme",
		"project_id":            "20",
		"project_path":          "acme/api",
		"user_id":               "1",
		"user_login":            "jdoe",
		"user_email":            "jdoe@acme.example",
		"pipeline_id":           "574",
		"pipeline_source":       "push",
		"job_id":                "302",
		"ref":                   "main",
		"ref_type":              "branch",
		"ref_path":              "refs/heads/main",
		"ref_protected":         "true",
		"environment":           "production",
		"environment_protected": "true",
		"runner_id":             1,
		"runner_environment":    "gitlab-hosted",
	})
}

// kubernetesClaims are shaped like a projected service account token.
func kubernetesClaims(iss string, now time.Time) map[string]any {
	return merge(map[string]any{"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}, map[string]any{
		"iss": iss,
		"aud": []string{audience},
		"jti": "0e8d7b9f-4c1a-4f0e-8a52-6b1b5f9f3c27",
		"sub": "system:serviceaccount:prod:deployer",
		"kubernetes.io": map[string]any{
			"namespace": "prod",
			"node":      map[string]any{"name": "node-a", "uid": "5f0c1d7e-7a7b-4c43-8d8e-0c7f1e3a2b19"},
			"pod":       map[string]any{"name": "deployer-7d9f8c6b5-x2x8k", "uid": "1a2b3c4d-0000-4000-8000-000000000001"},
			"serviceaccount": map[string]any{
				"name": "deployer",
				"uid":  "9c8b7a6d-0000-4000-8000-000000000002",
			},
		},
	})
}

// refusedWith fails t unless err is an *Error with this reason that does
// not hold token.
func refusedWith(t testing.TB, err error, reason, token string) {
	t.Helper()
	e, ok := err.(*Error)
	switch {
	case !ok:
		t.Fatalf("error %v (%T), want an *Error %q", err, err, reason)
	case e.Reason != reason:
		t.Fatalf("reason %q (%v), want %q", e.Reason, err, reason)
	case token != "" && strings.Contains(err.Error(), token):
		t.Fatalf("error repeats the token: %v", err)
	}
}
