package oidc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Issuer is a registered OIDC issuer and where its keys come from.
type Issuer struct {
	// URL is the issuer identifier, which a token's "iss" must equal
	// exactly.
	URL string
	// JWKSURL, when set, is where the keys are fetched, skipping
	// discovery.
	JWKSURL string
	// StaticJWKS, when set, is the key set itself (a JSON Web Key Set),
	// for issuers Gatehouse cannot reach, such as a private Kubernetes
	// cluster; nothing is ever fetched.
	StaticJWKS []byte
	// Thumbprints, when set, pin the TLS certificates of the hosts the
	// keys are fetched from: the hex SHA-256 of the DER of a certificate
	// in the chain (leaf, intermediate or root). A fetch whose chain holds
	// none of them fails, after the usual certificate verification.
	// Hex digits may be upper or lower case.
	Thumbprints []string
}

// discoveryPath is appended to the issuer URL (OpenID Connect Discovery
// 1.0, section 4).
const discoveryPath = "/.well-known/openid-configuration"

// Validate reports what is wrong with iss, or nil.
func (iss Issuer) Validate() error {
	if iss.URL == "" {
		return errors.New("issuer URL is empty")
	}
	if len(iss.StaticJWKS) > 0 {
		if iss.JWKSURL != "" || len(iss.Thumbprints) > 0 {
			return errors.New("an issuer with a static JWKS has no JWKS URL or thumbprints")
		}
		if _, err := parseJWKS(iss.StaticJWKS); err != nil {
			return fmt.Errorf("static JWKS: %w", err)
		}
		return nil
	}
	if iss.JWKSURL != "" {
		if err := checkHTTPS(iss.JWKSURL); err != nil {
			return fmt.Errorf("JWKS URL: %w", err)
		}
	} else if err := checkHTTPS(iss.URL); err != nil {
		return fmt.Errorf("issuer URL (needed for discovery): %w", err)
	}
	for _, t := range iss.Thumbprints {
		if b, err := hex.DecodeString(t); err != nil || len(b) != 32 {
			return fmt.Errorf("thumbprint %q is not 64 hex digits (a SHA-256)", clip(t))
		}
	}
	return nil
}

func checkHTTPS(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an https URL", clip(raw))
	}
	return nil
}

// source returns the function fetching iss's keys.
func (iss Issuer) source(f *fetcher) func(context.Context) (*keyIndex, error) {
	return func(ctx context.Context) (*keyIndex, error) {
		jwksURL := iss.JWKSURL
		if jwksURL == "" {
			var err error
			if jwksURL, err = iss.discover(ctx, f); err != nil {
				return nil, err
			}
		}
		body, err := f.get(ctx, "JWKS", jwksURL)
		if err != nil {
			return nil, err
		}
		idx, err := parseJWKS(body)
		if err != nil {
			return nil, &fetchError{"JWKS unusable", err}
		}
		return idx, nil
	}
}

// discover reads the issuer's discovery document and returns its
// jwks_uri. The document must name the issuer itself (OpenID Connect
// Discovery 1.0, section 4.3): otherwise one issuer could send tokens
// verified with another's keys.
func (iss Issuer) discover(ctx context.Context, f *fetcher) (string, error) {
	body, err := f.get(ctx, "discovery document", strings.TrimSuffix(iss.URL, "/")+discoveryPath)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", &fetchError{"discovery document is not JSON", err}
	}
	if doc.Issuer != iss.URL {
		return "", &fetchError{"discovery document names another issuer", fmt.Errorf("issuer %q, want %q", clip(doc.Issuer), iss.URL)}
	}
	if doc.JWKSURI == "" {
		return "", &fetchError{"discovery document has no jwks_uri", errors.New("no jwks_uri")}
	}
	return doc.JWKSURI, nil
}
