package oidc

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifyOK fails t unless v accepts a fresh GitHub-shaped token of ti
// signed with ti's current key.
func verifyOK(t *testing.T, v *Verifier, ti *testIssuer, clk *clock) {
	t.Helper()
	if _, err := v.Verify(context.Background(), ti.issuer(), ti.mint(githubClaims(ti.url, clk.Now())), audience); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

func wantHits(t *testing.T, ti *testIssuer, want int32) {
	t.Helper()
	if got := ti.jwksHits.Load(); got != want {
		t.Fatalf("%d JWKS requests, want %d", got, want)
	}
}

func TestUnknownKeyIDRefetchesOncePerInterval(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	verifyOK(t, v, ti, clk)
	wantHits(t, ti, 1)

	clk.advance(61 * time.Second)
	raw := sign(t, rsaKey(t, 1, "made-up-1"), githubClaims(ti.url, clk.Now()))
	_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
	refusedWith(t, err, ReasonUnknownKey, raw)
	wantHits(t, ti, 2)

	raw = sign(t, rsaKey(t, 2, "made-up-2"), githubClaims(ti.url, clk.Now()))
	_, err = v.Verify(context.Background(), ti.issuer(), raw, audience)
	refusedWith(t, err, ReasonUnknownKey, raw)
	wantHits(t, ti, 2)

	verifyOK(t, v, ti, clk)
	wantHits(t, ti, 2)
}

func TestKeyRotationIsPickedUp(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "2026-01"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	verifyOK(t, v, ti, clk)
	oldKeyToken := ti.mint(githubClaims(ti.url, clk.Now()))

	ti.rotate(rsaKey(t, 1, "2026-03"))
	t.Run("a new key within the interval of the last fetch is refused", func(t *testing.T) {
		raw := ti.mint(githubClaims(ti.url, clk.Now()))
		_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
		refusedWith(t, err, ReasonUnknownKey, raw)
		wantHits(t, ti, 1)
	})
	clk.advance(time.Minute)
	t.Run("a new key after the interval is fetched and accepted", func(t *testing.T) {
		verifyOK(t, v, ti, clk)
		wantHits(t, ti, 2)
	})
	t.Run("the old key, still published, keeps verifying", func(t *testing.T) {
		if _, err := v.Verify(context.Background(), ti.issuer(), oldKeyToken, audience); err != nil {
			t.Error(err)
		}
		wantHits(t, ti, 2)
	})
}

func TestWithdrawnKeyStopsVerifyingAfterMaxAge(t *testing.T) {
	old := rsaKey(t, 0, "old")
	ti := newIssuer(t, "", old)
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	verifyOK(t, v, ti, clk)
	ti.mu.Lock()
	ti.published = []signingKey{rsaKey(t, 1, "new")}
	ti.mu.Unlock()

	clk.advance(59 * time.Minute)
	verifyOK(t, v, ti, clk)
	wantHits(t, ti, 1)

	clk.advance(2 * time.Minute)
	raw := ti.mint(githubClaims(ti.url, clk.Now()))
	_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
	refusedWith(t, err, ReasonUnknownKey, raw)
	wantHits(t, ti, 2)
}

func TestFailedFetchIsRetriedAfterTheInterval(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	ti.jwks = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	for range 2 {
		raw := ti.mint(githubClaims(ti.url, clk.Now()))
		_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
		refusedWith(t, err, "issuer keys unavailable: JWKS answered HTTP 502", raw)
		wantHits(t, ti, 1)
	}
	ti.mu.Lock()
	ti.jwks = nil
	ti.mu.Unlock()
	clk.advance(time.Minute)
	verifyOK(t, v, ti, clk)
	wantHits(t, ti, 2)
}

func TestConcurrentFirstTokensShareOneFetch(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	raw := ti.mint(githubClaims(ti.url, clk.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), ti.issuer(), raw, audience)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wantHits(t, ti, 1)
}

func TestIssuerKeysRefused(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		setup        func(*testIssuer, *Config, *Issuer)
	}{
		{"a discovery document naming another issuer", "issuer keys unavailable: discovery document names another issuer",
			func(ti *testIssuer, _ *Config, _ *Issuer) {
				ti.discover = func() any {
					return map[string]string{"issuer": "https://token.actions.githubusercontent.com", "jwks_uri": ti.url + "/jwks"}
				}
			}},
		{"a discovery document without jwks_uri", "issuer keys unavailable: discovery document has no jwks_uri",
			func(ti *testIssuer, _ *Config, _ *Issuer) {
				ti.discover = func() any { return map[string]string{"issuer": ti.url} }
			}},
		{"a JWKS over the size limit", "issuer keys unavailable: JWKS larger than 4096 bytes",
			func(ti *testIssuer, cfg *Config, _ *Issuer) {
				cfg.MaxResponseBytes = 4096
				ti.jwks = func(w http.ResponseWriter, _ *http.Request) {
					fmt.Fprintf(w, `{"keys":[]%s}`, strings.Repeat(" ", 4096))
				}
			}},
		{"a JWKS without usable keys", "issuer keys unavailable: JWKS unusable",
			func(ti *testIssuer, _ *Config, _ *Issuer) {
				ti.jwks = func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) }
			}},
		{"a JWKS server that does not answer in time", "issuer keys unavailable: JWKS request timed out",
			func(ti *testIssuer, cfg *Config, _ *Issuer) {
				cfg.FetchTimeout = 200 * time.Millisecond
				release := make(chan struct{})
				ti.t.Cleanup(func() { close(release) })
				// The handler holds the request until the test ends, so the
				// only way out for the client is its own timeout.
				ti.jwks = func(http.ResponseWriter, *http.Request) { <-release }
			}},
		{"a certificate chain without the pinned thumbprint", "issuer keys unavailable: discovery document certificate does not match the pinned thumbprints",
			func(_ *testIssuer, _ *Config, iss *Issuer) { iss.Thumbprints = []string{strings.Repeat("ab", 32)} }},
		{"an issuer on loopback when private networks are not allowed", "issuer keys unavailable: discovery document address is not public",
			func(_ *testIssuer, cfg *Config, _ *Issuer) { cfg.AllowPrivateNetworks = false }},
		{"a JWKS URL on loopback when private networks are not allowed", "issuer keys unavailable: JWKS address is not public",
			func(ti *testIssuer, cfg *Config, iss *Issuer) {
				cfg.AllowPrivateNetworks = false
				iss.JWKSURL = ti.url + "/jwks"
			}},
		{"a CA the verifier does not trust", "issuer keys unavailable: discovery document certificate not trusted",
			func(_ *testIssuer, cfg *Config, _ *Issuer) { cfg.RootCAs = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
			clk := newClock()
			cfg, iss := ti.config(clk), ti.issuer()
			tc.setup(ti, &cfg, &iss)
			raw := ti.mint(githubClaims(ti.url, clk.Now()))
			_, err := NewVerifier(cfg).Verify(context.Background(), iss, raw, audience)
			refusedWith(t, err, tc.reason, raw)
		})
	}
}

