package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
)

// fuzzIssuerURL is the issuer of the fuzz targets' tokens, GitHub's.
const fuzzIssuerURL = "https://token.actions.githubusercontent.com"

// fuzzKeyScalar is a fixed P-256 key of the fuzz targets, a test key
// only: with it the committed seed corpus (testdata/fuzz) holds tokens
// that verify, which random keys would not after a restart.
const fuzzKeyScalar = "4364b6f08fb6166fc8b0e9d9bec32ed761b9044f5a94f5094b7ef88ed14ac701"

func fuzzKey(t testing.TB) signingKey {
	t.Helper()
	d, err := hex.DecodeString(fuzzKeyScalar)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: "fuzz-1", alg: jose.ES256, priv: k}
}

// fuzzSeeds are tokens of the shapes an exchange meets, signed with the
// fuzz key at epoch: one that verifies and ones each refused for one
// reason.
func fuzzSeeds(t testing.TB) []string {
	key := fuzzKey(t)
	_, der := publicKeyBytes(t, key)
	claims := githubClaims(fuzzIssuerURL, epoch)
	return []string{
		sign(t, key, claims),
		sign(t, key, gitlabClaims(fuzzIssuerURL, epoch)),
		sign(t, key, kubernetesClaims("https://kubernetes.default.svc.cluster.local", epoch)),
		sign(t, key, merge(claims, map[string]any{"aud": "https://elsewhere.example"})),
		sign(t, key, merge(claims, map[string]any{"exp": epoch.Add(-time.Second).Unix()})),
		sign(t, signingKey{alg: key.alg, priv: key.priv}, claims),
		unsignedToken(t, claims),
		hmacToken(t, key.kid, der, claims),
		"e30.e30.",
		"..",
		"",
	}
}

// FuzzVerify feeds arbitrary text as a token to a verifier holding the
// fuzz key. A refusal must be an *Error whose reason does not repeat the
// token. A token accepted must be what go-jose alone verifies with the
// key, with the claims Verify returned, for this issuer and audience and
// not expired; and UnverifiedIssuer, which picks the registration before
// verifying, must name that issuer.
func FuzzVerify(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	key := fuzzKey(f)
	jwks := (&testIssuer{t: f, published: []signingKey{key}}).jwksJSON()
	clk := newClock()
	v := NewVerifier(Config{Now: clk.Now})
	issuer := Issuer{URL: fuzzIssuerURL, StaticJWKS: jwks}
	pub := key.priv.Public()
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := v.Verify(context.Background(), issuer, raw, audience)
		if err != nil {
			checkRefusal(t, raw, err)
			return
		}
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("Verify accepted %q, which go-jose does not parse: %v", raw, err)
		}
		payload, err := jws.Verify(pub)
		if err != nil {
			t.Fatalf("Verify accepted %q, whose signature go-jose refuses: %v", raw, err)
		}
		claims, err := decodeClaims(payload)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(claims, tok.Claims); diff != "" {
			t.Errorf("Verify(%q) claims differ from the signed payload (-signed +returned):\n%s", raw, diff)
		}
		exp, _ := numericDate(claims["exp"])
		if claims["iss"] != fuzzIssuerURL || tok.Issuer != fuzzIssuerURL || !audienceHas(claims["aud"], audience) || !exp.After(clk.Now()) {
			t.Errorf("Verify accepted %q: iss %v, aud %v, exp %v", raw, claims["iss"], claims["aud"], claims["exp"])
		}
		if iss, err := UnverifiedIssuer(raw); err != nil || iss != fuzzIssuerURL {
			t.Errorf("UnverifiedIssuer(%q) = %q, %v; Verify accepted it for %s", raw, iss, err, fuzzIssuerURL)
		}
	})
}

// FuzzUnverifiedIssuer feeds arbitrary text to the peek that picks an
// issuer registration before anything is verified. It refuses with a
// malformed-token or size *Error, or returns a non-empty issuer; and
// where go-jose parses the text as a JWT naming an issuer, the peek
// returns that same issuer: a parser disagreement would send a token to
// one registration while its claims name another.
func FuzzUnverifiedIssuer(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Add(`eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhIiwiSVNTIjoiYiJ9.x`)
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA, jose.HS256}
	f.Fuzz(func(t *testing.T, raw string) {
		iss, err := UnverifiedIssuer(raw)
		if err != nil {
			checkRefusal(t, raw, err)
			if e := err.(*Error); e.Reason != ReasonMalformed && !strings.HasPrefix(e.Reason, "token larger than") {
				t.Errorf("UnverifiedIssuer(%q) reason %q", raw, e.Reason)
			}
		} else if iss == "" {
			t.Errorf("UnverifiedIssuer(%q) returned no issuer and no error", raw)
		}
		parsed, perr := jwt.ParseSigned(raw, algs)
		var c jwt.Claims
		if perr != nil || parsed.UnsafeClaimsWithoutVerification(&c) != nil || c.Issuer == "" || len(raw) > maxPeekBytes {
			return
		}
		// go-jose also reads base64 padded with "=", which go-oidc and
		// the peek refuse: such a token never verifies.
		if strings.Contains(raw, "=") {
			return
		}
		if err != nil || iss != c.Issuer {
			t.Errorf("UnverifiedIssuer(%q) = %q, %v; go-jose reads the issuer %q", raw, iss, err, c.Issuer)
		}
	})
}

// checkRefusal fails t unless err is an *Error with a reason that does
// not repeat any sizeable part of the token.
func checkRefusal(t *testing.T, raw string, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Reason == "" {
		t.Fatalf("refused %q with %v (%T), want an *Error with a reason", raw, err, err)
	}
	for _, part := range strings.Split(raw, ".") {
		if len(part) >= 16 && strings.Contains(e.Reason, part) {
			t.Fatalf("the reason %q repeats the token", e.Reason)
		}
	}
}
