package oidc

import (
	"context"
	"testing"
)

// FuzzVerify feeds arbitrary text as a token to a verifier with a static
// key set. The audience is one no seed carries, so nothing may verify:
// every input must be refused with an *Error, and none may panic.
func FuzzVerify(f *testing.F) {
	const iss = "https://kubernetes.default.svc.cluster.local"
	key := rsaKey(f, 0, "k1")
	ti := newIssuer(f, "", key)
	claims := kubernetesClaims(iss, epoch)
	_, der := publicKeyBytes(f, key)
	for _, seed := range []string{
		sign(f, key, claims),
		unsignedToken(f, claims),
		hmacToken(f, "k1", der, claims),
		"e30.e30.",
		"..",
		"",
		"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.AAAA",
	} {
		f.Add(seed)
	}
	clk := newClock()
	v := NewVerifier(Config{Now: clk.Now})
	issuer := Issuer{URL: iss, StaticJWKS: ti.jwksJSON()}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := v.Verify(context.Background(), issuer, raw, "https://fuzz.invalid")
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Verify returned %v (%T), want an *Error", err, err)
		}
	})
}
