package oidc

import (
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"sync"
)

// Thumbprints connects to the hosts iss's keys come from (the discovery
// host and the JWKS host, following redirects) and returns the SHA-256
// thumbprints of the certificates they present now, each chain from leaf
// to trusted root, without repeats: what an administrator pins, or
// regenerates pins from after the issuer renews its certificates. It
// fetches the documents as a key fetch does, with the same checks except
// the current pins, and fails where such a fetch fails. A static JWKS has
// no host, so it is an error.
func (v *Verifier) Thumbprints(ctx context.Context, iss Issuer) ([]string, error) {
	if len(iss.StaticJWKS) > 0 {
		return nil, errors.New("oidc: an issuer with a static JWKS has no certificates to pin")
	}
	probe := iss
	probe.Thumbprints = nil
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	var rec recorder
	ctx, cancel := context.WithTimeout(ctx, v.cfg.FetchTimeout)
	defer cancel()
	if _, err := probe.source(newFetcher(v.cfg, rec.record))(ctx); err != nil {
		return nil, asKeysUnavailable(err)
	}
	return rec.thumbprints, nil
}

// recorder collects the thumbprints of the TLS connections it sees.
type recorder struct {
	mu          sync.Mutex
	thumbprints []string
}

func (r *recorder) record(cs tls.ConnectionState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	chain := cs.PeerCertificates
	if len(cs.VerifiedChains) > 0 {
		chain = cs.VerifiedChains[0]
	}
	for _, c := range chain {
		if t := thumbprint(c); !slices.Contains(r.thumbprints, t) {
			r.thumbprints = append(r.thumbprints, t)
		}
	}
	return nil
}
