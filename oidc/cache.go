package oidc

import (
	"crypto/sha256"
	"strings"
	"sync"
)

// The key sets of a Verifier are kept by everything that says where the
// keys come from, so an issuer whose registration changes (another JWKS
// URL, new pins, a new static set) gets a fresh key set at its next token,
// and two organizations that register the same issuer differently never
// share one. A static set is keyed by its SHA-256, not a weaker hash: two
// sets colliding would verify one organization's tokens with another's
// keys.

// maxKeySets bounds the cache; when it is full it is emptied and fills
// again with the issuers in use.
const maxKeySets = 4096

type keySetKey struct {
	url, jwksURL, pins string
	static             [sha256.Size]byte
}

func keyOf(iss Issuer) keySetKey {
	k := keySetKey{url: iss.URL, jwksURL: iss.JWKSURL, pins: strings.Join(iss.Thumbprints, ",")}
	if len(iss.StaticJWKS) > 0 {
		k.static = sha256.Sum256(iss.StaticJWKS)
	}
	return k
}

type keySetCache struct {
	mu   sync.Mutex
	sets map[keySetKey]*keySet
}

// get returns the key set of k, made by build the first time.
func (c *keySetCache) get(k keySetKey, build func() (*keySet, error)) (*keySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sets[k]; s != nil {
		return s, nil
	}
	s, err := build()
	if err != nil {
		return nil, err
	}
	if c.sets == nil || len(c.sets) >= maxKeySets {
		c.sets = make(map[keySetKey]*keySet)
	}
	c.sets[k] = s
	return s, nil
}
