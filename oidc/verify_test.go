package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

func TestVerifyAcceptsWorkloadTokens(t *testing.T) {
	clk := newClock()
	for _, tc := range []struct {
		name   string
		key    signingKey
		claims func(iss string, now time.Time) map[string]any
		sub    string
	}{
		{"a GitHub Actions token", rsaKey(t, 0, "gh-1"), githubClaims, "repo:acme/api:ref:refs/heads/main"},
		{"a GitLab CI token", rsaKey(t, 1, "gl-1"), gitlabClaims, "project_path:acme/api:ref_type:branch:ref:main"},
		{"a Kubernetes service account token signed with ES256", ecdsaKey(t, "k8s-1"), kubernetesClaims, "system:serviceaccount:prod:deployer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := newIssuer(t, "/issuer", tc.key)
			v := NewVerifier(ti.config(clk))
			tok, err := v.Verify(context.Background(), ti.issuer(), ti.mint(tc.claims(ti.url, clk.Now())), audience)
			if err != nil {
				t.Fatal(err)
			}
			want := Token{Issuer: ti.url, Subject: tc.sub, Audience: []string{audience}, IssuedAt: epoch, Expiry: tok.Expiry}
			got := *tok
			got.Claims = nil
			if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
			if iat, ok := tok.Claims["iat"].(json.Number); !ok || iat.String() != "1773480413" {
				t.Errorf("iat claim %#v, want the json.Number 1773480413", tok.Claims["iat"])
			}
		})
	}
}

