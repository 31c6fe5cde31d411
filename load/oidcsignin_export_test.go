package load

import (
	"crypto/x509"
	"testing"
)

// OIDCProviderRoots trust the certificate the oidc-signin scenario's
// provider serves, for a server the tests run in process.
func OIDCProviderRoots() (*x509.CertPool, error) {
	pt, err := loadProviderTLS()
	if err != nil {
		return nil, err
	}
	return pt.pool, nil
}

// EditOIDCClaims makes the provider pass the claims of every ID token it
// signs through edit until the test ends.
func EditOIDCClaims(t testing.TB, edit func(map[string]any)) {
	oidcTestClaims = edit
	t.Cleanup(func() { oidcTestClaims = nil })
}