func TestPinnedThumbprintAccepted(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	pin := thumbprint(ti.srv.Certificate())
	for _, tc := range []struct {
		name string
		pins []string
	}{
		{"the pin alone", []string{pin}},
		{"the pin in upper case after another", []string{strings.Repeat("0", 64), strings.ToUpper(pin)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss := Issuer{URL: ti.url, Thumbprints: tc.pins}
			if _, err := v.Verify(context.Background(), iss, ti.mint(githubClaims(ti.url, clk.Now())), audience); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestThumbprints(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	v := NewVerifier(ti.config(newClock()))
	got, err := v.Thumbprints(context.Background(), Issuer{URL: ti.url, Thumbprints: []string{strings.Repeat("ab", 32)}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{thumbprint(ti.srv.Certificate())}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("thumbprints %v, want %v", got, want)
	}
	if ti.jwksHits.Load() != 1 {
		t.Errorf("%d JWKS requests, want 1: the JWKS host is one the keys come from", ti.jwksHits.Load())
	}
	if _, err := v.Thumbprints(context.Background(), Issuer{URL: ti.url, StaticJWKS: ti.jwksJSON()}); err == nil {
		t.Error("thumbprints of a static JWKS, want an error")
	}
}

func TestStaticJWKSNeedsNoNetwork(t *testing.T) {
	const k8s = "https://kubernetes.default.svc.cluster.local"
	ti := newIssuer(t, "", ecdsaKey(t, "cluster-1"))
	clk := newClock()
	// No private networks and no trusted CA: a fetch could not succeed.
	v := NewVerifier(Config{Now: clk.Now})
	iss := Issuer{URL: k8s, StaticJWKS: ti.jwksJSON()}
	if _, err := v.Verify(context.Background(), iss, ti.mint(kubernetesClaims(k8s, clk.Now())), audience); err != nil {
		t.Fatal(err)
	}
	raw := sign(t, rsaKey(t, 0, "cluster-2"), kubernetesClaims(k8s, clk.Now()))
	_, err := v.Verify(context.Background(), iss, raw, audience)
	refusedWith(t, err, ReasonUnknownKey, raw)
	if n := ti.allHits.Load(); n != 0 {
		t.Errorf("%d HTTP requests, want none", n)
	}
}

func TestJWKSURLSkipsDiscovery(t *testing.T) {
	ti := newIssuer(t, "/gitlab", rsaKey(t, 0, "k1"))
	ti.discover = func() any { return map[string]string{"issuer": "https://elsewhere.example"} }
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	iss := Issuer{URL: ti.url, JWKSURL: ti.url + "/jwks"}
	if _, err := v.Verify(context.Background(), iss, ti.mint(gitlabClaims(ti.url, clk.Now())), audience); err != nil {
		t.Fatal(err)
	}
	if all, jwks := ti.allHits.Load(), ti.jwksHits.Load(); all != 1 || jwks != 1 {
		t.Errorf("%d requests of which %d for the JWKS, want the JWKS only", all, jwks)
	}
}

func TestChangedRegistrationGetsFreshKeys(t *testing.T) {
	ti := newIssuer(t, "", rsaKey(t, 0, "k1"))
	clk := newClock()
	v := NewVerifier(ti.config(clk))
	verifyOK(t, v, ti, clk)
	iss := Issuer{URL: ti.url, JWKSURL: ti.url + "/jwks"}
	ti.rotate(rsaKey(t, 1, "k2"))
	if _, err := v.Verify(context.Background(), iss, ti.mint(githubClaims(ti.url, clk.Now())), audience); err != nil {
		t.Fatal(err)
	}
	wantHits(t, ti, 2)
}
