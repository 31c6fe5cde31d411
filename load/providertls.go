package load

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// The oidc-signin scenario's provider serves TLS, because Gatehouse
// fetches nothing from an issuer but over https, on loopback with a
// self-signed certificate that no server trusts unless told to. The
// certificate and its key are kept in the user's cache folder and reused
// while they are valid, so that a server the operator runs can be
// started once with SSL_CERT_FILE naming the certificate and trust every
// later run; a server the tool starts is given it the same way.

// providerTLS is the certificate the tool's OIDC provider serves.
type providerTLS struct {
	cert     tls.Certificate
	certFile string // the certificate alone, PEM, for SSL_CERT_FILE
	pool     *x509.CertPool
}

// providerTLSValidity is how long a new certificate is valid; one with
// less than a day left is replaced.
const providerTLSValidity = 365 * 24 * time.Hour

// providerTLSDir is the folder of the certificate and its key.
func providerTLSDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no folder to keep the OIDC provider's certificate in: %w", err)
	}
	return filepath.Join(dir, "gatehouse-load"), nil
}

// loadProviderTLS reads the kept certificate, or makes and keeps a new
// one when there is none or it expires within a day.
func loadProviderTLS() (*providerTLS, error) {
	dir, err := providerTLSDir()
	if err != nil {
		return nil, err
	}
	certFile, keyFile := filepath.Join(dir, "oidc-provider-cert.pem"), filepath.Join(dir, "oidc-provider-key.pem")
	if pt, err := readProviderTLS(certFile, keyFile); err == nil {
		return pt, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := newProviderCert()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	return readProviderTLS(certFile, keyFile)
}

func readProviderTLS(certFile, keyFile string) (*providerTLS, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	if time.Until(cert.Leaf.NotAfter) < 24*time.Hour {
		return nil, errors.New("the OIDC provider's certificate expires within a day")
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return &providerTLS{cert: cert, certFile: certFile, pool: pool}, nil
}

// newProviderCert makes a self-signed certificate for 127.0.0.1, ::1 and
// localhost.
func newProviderCert() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "gatehouse load OIDC provider"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(providerTLSValidity),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// serverConfig is the provider's TLS configuration.
func (pt *providerTLS) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pt.cert}, MinVersion: tls.VersionTLS12}
}
