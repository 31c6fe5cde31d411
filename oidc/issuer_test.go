package oidc

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIssuerValidate(t *testing.T) {
	testKeys(t)
	static := []byte(`{"keys":[` + jwkJSON(t, rsaKey(t, 0, "k").jwk()) + `]}`)
	pin := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		iss  Issuer
		want string
	}{
		{"discovery over https", Issuer{URL: "https://token.actions.githubusercontent.com"}, ""},
		{"a JWKS URL and pins", Issuer{URL: "https://gitlab.com", JWKSURL: "https://gitlab.com/oauth/discovery/keys", Thumbprints: []string{pin, strings.ToUpper(pin)}}, ""},
		{"a static JWKS with a non-URL issuer", Issuer{URL: "kubernetes/serviceaccount", StaticJWKS: static}, ""},
		{"no URL", Issuer{}, "issuer URL is empty"},
		{"discovery over http", Issuer{URL: "http://gitlab.example"}, "not an https URL"},
		{"a JWKS URL over http", Issuer{URL: "https://gitlab.example", JWKSURL: "http://gitlab.example/keys"}, "JWKS URL"},
		{"a URL with credentials", Issuer{URL: "https://user:pw@gitlab.example"}, "not an https URL"},
		{"a short thumbprint", Issuer{URL: "https://gitlab.example", Thumbprints: []string{"abcd"}}, "not 64 hex digits"},
		{"a thumbprint with colons", Issuer{URL: "https://gitlab.example", Thumbprints: []string{strings.Repeat("ab:", 31) + "ab"}}, "not 64 hex digits"},
		{"a static JWKS that does not parse", Issuer{URL: "https://k8s", StaticJWKS: []byte(`{`)}, "static JWKS"},
		{"a static JWKS with pins", Issuer{URL: "https://k8s", StaticJWKS: static, Thumbprints: []string{pin}}, "no JWKS URL or thumbprints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.iss.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"140.82.112.21", true},
		{"2606:50c0:8000::154", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"fe80::1", false},
		{"fd00:ec2::254", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.251", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"64:ff9b::a9fe:a9fe", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if got := publicAddr(netip.MustParseAddr(tc.addr)); got != tc.public {
				t.Errorf("public = %v, want %v", got, tc.public)
			}
		})
	}
}
