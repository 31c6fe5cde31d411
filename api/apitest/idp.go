package apitest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"math/big"
	"net/url"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// SelfSigned returns a fresh RSA-2048 key and a certificate for it, named
// cn and valid from an hour ago for a day: what a test identity provider
// signs with.
func SelfSigned(t testing.TB, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// IdPMetadata returns the SAML metadata XML of an identity provider whose
// entity id is entityID, with a fresh key.
func IdPMetadata(t testing.TB, entityID string) string {
	t.Helper()
	key, cert := SelfSigned(t, "test idp")
	md, _ := url.Parse(entityID)
	sso, _ := url.Parse(entityID + "/sso")
	idp := crewjam.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *md, SSOURL: *sso}
	raw, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
