package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse/gatehouse/directory"
)

// signatureMethod signs authentication and logout requests.
const signatureMethod = dsig.RSASHA256SignatureMethod

// keyPair is a service provider key, parsed.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// parseKeyPair reads the PEM of a service provider key. The directory
// generates RSA keys; only those sign with signatureMethod.
func parseKeyPair(k directory.SPKey) (keyPair, error) {
	der, err := certificateDER(k)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, fmt.Errorf("service provider key %s: %w", k.ID, err)
	}
	b, _ := pem.Decode([]byte(k.PrivateKeyPEM))
	if b == nil {
		return keyPair{}, fmt.Errorf("service provider key %s: no private key PEM", k.ID)
	}
	key, err := parseRSAKey(b)
	if err != nil {
		return keyPair{}, fmt.Errorf("service provider key %s: %w", k.ID, err)
	}
	return keyPair{key: key, cert: cert}, nil
}

func parseRSAKey(b *pem.Block) (*rsa.PrivateKey, error) {
	if b.Type == "RSA PRIVATE KEY" {
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", k)
	}
	return rk, nil
}

// certificateDER returns the DER bytes of k's certificate.
func certificateDER(k directory.SPKey) ([]byte, error) {
	b, _ := pem.Decode([]byte(k.CertificatePEM))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("service provider key %s: no certificate PEM", k.ID)
	}
	return b.Bytes, nil
}
