package directory

import (
	"encoding/json"
	"time"
)

// OIDCIssuer is an OpenID Connect provider whose ID tokens workloads (CI
// jobs, cloud functions) may trade for short-lived Gatehouse tokens, with
// the authorization policy that decides what a token's claims buy.
//
// The directory checks the issuer's shape and keeps the policy as an opaque
// JSON object: package oidc verifies tokens against the issuer's keys and
// validates and evaluates the policy.
type OIDCIssuer struct {
	ID   string `json:"id"`
	Name string `json:"name"` // unique per organization in any letter case
	// URL is the iss claim the issuer's tokens carry, compared as a
	// string, as OIDC Discovery requires. It is unique per organization:
	// the exchange finds the issuer by it.
	URL string `json:"url"`
	// JWKSURL, when set, is where the keys are fetched instead of the
	// discovery document's jwks_uri.
	JWKSURL string `json:"jwks_url,omitempty"`
	// StaticJWKS, when set, are the issuer's keys; they are never fetched.
	StaticJWKS json.RawMessage `json:"static_jwks,omitempty"`
	// Thumbprints pin the TLS certificates the issuer's keys are fetched
	// over: SHA-256, lowercase hex, sorted, never nil. Empty pins none.
	Thumbprints []string `json:"thumbprints"`
	// MaxExpiration caps the lifetime of a token minted from this
	// issuer's tokens, in whole seconds. The API presents it in its own
	// unit, hence no JSON name.
	MaxExpiration time.Duration   `json:"-"`
	Policy        json.RawMessage `json:"policy"`
	// PolicyVersion counts the policy's changes; SetAuthPolicy checks it.
	PolicyVersion int64     `json:"policy_version"`
	Version       int64     `json:"version"` // grows with every change, policy and thumbprints included
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Bounds and defaults of an OIDCIssuer.
const (
	DefaultOIDCMaxExpiration = 2 * time.Hour
	MinOIDCMaxExpiration     = time.Minute
	MaxOIDCMaxExpiration     = 24 * time.Hour
	MaxOIDCIssuerURLBytes    = 512
	MaxStaticJWKSBytes       = 64 << 10
	MaxOIDCThumbprints       = 10
	MaxAuthPolicyBytes       = 256 << 10
)

// DenyAllPolicy is the policy a new issuer starts with: no rule, so its
// tokens buy nothing until an administrator writes one.
const DenyAllPolicy = `{"rules":[]}`
