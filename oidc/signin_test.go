package oidc

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// discoveryServer is a TLS provider whose discovery document pads to size
// bytes, and the pool trusting it.
func discoveryServer(t *testing.T, size int) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := `{"issuer":"` + srv.URL + `","authorization_endpoint":"` + srv.URL + `/authorize","token_endpoint":"` +
			srv.URL + `/token","jwks_uri":"` + srv.URL + `/jwks","pad":"`
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc + strings.Repeat("x", max(0, size-len(doc)-2)) + `"}`))
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}

func TestSignInDiscoveryFetches(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		private bool
		want    string // a part of the refusal's reason; "" for success
	}{
		{"a discovery document within the limit is used", 2000, true, ""},
		{"a discovery document over the limit is refused", 5000, true, "response too large"},
		{"a provider on a private address is refused by default", 2000, false, "address is not public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, pool := discoveryServer(t, tc.size)
			rp := NewRelyingParty(RelyingPartyConfig{Fetch: Config{RootCAs: pool, AllowPrivateNetworks: tc.private, MaxResponseBytes: 4096}})
			_, err := rp.provider(context.Background(), srv.URL)
			var se *SignInError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("provider: %v", err)
			case tc.want != "" && (!errors.As(err, &se) || se.Kind != FailureUnavailable || !strings.Contains(se.Reason, tc.want)):
				t.Fatalf("provider: %v; want a FailureUnavailable refusal naming %q", err, tc.want)
			}
		})
	}
}

func TestGroupClaims(t *testing.T) {
	if got := groupNames([]any{"Eng", "eng", 7, "Ops"}); strings.Join(got, ",") != "Eng,Ops" {
		t.Errorf("groupNames = %q; want Eng,Ops", got)
	}
	if !overage(map[string]any{"hasgroups": true}, "groups") {
		t.Error("hasgroups: true is not an overage")
	}
	if !overage(map[string]any{"_claim_names": map[string]any{"groups": "src1"}}, "roles") {
		t.Error(`_claim_names naming groups is not an overage`)
	}
	if overage(map[string]any{"_claim_names": map[string]any{"other": "src1"}}, "groups") {
		t.Error("_claim_names naming another claim is an overage")
	}
}
