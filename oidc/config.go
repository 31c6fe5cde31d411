package oidc

import (
	"crypto/x509"
	"slices"
	"time"
)

// Config tunes a Verifier. The zero value is what production wants.
type Config struct {
	// FetchTimeout bounds one fetch of discovery document and key set
	// together. Default 10s.
	FetchTimeout time.Duration
	// MaxResponseBytes bounds each document fetched. Default 1 MiB.
	MaxResponseBytes int64
	// RefetchInterval is the least time between two fetches of one
	// issuer's keys, whatever asks for them (an unknown key id, keys
	// grown old, a fetch that failed). Default 1 minute.
	RefetchInterval time.Duration
	// KeyMaxAge is how long fetched keys are used before the next token
	// fetches them again, so that a key the issuer withdrew stops
	// verifying. Default 1 hour.
	KeyMaxAge time.Duration
	// MaxTokenBytes bounds a token, checked before it is parsed.
	// Default 16 KiB.
	MaxTokenBytes int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Algorithms are the signature algorithms accepted. Default RS256,
	// RS384, RS512, ES256, ES384 and PS256. Only asymmetric algorithms
	// are ever accepted: "none" and HS256/384/512 are dropped from the
	// list, since an HMAC "verified" with a public key proves nothing.
	Algorithms []string
	// RootCAs are the certificate authorities trusted for fetches.
	// Default the system's.
	RootCAs *x509.CertPool
	// AllowPrivateNetworks lets fetches connect to addresses outside the
	// public internet (loopback, RFC 1918, link-local, CGNAT...), for
	// issuers inside the operator's network, and tests.
	AllowPrivateNetworks bool
}

var defaultAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}

// asymmetric are the algorithms Config.Algorithms may name.
var asymmetric = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// withDefaults returns c with every unset field set.
func (c Config) withDefaults() Config {
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = 10 * time.Second
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 1 << 20
	}
	if c.RefetchInterval <= 0 {
		c.RefetchInterval = time.Minute
	}
	if c.KeyMaxAge <= 0 {
		c.KeyMaxAge = time.Hour
	}
	if c.MaxTokenBytes <= 0 {
		c.MaxTokenBytes = 16 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var algs []string
	for _, a := range c.Algorithms {
		if slices.Contains(asymmetric, a) && !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		algs = slices.Clone(defaultAlgorithms)
	}
	c.Algorithms = algs
	return c
}
