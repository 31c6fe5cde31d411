package oidc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"slices"
	"time"

	goidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// Skew is how far in the future a token's "nbf" and "iat" may be, for
// clocks that disagree a little. "exp" gets none: go-oidc checks it
// exactly.
const Skew = time.Minute

// Token is a verified token.
type Token struct {
	Issuer, Subject  string
	Audience         []string
	IssuedAt, Expiry time.Time
	// Claims holds every claim of the payload, decoded with UseNumber:
	// numbers are json.Number, holding their JSON text as it was sent,
	// which is what policies match.
	Claims map[string]any
}

// Verifier verifies workload identity tokens against registered issuers.
// It is safe for concurrent use.
type Verifier struct {
	cfg   Config
	algs  []jose.SignatureAlgorithm
	cache keySetCache
}

// NewVerifier returns a Verifier; see Config for the defaults.
func NewVerifier(cfg Config) *Verifier {
	cfg = cfg.withDefaults()
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.Algorithms {
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	return v
}

// Verify checks that rawToken is a JWT signed by one of iss's keys with
// an allowed algorithm, issued by iss for audience, and valid now. A
// token it refuses gets an *Error; other errors are the caller's mistakes.
func (v *Verifier) Verify(ctx context.Context, iss Issuer, rawToken, audience string) (*Token, error) {
	if audience == "" {
		return nil, errors.New("oidc: Verify needs an audience")
	}
	if len(rawToken) > v.cfg.MaxTokenBytes {
		return nil, tooLarge(v.cfg.MaxTokenBytes)
	}
	jws, err := jose.ParseSignedCompact(rawToken, v.algs)
	if err != nil {
		return nil, parseRefusal(err)
	}
	ks, err := v.keySet(iss)
	if err != nil {
		return nil, err
	}
	call := &verification{raw: rawToken, jws: jws}
	idt, err := goidc.NewVerifier(iss.URL, ks, &goidc.Config{
		ClientID:             audience,
		SupportedSigningAlgs: v.cfg.Algorithms,
		Now:                  v.cfg.Now,
	}).Verify(withVerification(ctx, call), rawToken)
	if err != nil {
		return nil, v.explain(err, call, iss, audience)
	}
	return v.token(idt, call.payload, iss)
}

// parseRefusal is the refusal of a token go-jose cannot parse.
func parseRefusal(err error) *Error {
	var alg *jose.ErrUnexpectedSignatureAlgorithm
	if errors.As(err, &alg) {
		return algorithmRefused(string(alg.Got))
	}
	return refuse(ReasonMalformed, err)
}

// keySet returns the key set of iss's registration.
func (v *Verifier) keySet(iss Issuer) (*keySet, error) {
	return v.cache.get(keyOf(iss), func() (*keySet, error) {
		if err := iss.Validate(); err != nil {
			return nil, refuse(ReasonBadIssuer, err)
		}
		if len(iss.StaticJWKS) > 0 {
			idx, err := parseJWKS(iss.StaticJWKS)
			return staticKeySet(idx), err
		}
		var pins func(tls.ConnectionState) error
		if len(iss.Thumbprints) > 0 {
			pins = pinned(slices.Clone(iss.Thumbprints))
		}
		return &keySet{
			fetch:    iss.source(newFetcher(v.cfg, pins)),
			now:      v.cfg.Now,
			interval: v.cfg.RefetchInterval,
			maxAge:   v.cfg.KeyMaxAge,
			timeout:  v.cfg.FetchTimeout,
		}, nil
	})
}

// token checks what go-oidc leaves out and builds the Token.
func (v *Verifier) token(idt *goidc.IDToken, payload []byte, iss Issuer) (*Token, error) {
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, refuse(ReasonInvalidClaims, err)
	}
	// go-oidc lets Google's "accounts.google.com" stand for its URL;
	// Gatehouse wants the registered URL exactly.
	if idt.Issuer != iss.URL {
		return nil, refuse(ReasonIssuerMismatch, nil)
	}
	now := v.cfg.Now()
	if t, ok := numericDate(claims["nbf"]); ok && t.After(now.Add(Skew)) {
		return nil, refuse(ReasonNotYetValid, nil)
	}
	if t, ok := numericDate(claims["iat"]); ok && t.After(now.Add(Skew)) {
		return nil, refuse(ReasonIssuedInFuture, nil)
	}
	return &Token{
		Issuer: idt.Issuer, Subject: idt.Subject, Audience: idt.Audience,
		IssuedAt: idt.IssuedAt, Expiry: idt.Expiry, Claims: claims,
	}, nil
}

// explain turns a go-oidc failure into a refusal. go-oidc returns text
// for everything but an expired token, so the reason comes from the key
// set's own refusal, or from reading the verified claims again; the
// refusal itself is go-oidc's.
func (v *Verifier) explain(err error, call *verification, iss Issuer, audience string) *Error {
	if call.err != nil {
		if e, ok := call.err.(*Error); ok {
			return e
		}
	}
	if call.payload == nil {
		return refuse(ReasonMalformed, err)
	}
	claims, derr := decodeClaims(call.payload)
	if derr != nil {
		return refuse(ReasonInvalidClaims, err)
	}
	if errors.As(err, new(*goidc.TokenExpiredError)) {
		if _, ok := numericDate(claims["exp"]); !ok {
			return refuse(ReasonNoExpiry, err)
		}
		return refuse(ReasonExpired, err)
	}
	nbf, hasNBF := numericDate(claims["nbf"])
	switch {
	case claims["iss"] != iss.URL:
		return refuse(ReasonIssuerMismatch, err)
	case !audienceHas(claims["aud"], audience):
		return refuse(ReasonAudience, err)
	case hasNBF && nbf.After(v.cfg.Now()):
		return refuse(ReasonNotYetValid, err)
	}
	return refuse(ReasonInvalidClaims, err)
}

func decodeClaims(payload []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// numericDate reads a NumericDate claim (RFC 7519, section 2).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// audienceHas reports whether an "aud" claim, a string or an array of
// strings, holds want.
func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}