func TestVerifyRefusesAttacks(t *testing.T) {
	key := rsaKey(t, 0, "k1")
	ti := newIssuer(t, "", key)
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	good := func(edits ...func(map[string]any)) map[string]any {
		c := githubClaims(ti.url, clk.Now())
		for _, e := range edits {
			e(c)
		}
		return c
	}
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	pemKey, derKey := publicKeyBytes(t, key)
	in := func(d time.Duration) int64 { return clk.Now().Add(d).Unix() }
	for _, tc := range []struct {
		name, reason string
		token        func() string
	}{
		{"a token signed with alg none", "algorithm none is not allowed",
			func() string { return unsignedToken(t, good()) }},
		{"an HS256 token keyed with the issuer's public key as PEM", "algorithm HS256 is not allowed",
			func() string { return hmacToken(t, "k1", pemKey, good()) }},
		{"an HS256 token keyed with the issuer's public key as DER", "algorithm HS256 is not allowed",
			func() string { return hmacToken(t, "k1", derKey, good()) }},
		{"an expired token", ReasonExpired,
			func() string { return ti.mint(good(set("iat", in(-10*time.Minute)), set("exp", in(-time.Second)))) }},
		{"a token without exp", ReasonNoExpiry,
			func() string { return ti.mint(good(func(c map[string]any) { delete(c, "exp") })) }},
		{"a token not valid for another two minutes", ReasonNotYetValid,
			func() string { return ti.mint(good(set("nbf", in(2*time.Minute)))) }},
		{"a token issued two minutes from now", ReasonIssuedInFuture,
			func() string { return ti.mint(good(set("iat", in(2*time.Minute)))) }},
		{"a token of another issuer", ReasonIssuerMismatch,
			func() string { return ti.mint(good(set("iss", "https://token.actions.githubusercontent.com"))) }},
		{"a token for another audience", ReasonAudience,
			func() string { return ti.mint(good(set("aud", "sts.amazonaws.com"))) }},
		{"a token without audience", ReasonAudience,
			func() string { return ti.mint(good(func(c map[string]any) { delete(c, "aud") })) }},
		{"a token over 16 KiB", "token larger than 16384 bytes",
			func() string { return ti.mint(good(set("padding", strings.Repeat("x", 16<<10)))) }},
		{"a token signed by another key under the issuer's key id", ReasonBadSignature,
			func() string { return sign(t, rsaKey(t, 1, "k1"), good()) }},
		{"a token whose payload was changed after signing", ReasonBadSignature,
			func() string { return swapPayload(t, ti.mint(good()), good(set("repository", "evil/api"))) }},
		{"a token with a key id the issuer does not publish", ReasonUnknownKey,
			func() string { return sign(t, rsaKey(t, 1, "k9"), good()) }},
		{"a token with a claim of the wrong type", ReasonInvalidClaims,
			func() string { return ti.mint(good(set("sub", 42))) }},
		{"text that is not a JWT", ReasonMalformed,
			func() string { return "not-a-jwt" }},
		{"a JWS in JSON serialization", ReasonMalformed,
			func() string { return jsonSerialized(t, key, good()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.token()
			_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
			refusedWith(t, err, tc.reason, raw)
		})
	}
}

// publicKeyBytes returns key's public key as PEM and as DER, the bytes an
// algorithm-confusion attacker would use as an HMAC secret.
func publicKeyBytes(t testing.TB, key signingKey) (pemBytes, der []byte) {
	der, err := x509.MarshalPKIXPublicKey(key.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), der
}

func b64(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// unsignedToken is an "alg": "none" token (RFC 7519, section 6).
func unsignedToken(t testing.TB, claims map[string]any) string {
	return b64(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(t, claims) + "."
}

// hmacToken is an HS256 token keyed with secret.
func hmacToken(t testing.TB, kid string, secret []byte, claims map[string]any) string {
	input := b64(t, map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64(t, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// swapPayload puts claims in place of raw's payload, keeping its header
// and signature.
func swapPayload(t testing.TB, raw string, claims map[string]any) string {
	parts := strings.Split(raw, ".")
	return parts[0] + "." + b64(t, claims) + "." + parts[2]
}

func jsonSerialized(t testing.TB, key signingKey, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: key.priv}, (&jose.SignerOptions{}).WithHeader("kid", key.kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return jws.FullSerialize()
}

func TestSymmetricAlgorithmsAreNeverAccepted(t *testing.T) {
	key := rsaKey(t, 0, "k1")
	ti := newIssuer(t, "", key)
	clk := newClock()
	cfg := ti.config(clk)
	cfg.Algorithms = []string{"HS256", "none", "RS256"}
	v := NewVerifier(cfg)
	_, der := publicKeyBytes(t, key)
	raw := hmacToken(t, "k1", der, githubClaims(ti.url, clk.Now()))
	_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
	refusedWith(t, err, "algorithm HS256 is not allowed", raw)
	if _, err := v.Verify(context.Background(), ti.issuer(), ti.mint(githubClaims(ti.url, clk.Now())), audience); err != nil {
		t.Errorf("RS256, which the list also names, refused: %v", err)
	}
}

func TestVerifyAllowsSkewOnNotBefore(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	c := githubClaims(ti.url, clk.Now().Add(Skew-time.Second))
	if _, err := v.Verify(context.Background(), ti.issuer(), ti.mint(c), audience); err != nil {
		t.Errorf("a token from a clock %v ahead refused: %v", Skew-time.Second, err)
	}
}

func TestVerifyAcceptsOneOfSeveralAudiences(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	c := kubernetesClaims(ti.url, clk.Now())
	c["aud"] = []string{"https://kubernetes.default.svc", audience}
	if _, err := v.Verify(context.Background(), ti.issuer(), ti.mint(c), audience); err != nil {
		t.Error(err)
	}
}

// go-oidc lets "accounts.google.com" stand for Google's issuer URL;
// Gatehouse holds every issuer to the URL registered.
func TestIssuerMustMatchExactlyEvenForGoogle(t *testing.T) {
	const google = "https://accounts.google.com"
	ti := newIssuer(t, "", rsaKey(t, 0, "g1"))
	clk := newClock()
	v := NewVerifier(Config{Now: clk.Now})
	iss := Issuer{URL: google, StaticJWKS: ti.jwksJSON()}
	if _, err := v.Verify(context.Background(), iss, ti.mint(githubClaims(google, clk.Now())), audience); err != nil {
		t.Fatalf("a token of %s refused: %v", google, err)
	}
	raw := ti.mint(githubClaims("accounts.google.com", clk.Now()))
	_, err := v.Verify(context.Background(), iss, raw, audience)
	refusedWith(t, err, ReasonIssuerMismatch, raw)
}
