package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Limits of a key set: real issuers publish a handful of keys.
const (
	maxKeys       = 100
	minRSAKeyBits = 2048
)

// publicKey is one usable key of an issuer.
type publicKey struct {
	kid, alg string // alg is the JWK's "alg", often empty
	key      crypto.PublicKey
}

// keyIndex is one fetched key set, never changed after it is built.
type keyIndex struct {
	byKID map[string][]publicKey
	all   []publicKey
}

// parseJWKS reads a JSON Web Key Set (RFC 7517). Keys Gatehouse cannot
// use are skipped rather than failing the set, so that an issuer adding a
// key of a new type does not break its tokens: keys of unknown type or
// that do not parse, symmetric keys, private keys, keys for encryption
// ("use": "enc") and RSA keys under 2048 bits. A set with no usable key,
// or with more than 100 keys, is an error.
func parseJWKS(data []byte) (*keyIndex, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if len(set.Keys) > maxKeys {
		return nil, fmt.Errorf("%d keys, more than %d", len(set.Keys), maxKeys)
	}
	idx := &keyIndex{byKID: make(map[string][]publicKey)}
	for _, raw := range set.Keys {
		if k, ok := usableKey(raw); ok {
			idx.byKID[k.kid] = append(idx.byKID[k.kid], k)
			idx.all = append(idx.all, k)
		}
	}
	if len(idx.all) == 0 {
		return nil, errors.New("no usable signing key")
	}
	return idx, nil
}

// usableKey decodes one JWK and reports whether it can verify signatures.
func usableKey(raw json.RawMessage) (publicKey, bool) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.Valid() || !jwk.IsPublic() || jwk.Use == "enc" {
		return publicKey{}, false
	}
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSAKeyBits {
			return publicKey{}, false
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return publicKey{}, false
	}
	return publicKey{kid: jwk.KeyID, alg: jwk.Algorithm, key: jwk.Key}, true
}

// lookup returns the keys that may have signed a token with this key id
// and algorithm. A token without a key id is accepted only from an issuer
// with a single key: trying every key of a set would let a sender make
// each token cost many verifications.
func (idx *keyIndex) lookup(kid, alg string) []publicKey {
	candidates := idx.byKID[kid]
	if kid == "" {
		if len(idx.all) != 1 {
			return nil
		}
		candidates = idx.all
	}
	for i, k := range candidates {
		if !k.fits(alg) {
			return fitting(candidates[i+1:], alg)
		}
	}
	return candidates
}

// fitting returns the keys of ks that fit alg.
func fitting(ks []publicKey, alg string) []publicKey {
	var fit []publicKey
	for _, k := range ks {
		if k.fits(alg) {
			fit = append(fit, k)
		}
	}
	return fit
}

// fits reports whether k can verify a signature made with alg.
func (k publicKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch k.key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
