package directory

import (
	"sync"
	"time"
)

// samlCacheTTL is how long a SAML connection read for a sign-in is used
// again. Reading and decoding it (metadata, settings, the unsealed keys) was
// a tenth of an ACS request's work; a second is short enough that a change
// made on another replica, such as a connection disabled, applies there
// before anyone could notice.
const samlCacheTTL = time.Second

// maxSAMLCache bounds the cache; when full it is emptied and fills again
// with the organizations signing people in.
const maxSAMLCache = 4096

type samlCache struct {
	mu  sync.Mutex
	m   map[string]cachedSAML
	gen uint64 // moves with every forget, so a read that raced a write is not kept
}

type cachedSAML struct {
	conn SAMLConnection
	read time.Time // by the wall clock, not the store's, which tests freeze
}

// get returns the connection kept for orgID, or the generation to pass to
// put with the connection read instead.
func (c *samlCache) get(orgID string) (SAMLConnection, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[orgID]
	if !ok || time.Since(e.read) > samlCacheTTL {
		return SAMLConnection{}, false, c.gen
	}
	return e.conn, true, c.gen
}

// put keeps conn, read after get returned gen, unless a write committed
// meanwhile.
func (c *samlCache) put(orgID string, conn SAMLConnection, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxSAMLCache {
		c.m = make(map[string]cachedSAML)
	}
	c.m[orgID] = cachedSAML{conn: conn, read: time.Now()}
}

func (c *samlCache) forget(orgID string) {
	c.mu.Lock()
	delete(c.m, orgID)
	c.gen++
	c.mu.Unlock()
}
