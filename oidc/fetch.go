package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxRedirects bounds the redirects of one fetch.
const maxRedirects = 3

var errPinMismatch = errors.New("no certificate of the server's chain matches the issuer's pinned thumbprints")

// fetchError is a failed fetch: short says what failed in a few words for
// the refusal, err is the cause.
type fetchError struct {
	short string
	err   error
}

func (e *fetchError) Error() string { return e.short + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// fetcher gets the documents of one issuer.
type fetcher struct {
	client   *http.Client
	maxBytes int64
}

// newFetcher returns a fetcher whose TLS connections must also pass
// verify, when it is not nil.
func newFetcher(cfg Config, verify func(tls.ConnectionState) error) *fetcher {
	dialer := &net.Dialer{Timeout: cfg.FetchTimeout}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12, VerifyConnection: verify},
		TLSHandshakeTimeout: cfg.FetchTimeout,
		// Keys are fetched once a minute at most: a kept connection would
		// mostly sit idle.
		DisableKeepAlives: true,
	}
	if !cfg.AllowPrivateNetworks {
		dialer.Control = dialPublicOnly
		transport.Proxy = nil
	}
	client := &http.Client{Transport: transport, CheckRedirect: checkRedirect}
	return &fetcher{client: client, maxBytes: cfg.MaxResponseBytes}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("more than %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "https" {
		return errors.New("redirected away from https")
	}
	return nil
}

// pinned returns a TLS check requiring that the server's chain, as sent
// or as verified up to a trusted root, holds a certificate whose SHA-256
// thumbprint is one of pins. It runs after the usual verification, never
// instead of it.
func pinned(pins []string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		for _, c := range chainOf(cs) {
			for _, p := range pins {
				if strings.EqualFold(thumbprint(c), p) {
					return nil
				}
			}
		}
		return errPinMismatch
	}
}

// chainOf returns the certificates of a connection: those the server sent,
// then those of the verified chains it did not send (the trusted roots).
func chainOf(cs tls.ConnectionState) []*x509.Certificate {
	all := append([]*x509.Certificate(nil), cs.PeerCertificates...)
	for _, chain := range cs.VerifiedChains {
		for _, c := range chain {
			if !containsCert(all, c) {
				all = append(all, c)
			}
		}
	}
	return all
}

func containsCert(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, d := range certs {
		if d.Equal(c) {
			return true
		}
	}
	return false
}

// thumbprint is the lowercase hex SHA-256 of a certificate's DER.
func thumbprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// get fetches what (a few words naming the document) from rawURL.
func (f *fetcher) get(ctx context.Context, what, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, &fetchError{what + " URL is not https", fmt.Errorf("%q", rawURL)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &fetchError{what + " URL is invalid", err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, &fetchError{what + " " + failure(err), err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &fetchError{fmt.Sprintf("%s answered HTTP %d", what, resp.StatusCode), errors.New(resp.Status)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, &fetchError{what + " " + failure(err), err}
	}
	if int64(len(body)) > f.maxBytes {
		return nil, &fetchError{fmt.Sprintf("%s larger than %d bytes", what, f.maxBytes), errors.New("response too large")}
	}
	return body, nil
}

// failure names the kind of a failed request.
func failure(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errPinMismatch):
		return "certificate does not match the pinned thumbprints"
	case errors.Is(err, errNotPublic):
		return "address is not public"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "request timed out"
	case errors.As(err, new(*tls.CertificateVerificationError)):
		return "certificate not trusted"
	}
	return "request failed"
}

// withTimeout is the context of one fetch, detached from the caller's so
// that one impatient caller does not fail the fetch others wait for.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
