package saml

import (
	"slices"
	"sync"

	"github.com/gatehouse/gatehouse/directory"
)

// Building a service provider parses the identity provider's metadata and
// certificates and the private key, with its precomputation: about a third
// of a millisecond, a fifth of an ACS request's work. So providers are kept
// per organization, key and public URL, and reused while the connection
// holds the metadata, key and audiences a provider was built from. The
// check compares those values themselves rather than a version number, so
// no write path — a metadata refresh, a key rotation, a connection deleted
// and made again — can leave a stale provider in use, on this replica or
// another.

// maxProviders bounds the cache; when it is full it is emptied and fills
// again with the organizations that sign people in.
const maxProviders = 4096

type providerKey struct{ org, key, entity string }

type cachedProvider struct {
	metadata, privateKey, certificate string
	audiences                         []string
	p                                 *provider
}

func (c *cachedProvider) fits(conn directory.SAMLConnection, key directory.SPKey) bool {
	return c.metadata == conn.MetadataXML && c.privateKey == key.PrivateKeyPEM &&
		c.certificate == key.CertificatePEM && slices.Equal(c.audiences, conn.Audiences)
}

type providerCache struct {
	mu sync.Mutex
	m  map[providerKey]*cachedProvider
}

// get returns the provider built for k from conn and key, or nil.
func (c *providerCache) get(k providerKey, conn directory.SAMLConnection, key directory.SPKey) *provider {
	c.mu.Lock()
	e := c.m[k]
	c.mu.Unlock()
	if e == nil || !e.fits(conn, key) {
		return nil
	}
	return e.p
}

func (c *providerCache) put(k providerKey, conn directory.SAMLConnection, key directory.SPKey, p *provider) {
	e := &cachedProvider{metadata: conn.MetadataXML, privateKey: key.PrivateKeyPEM, certificate: key.CertificatePEM,
		audiences: slices.Clone(conn.Audiences), p: p}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxProviders {
		c.m = make(map[providerKey]*cachedProvider)
	}
	c.m[k] = e
}
